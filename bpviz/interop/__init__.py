"""Exchange with other tools in the import direction: micrograd-style `Value` expressions,
ONNX models and torch.fx-traceable modules become scene dicts.

Kept light: onnx and torch are imported only by the functions that read them.
"""
