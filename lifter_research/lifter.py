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

import numpy as np
import torch
from torch import nn

from lifter_research.body_model import matrix_from_6d
from pose_estimation.lifter_config import (  # noqa: F401 - re-exported: the lifter's names
    BODY_KEYPOINTS,
    CONFIDENCE_MODELS,
    FLOW_SCALE,
    GRID,
    INPUTS,
    NUM_BETAS,
    NUM_PARAMS,
    SYNTHETIC_VISIBLE,
    LifterConfig,
    synthetic_confidence,
)


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

    def predict_numpy(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """:meth:`forward` on NumPy arrays, without gradients and without ``features``: how
        ``pose_estimation.lifter_estimator.predict`` reads a network (as it reads ``NumpyLifter``)."""
        with torch.no_grad():
            return {k: v.numpy() for k, v in self({k: torch.as_tensor(v) for k, v in batch.items()}).items() if k != "features"}
