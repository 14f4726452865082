"""Deployment: ONNX export with a parity report, a torch-free runtime, and an HTTP server.

:mod:`mtdnn.export.runtime` and :mod:`mtdnn.export.manifest` import no PyTorch (a deployment
image needs none); :mod:`mtdnn.export.onnx` writes exports and needs PyTorch and the ``onnx``
extra.
"""
