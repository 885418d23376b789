"""OpenIGTLink: stream guidance to 3D Slicer and PLUS (needs the ``igt`` extra, ``pyigtl``)."""
