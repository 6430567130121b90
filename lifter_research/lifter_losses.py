"""The lifter's losses, each named after what it measures (all means over frames and joints)."""

from __future__ import annotations

import torch


def procrustes_aligned(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``predicted (N, J, 3)`` aligned to ``target`` by rotation, scale and translation (differentiable)."""
    mu_p, mu_t = predicted.mean(dim=1, keepdim=True), target.mean(dim=1, keepdim=True)
    p, q = predicted - mu_p, target - mu_t
    u, s, vh = torch.linalg.svd(p.transpose(1, 2) @ q)
    d = torch.sign(torch.linalg.det(vh.transpose(1, 2) @ u.transpose(1, 2)))
    fix = torch.ones_like(s)
    fix[:, -1] = d
    r = vh.transpose(1, 2) @ torch.diag_embed(fix) @ u.transpose(1, 2)
    scale = (s * fix).sum(dim=1) / (p**2).sum(dim=(1, 2)).clamp_min(1e-9)
    return scale[:, None, None] * p @ r.transpose(1, 2) + mu_t


def pa_joint_error(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean distance (m) after Procrustes alignment per frame; ``(..., J, 3)``."""
    p, t = predicted.flatten(0, -3), target.flatten(0, -3)
    return (procrustes_aligned(p, t) - t).norm(dim=-1).mean()


def camera_frame_joint_error(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean distance (m) between pelvis-relative joints ``(..., J, 3)`` in the camera frame, unaligned."""
    return (predicted - target).norm(dim=-1).mean()


def reprojection_error(joints: torch.Tensor, camera: torch.Tensor, target_2d: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """Mean L1 (crop widths) between weak-perspective projections and the 2D truth.

    ``joints (B, T, J, 3)`` pelvis-relative camera frame; ``camera (B, T, 3)`` = s, tx, ty;
    ``target_2d (B, T, J, 2)``; ``visible (B, T)`` frames that count.
    """
    projected = camera[..., None, :1] * joints[..., :2] + camera[..., None, 1:]
    per_frame = (projected - target_2d).abs().mean(dim=(-1, -2))
    w = visible.float()
    return (per_frame * w).sum() / w.sum().clamp_min(1.0)


def rotation_error(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared Frobenius distance between rotation matrices ``(..., 3, 3)``."""
    return ((predicted - target) ** 2).sum(dim=(-1, -2)).mean()
