"""Pure-Python pieces, free of torch, shared by training and the runtime of exported models.

An exported model (``mtdnn export``) predicts with onnxruntime alone, so whatever turns text into
rows and scores into records must be importable without PyTorch. The heads and encoders use the
same functions, which keeps a run directory's predictions and an export's identical.
"""
