"""The lifter's configuration and input conventions, without torch (read by the NumPy forward
pass, ``lifter_numpy``, which ``vidmimic estimate`` uses so as not to import torch)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from retargeting.smpl import SMPL_JOINTS

NUM_BETAS = 10
"""Shape coefficients the network outputs: ``body_model``'s bone-length shape space."""

BODY_KEYPOINTS = list(range(5, 17))  # COCO-17 shoulders .. ankles: the paper's 12 heatmaps
GRID = 32
FLOW_SCALE = 30.0  # crop widths per frame -> about unit size
INPUTS = ("flow+keypoints", "keypoints", "flow")
NUM_PARAMS = 24 * 6 + NUM_BETAS + 3
TRAINING_FPS = 30.0
"""Frames/s of the synthetic training clips; a faster video is read at this rate (``lifter_estimator.predict_video``)."""
SMPL_MIRROR = np.array([SMPL_JOINTS.index(n.replace("left", "#").replace("right", "left").replace("#", "right")) for n in SMPL_JOINTS])
"""SMPL joint of each joint's mirror image (left <-> right), for mirrored clips and readings."""


@dataclass(frozen=True)
class LifterConfig:
    inputs: str = "flow+keypoints"
    """Which motion cues the network sees: ``flow+keypoints``, ``keypoints`` or ``flow``."""
    window: int = 31
    """Frames per training clip and per inference window."""
    channels: tuple[int, ...] = (32, 64, 128)
    """CNN widths; every layer halves the grid."""
    features: int = 256
    """Per-frame feature size before the LSTM."""
    lstm: int = 128
    """LSTM units per direction."""
    iterations: int = 3
    """Steps of the iterative regressor."""
    heatmap_sigma: float = 1.5
    """Heatmap Gaussian in grid cells."""
    confidence_model: str = "uniform"
    """How the synthetic keypoint confidences it was trained on are distributed (not part of the
    network): ``uniform`` as generated, or ``mediapipe`` (see :func:`synthetic_confidence`)."""

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> LifterConfig:
        d = dict(d)
        d["channels"] = tuple(d["channels"])
        return LifterConfig(**d)

    def same_network(self, other: LifterConfig) -> bool:
        """Whether weights of ``other`` fit this network. The confidence model and the window may
        differ: no weight depends on the clip length (per-frame CNN, LSTM over the clip)."""
        return replace(self, confidence_model=other.confidence_model, window=other.window) == other

    @property
    def uses_flow(self) -> bool:
        return "flow" in self.inputs

    @property
    def uses_keypoints(self) -> bool:
        return "keypoints" in self.inputs


CONFIDENCE_MODELS = ("uniform", "mediapipe")
SYNTHETIC_VISIBLE = (0.75, 1.0)  # the generator's confidence range for visible keypoints


def synthetic_confidence(confidence: np.ndarray, model: str) -> np.ndarray:
    """Synthetic keypoint confidences ``(..., 17)`` as the lifter of confidence ``model`` sees them.

    The generator draws visible keypoints' confidences uniformly in 0.75-1 (``uniform``).
    MediaPipe is surer: on the real harness half its body keypoints are above 0.99 and one in
    ten below 0.88. ``mediapipe`` maps the visible range onto such a distribution,
    ``c -> 1 - 0.25 (4 (1 - c))^5`` (rank kept: 0.75 and 1 stay, the median becomes 0.99, the
    10th percentile 0.85); hidden (< 0.75) and missing (0) keypoints keep theirs.
    """
    if model not in CONFIDENCE_MODELS:
        raise ValueError(f"confidence model must be one of {CONFIDENCE_MODELS}, got {model!r}")
    if model == "uniform":
        return confidence
    low, high = SYNTHETIC_VISIBLE
    visible = confidence >= low
    spread = high - low
    mapped = high - spread * ((high - np.clip(confidence, low, high)) / spread) ** 5
    return np.where(visible, mapped, confidence).astype(confidence.dtype)
