"""Frame analysis: one frame in, one ``FrameResult`` out (``Analyzer``), live or as recorded."""
