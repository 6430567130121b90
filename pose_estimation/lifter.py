"""The motion-based lifter (Doersch & Zisserman's Motion HMR, sized for a CPU).

Per frame, a small CNN reads a 32 x 32 grid over the person crop with up to 15 channels —
the crop's optical flow (2), Gaussian heatmaps of the 12 body keypoints (σ 1.5 cells, the
paper's 10 px at 224 px) weighted by the detector's confidence, and the total-occlusion flag —
and, with keypoints, also their crop coordinates and confidences. A bidirectional LSTM runs
over the clip's frames; HMR's iterative regressor (3 steps from a learned mean) turns each
frame's features into SMPL parameters: 24 rotations in the continuous 6D form (joint 0 the
pelvis in the camera frame), 10 shape coefficients (``body_model``) and a weak-perspective
camera ``(s, tx, ty)`` in crop coordinates.

Input tensors (B clips, T frames): ``keypoints (B, T, 17, 2)`` crop coordinates,
``confidence (B, T, 17)``, ``occluded (B, T)``, ``flow (B, T, 32, 32, 2)`` crop widths/frame.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from torch import nn

from pose_estimation.body_model import NUM_BETAS, matrix_from_6d

BODY_KEYPOINTS = list(range(5, 17))  # COCO-17 shoulders .. ankles: the paper's 12 heatmaps
GRID = 32
FLOW_SCALE = 30.0  # crop widths per frame -> about unit size
INPUTS = ("flow+keypoints", "keypoints", "flow")
NUM_PARAMS = 24 * 6 + NUM_BETAS + 3


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
    def from_dict(d: dict) -> "LifterConfig":
        d = dict(d)
        d["channels"] = tuple(d["channels"])
        return LifterConfig(**d)

    def same_network(self, other: "LifterConfig") -> bool:
        """Whether weights of ``other`` fit this network (the confidence model may differ)."""
        return replace(self, confidence_model=other.confidence_model) == other

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


def heatmaps(keypoints: torch.Tensor, confidence: torch.Tensor, sigma: float) -> torch.Tensor:
    """``(..., 12, GRID, GRID)`` Gaussian heatmaps of the body keypoints, scaled by confidence."""
    centres = (torch.arange(GRID, dtype=keypoints.dtype) + 0.5) / GRID
    kp = keypoints[..., BODY_KEYPOINTS, :]
    gx = torch.exp(-0.5 * ((centres - kp[..., 0:1]) * GRID / sigma) ** 2)  # (..., 12, GRID)
    gy = torch.exp(-0.5 * ((centres - kp[..., 1:2]) * GRID / sigma) ** 2)
    return gy[..., :, None] * gx[..., None, :] * confidence[..., BODY_KEYPOINTS, None, None]


class Lifter(nn.Module):
    def __init__(self, config: LifterConfig = LifterConfig()):
        super().__init__()
        assert config.inputs in INPUTS, f"inputs must be one of {INPUTS}, got {config.inputs!r}"
        self.config = config
        in_channels = 1 + (2 if config.uses_flow else 0) + (len(BODY_KEYPOINTS) if config.uses_keypoints else 0)
        layers: list[nn.Module] = []
        for k, width in enumerate(config.channels):
            layers += [nn.Conv2d(in_channels, width, 3, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            in_channels = width
        self.cnn = nn.Sequential(*layers)
        cells = GRID // 2 ** len(config.channels)
        extra = 17 * 3 if config.uses_keypoints else 0
        self.frame = nn.Sequential(nn.Linear(in_channels * cells * cells + extra, config.features), nn.ReLU(inplace=True))
        self.lstm = nn.LSTM(config.features, config.lstm, batch_first=True, bidirectional=True)
        self.regressor = nn.Sequential(
            nn.Linear(2 * config.lstm + NUM_PARAMS, 512), nn.ReLU(inplace=True), nn.Linear(512, 512), nn.ReLU(inplace=True), nn.Linear(512, NUM_PARAMS)
        )
        nn.init.zeros_(self.regressor[-1].weight)
        nn.init.zeros_(self.regressor[-1].bias)
        mean = torch.zeros(NUM_PARAMS)
        mean[: 24 * 6] = torch.tensor([1.0, 0, 0, 0, 1, 0]).repeat(24)
        mean[3:6] = torch.tensor([0.0, -1.0, 0.0])  # pelvis upright in camera axes (y down)
        mean[24 * 6 + NUM_BETAS :] = torch.tensor([0.9, 0.5, 0.5])
        self.mean = nn.Parameter(mean)

    def grid_input(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """``(B, T, C, GRID, GRID)`` the CNN's input channels."""
        occluded = batch["occluded"].float()
        shape = occluded.shape
        parts = [occluded[..., None, None, None].expand(*shape, 1, GRID, GRID)]
        if self.config.uses_flow:
            parts.append(batch["flow"].float().permute(0, 1, 4, 2, 3) * FLOW_SCALE)
        if self.config.uses_keypoints:
            parts.append(heatmaps(batch["keypoints"], batch["confidence"], self.config.heatmap_sigma))
        return torch.cat(parts, dim=2)

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Per frame: ``rotations (B, T, 24, 3, 3)``, ``betas (B, T, 10)``, ``camera (B, T, 3)``, and
        ``features (B, T, F)``, what the LSTM reads (domain classifiers look at it)."""
        x = self.grid_input(batch)
        b, t = x.shape[:2]
        features = self.cnn(x.flatten(0, 1)).flatten(1)
        if self.config.uses_keypoints:
            kp = torch.cat([(batch["keypoints"] - 0.5).flatten(2), batch["confidence"]], dim=-1).flatten(0, 1)
            features = torch.cat([features, kp], dim=-1)
        frame_features = self.frame(features).view(b, t, -1)
        features, _ = self.lstm(frame_features)
        params = self.mean.expand(b, t, -1)
        for _ in range(self.config.iterations):
            params = params + self.regressor(torch.cat([features, params], dim=-1))
        return {
            "rotations": matrix_from_6d(params[..., : 24 * 6].reshape(b, t, 24, 6)),
            "betas": params[..., 24 * 6 : 24 * 6 + NUM_BETAS],
            "camera": params[..., 24 * 6 + NUM_BETAS :],
            "features": frame_features,
        }
