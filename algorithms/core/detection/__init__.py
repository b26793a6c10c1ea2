"""Cloud detection: the ONNX model contract, sessions, model input, the plain and fast paths."""
