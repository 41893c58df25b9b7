"""ONNX import internals: the file reader (``proto``), the op table (``ops``), constant
folding (``constants``), the fixed layers the table builds (``layers``) and pooling,
MaxPool in its exact ReLU form (``pooling``). The public entry is certprune.onnx_io."""
