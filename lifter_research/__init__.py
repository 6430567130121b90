"""The lifter's research: its torch network, losses, synthetic people and their rendering, datasets,
training and its techniques, the evaluation and real-data harnesses, multi-person scoring and the
paired bootstrap. It may import the product path (``pose_estimation``); never the reverse. What it
ships is the weights in ``pose_estimation/weights`` (``lifter.pt`` and the NumPy copy ``lifter.npz``
that ``vidmimic estimate`` reads). Its tables, ablations and diagnostics are in ``scripts/``.
"""
