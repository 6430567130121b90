"""Calibrated cameras, triangulation and the 3D error measures of the real-data harness.

Camera convention (OpenCV): ``x_cam = R @ X_world + t``; pixels = ``K`` applied to the
distorted normalised coordinates. World units are metres.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from characters.errors import input_error

_QUALISYS_SUBPIXELS = 64.0  # Qualisys stores intrinsics in 1/64 pixel units


@dataclass(frozen=True)
class Camera:
    name: str
    K: np.ndarray  # (3, 3) px
    dist: np.ndarray  # (5,) k1, k2, p1, p2, k3
    R: np.ndarray  # (3, 3) world -> camera
    t: np.ndarray  # (3,) m
    size: tuple[int, int]  # width, height px

    @property
    def projection(self) -> np.ndarray:
        """``(3, 4)`` matrix for undistorted pixels."""
        return self.K @ np.concatenate([self.R, self.t[:, None]], axis=1)

    def project(self, points: np.ndarray) -> np.ndarray:
        """World points ``(..., 3)`` m -> distorted pixels ``(..., 2)``."""
        flat = points.reshape(-1, 3)
        rvec, _ = cv2.Rodrigues(self.R)
        px, _ = cv2.projectPoints(flat, rvec, self.t, self.K, self.dist)
        return px.reshape(points.shape[:-1] + (2,))

    def undistort(self, pixels: np.ndarray) -> np.ndarray:
        """Distorted pixels ``(..., 2)`` -> undistorted pixels ``(..., 2)``."""
        flat = pixels.reshape(-1, 1, 2).astype(np.float64)
        out = cv2.undistortPoints(flat, self.K, self.dist, P=self.K)
        return out.reshape(pixels.shape)


def read_qualisys(path: str | Path) -> list[Camera]:
    """Cameras of a Qualisys ``.qca.txt`` calibration.

    Each camera's ``transform`` holds a rotation matrix and the camera's position (mm). The
    matrix is used as the world-to-camera rotation of a camera that looks along -z with y up;
    OpenCV's camera looks along +z with y down, hence the flip of y and z. This reading was
    checked against the alternatives (transpose, other axis flips) by triangulating
    MediaPipe keypoints of the 4 views: it alone gives a reprojection error of the expected
    size (~12 px median; the others 60 px and more).
    """
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise input_error(path, f"cannot read the calibration ({exc})") from None
    cameras = []
    flip = np.diag([1.0, -1.0, -1.0])
    for cam in root.iter("camera"):
        tr, intr, fov = cam.find("transform"), cam.find("intrinsic"), cam.find("fov_video")
        matrix = np.array([[float(tr.get(f"r{i}{j}")) for j in (1, 2, 3)] for i in (1, 2, 3)])
        position = np.array([float(tr.get(k)) for k in ("x", "y", "z")]) / 1000.0
        r = flip @ matrix
        left, top = float(fov.get("left")), float(fov.get("top"))
        k = np.array([
            [float(intr.get("focalLengthU")) / _QUALISYS_SUBPIXELS, 0.0, float(intr.get("centerPointU")) / _QUALISYS_SUBPIXELS - left],
            [0.0, float(intr.get("focalLengthV")) / _QUALISYS_SUBPIXELS, float(intr.get("centerPointV")) / _QUALISYS_SUBPIXELS - top],
            [0.0, 0.0, 1.0],
        ])
        dist = np.array([float(intr.get(n)) for n in ("radialDistortion1", "radialDistortion2", "tangentalDistortion1", "tangentalDistortion2", "radialDistortion3")])
        size = (int(float(fov.get("right")) - left + 1), int(float(fov.get("bottom")) - top + 1))
        cameras.append(Camera(cam.get("serial"), k, dist, r, -r @ position, size))
    if not cameras:
        raise input_error(path, "no <camera> entries")
    return cameras


def triangulate(cameras: list[Camera], pixels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Confidence-weighted DLT.

    Args:
        pixels: ``(C, T, J, 2)`` distorted pixels per camera; weights: ``(C, T, J)`` (0 = unseen).
    Returns:
        ``(T, J, 3)`` m; NaN where fewer than two cameras see a joint.
    """
    undistorted = np.stack([cam.undistort(p) for cam, p in zip(cameras, pixels)])
    proj = np.stack([cam.projection for cam in cameras])  # (C, 3, 4)
    c, t, j = weights.shape
    u = undistorted[..., 0][..., None] * proj[:, None, None, 2] - proj[:, None, None, 0]  # (C, T, J, 4)
    v = undistorted[..., 1][..., None] * proj[:, None, None, 2] - proj[:, None, None, 1]
    w = weights[..., None]
    rows = np.concatenate([u * w, v * w], axis=0)  # (2C, T, J, 4)
    a = np.moveaxis(rows, 0, 2)  # (T, J, 2C, 4)
    _, _, vt = np.linalg.svd(a)
    x = vt[..., -1, :]
    points = x[..., :3] / x[..., 3:4]
    seen = (weights > 0).sum(axis=0) >= 2
    points[~seen] = np.nan
    return points


def mpjpe(predicted: np.ndarray, target: np.ndarray) -> float:
    """Mean per-joint position error (same units as the inputs) over ``(..., J, 3)``."""
    return float(np.nanmean(np.linalg.norm(predicted - target, axis=-1)))


def procrustes_align(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``predicted (T, J, 3)`` aligned per frame to ``target`` by rotation, translation and scale."""
    mu_p = predicted.mean(axis=1, keepdims=True)
    mu_t = target.mean(axis=1, keepdims=True)
    p, q = predicted - mu_p, target - mu_t
    h = np.einsum("tji,tjk->tik", p, q)
    u, s, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.einsum("tij,tjk->tik", vt.transpose(0, 2, 1), u.transpose(0, 2, 1))))
    s[:, -1] *= d
    vt[:, -1] *= d[:, None]
    r = np.einsum("tij,tjk->tik", vt.transpose(0, 2, 1), u.transpose(0, 2, 1))
    scale = s.sum(axis=1) / np.sum(p**2, axis=(1, 2))
    return scale[:, None, None] * np.einsum("tij,tkj->tki", r, p) + mu_t


def pa_mpjpe(predicted: np.ndarray, target: np.ndarray) -> float:
    """MPJPE after per-frame Procrustes alignment with scale (frames with any NaN are skipped)."""
    ok = ~np.isnan(target).any(axis=(1, 2)) & ~np.isnan(predicted).any(axis=(1, 2))
    return mpjpe(procrustes_align(predicted[ok], target[ok]), target[ok])
