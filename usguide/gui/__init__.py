"""Qt display: the only package that imports PyQt5 or pyqtgraph."""
