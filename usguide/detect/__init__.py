"""Needle detection: preprocessing, ONNX model, post-processing, classical baseline."""
