"""ONNX export: ``glassnet.onnx.export(model, "model.onnx", example_input)``.

Needs the optional extra ``glassnet[onnx]`` (the ``onnx`` package; ``onnxruntime``
to run the result). See :mod:`glassnet.onnx.export` for what is mapped.
"""

from .export import DEFAULT_OPSET, ExportError, export, register_converter

__all__ = ["DEFAULT_OPSET", "ExportError", "export", "register_converter"]
