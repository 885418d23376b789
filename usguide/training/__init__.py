"""Model training on simulator data (optional `train` extra: torch, onnx)."""
