"""Losses on real, unlabelled clips: SimPose's 2D-only terms and DANN's domain classifier.

* SimPose (Zhu, Karlsson, Bregler): real clips share every batch with synthetic ones (so the
  batch-normalised layers see both domains) and, having no 3D truth, are masked to the 2D
  losses — reprojection of the 12 body joints onto the detector's keypoints (weighted by its
  confidence) and temporal consistency (small joint and camera accelerations).
* DANN (Ganin et al.): a small classifier tells synthetic from real per-frame features (what
  the lifter's LSTM reads) through a gradient-reversal layer, so the features are pushed to
  carry no domain.
"""

from __future__ import annotations

import torch
from torch import nn

from lifter_research.real_harness import COCO12, SMPL12


def reprojection_to_detections(joints: torch.Tensor, camera: torch.Tensor, keypoints: torch.Tensor, confidence: torch.Tensor) -> torch.Tensor:
    """Confidence-weighted mean L1 (crop widths) between the projected body joints and the detector's.

    ``joints (B, T, 24, 3)`` pelvis-relative camera frame, ``camera (B, T, 3)`` weak perspective,
    ``keypoints (B, T, 17, 2)`` crop coordinates, ``confidence (B, T, 17)`` (zero where occluded).
    """
    projected = camera[..., None, :1] * joints[..., SMPL12, :2] + camera[..., None, 1:]
    w = confidence[..., COCO12]
    return ((projected - keypoints[..., COCO12, :]).abs().sum(-1) * w).sum() / (2 * w.sum()).clamp_min(1.0)


def temporal_consistency(joints: torch.Tensor, camera: torch.Tensor) -> torch.Tensor:
    """Mean squared second difference over frames of ``joints (B, T, J, 3)`` (m) and ``camera (B, T, 3)``."""
    accel = joints[:, 2:] - 2 * joints[:, 1:-1] + joints[:, :-2]
    cam_accel = camera[:, 2:] - 2 * camera[:, 1:-1] + camera[:, :-2]
    return (accel**2).sum(-1).mean() + (cam_accel**2).sum(-1).mean()


class GradientReversal(torch.autograd.Function):
    """Identity forward; the gradient times ``-scale`` backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.scale * grad, None


class DomainClassifier(nn.Module):
    """Per-frame logit that a feature vector ``(..., F)`` came from a real video."""

    def __init__(self, features: int, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1))

    def forward(self, features: torch.Tensor, reversal: float) -> torch.Tensor:
        return self.net(GradientReversal.apply(features, reversal)).squeeze(-1)


def domain_loss(classifier: DomainClassifier, synthetic: torch.Tensor, real: torch.Tensor, reversal: float) -> torch.Tensor:
    """Binary cross-entropy of the classifier on per-frame features ``(B, T, F)`` of both domains."""
    logits = classifier(torch.cat([synthetic.flatten(0, 1), real.flatten(0, 1)]), reversal)
    labels = torch.cat([torch.zeros(synthetic.shape[0] * synthetic.shape[1]), torch.ones(real.shape[0] * real.shape[1])])
    return nn.functional.binary_cross_entropy_with_logits(logits, labels)


def dann_schedule(progress: float) -> float:
    """Ganin et al.'s reversal weight ``2 / (1 + exp(-10 p)) - 1`` over training progress ``p`` in [0, 1]."""
    return float(2.0 / (1.0 + torch.exp(torch.tensor(-10.0 * progress))) - 1.0)
