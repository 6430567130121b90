"""The estimate's camera conventions, in one place: camera axes -> world, the pinhole projection, person boxes.

Camera axes are OpenCV's: x right, y down, z away from the camera. The estimate's world is
vidmimic's Y-up frame centred on the camera: x right, y up, z towards the camera, reached by a
half turn about x (:data:`CAMERA_TO_WORLD`), so a person facing the camera stands upright and faces +Z.
The camera is a pinhole of focal length ``max(width, height)`` px at the image centre (a typical
phone main camera). Boxes are ``(4,)`` arrays ``x0, y0, x1, y1`` in pixels.
"""

from __future__ import annotations

import numpy as np

CAMERA_TO_WORLD = np.diag([1.0, -1.0, -1.0])  # x right, y down, z away  ->  x right, y up, z towards the camera
BOX_SMOOTHING = 0.6  # weight of the previous box in the person box's exponential smoothing


def project(points_world: np.ndarray, image_size: np.ndarray) -> np.ndarray:
    """Project Y-up world points ``(..., 3)`` (the estimate's camera frame) to pixels ``(..., 2)``."""
    cam = points_world @ CAMERA_TO_WORLD.T
    focal = float(max(image_size))
    return focal * cam[..., :2] / np.maximum(cam[..., 2:3], 1e-3) + image_size / 2.0


def square_box(box: np.ndarray, margin: float = 0.15) -> np.ndarray:
    """``(4,)`` x0, y0, x1, y1 -> a square box around it, ``margin`` of its side added on each side."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = max(box[2] - box[0], box[3] - box[1]) * (0.5 + margin)
    return np.array([cx - half, cy - half, cx + half, cy + half])


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two ``(4,)`` x0, y0, x1, y1 boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
