"""Draw synthetic people: textured capsule bodies over a background at infinity, with occluders.

The body is SMPL's skeleton dressed in capsules (limbs, torso, head), each carrying its own
cloth texture fixed to the bone, so that optical flow inside the body follows the limbs. The
background is a procedural texture on a sphere at infinity: a turning camera shifts it, a
tripod does not. Occluders are patches of a second texture fixed to the background sphere and
drawn in front of the person. Only a requested square region of the virtual image is drawn,
at the flow's crop resolution, which is all the video front end ever looks at.

Image convention: pinhole camera, OpenCV axes (x right, y down, z forward), pixels ``(u, v)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from retargeting.smpl import SMPL_JOINTS

J = {n: i for i, n in enumerate(SMPL_JOINTS)}
# Capsules: (start joint, end joint, radius m, cloth: 0 top, 1 bottom, 2 skin, 3 shoes).
CAPSULES = [
    ("pelvis", "spine2", 0.125, 0), ("spine2", "neck", 0.13, 0), ("left_hip", "right_hip", 0.1, 1),
    ("left_collar", "right_collar", 0.07, 0), ("neck", "head", 0.055, 2),
    ("left_hip", "left_knee", 0.075, 1), ("left_knee", "left_ankle", 0.055, 1), ("left_ankle", "left_foot", 0.045, 3),
    ("right_hip", "right_knee", 0.075, 1), ("right_knee", "right_ankle", 0.055, 1), ("right_ankle", "right_foot", 0.045, 3),
    ("left_shoulder", "left_elbow", 0.048, 0), ("left_elbow", "left_wrist", 0.04, 2), ("left_wrist", "left_hand", 0.035, 2),
    ("right_shoulder", "right_elbow", 0.048, 0), ("right_elbow", "right_wrist", 0.04, 2), ("right_wrist", "right_hand", 0.035, 2),
]
HEAD_RADIUS = 0.1
CAPSULE_A = np.array([J[a] for a, _, _, _ in CAPSULES])
CAPSULE_B = np.array([J[b] for _, b, _, _ in CAPSULES])
CAPSULE_R = np.array([r for _, _, r, _ in CAPSULES])
CAPSULE_CLOTH = np.array([c for _, _, _, c in CAPSULES])
TEXTURE_SIZE = 64


def noise_texture(rng: np.random.Generator, size: tuple[int, int], colour: np.ndarray, contrast: float) -> np.ndarray:
    """``(h, w, 3)`` uint8: a colour with multi-scale noise, stripes or blotches (a print, a weave)."""
    h, w = size
    base = np.zeros((h, w), np.float32)
    for scale, weight in ((4, 1.0), (16, 0.6), (max(h, w) // 4, 0.4)):
        small = rng.normal(size=(max(2, h // scale), max(2, w // scale))).astype(np.float32)
        base += weight * cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    if rng.random() < 0.4:  # stripes
        period = rng.uniform(4, 16)
        angle = rng.uniform(0, np.pi)
        yy, xx = np.mgrid[0:h, 0:w]
        base += 1.5 * np.sign(np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)).astype(np.float32)
    base = base / (np.abs(base).max() + 1e-6)
    img = colour[None, None, :] * (1.0 + contrast * base[..., None])
    return np.clip(img, 0, 255).astype(np.uint8)


def shaded(texture: np.ndarray) -> np.ndarray:
    """The texture darkened towards its top and bottom rows: a round limb seen side-on."""
    v = np.linspace(-1.0, 1.0, texture.shape[0])[:, None, None]
    return (texture * (1.0 - 0.35 * v**2)).astype(np.uint8)


def scene_texture(rng: np.random.Generator, size: int = 1024) -> np.ndarray:
    """``(size, size, 3)`` uint8 background: noise at several scales plus random shapes and lines."""
    img = noise_texture(rng, (size, size), rng.uniform(60, 200, 3), contrast=rng.uniform(0.2, 0.6)).astype(np.float32)
    for _ in range(rng.integers(20, 60)):
        colour = rng.uniform(0, 255, 3).tolist()
        kind = rng.integers(3)
        x, y = rng.integers(0, size, 2)
        if kind == 0:
            w, h = rng.integers(10, size // 4, 2)
            cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)), colour, -1)
        elif kind == 1:
            cv2.ellipse(img, (int(x), int(y)), tuple(int(v) for v in rng.integers(5, size // 8, 2)), float(rng.uniform(0, 180)), 0, 360, colour, -1)
        else:
            x2, y2 = rng.integers(0, size, 2)
            cv2.line(img, (int(x), int(y)), (int(x2), int(y2)), colour, int(rng.integers(1, 6)))
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.5))
    return np.clip(img, 0, 255).astype(np.uint8)


@dataclass
class Look:
    """What a synthetic person and scene look like (drawn once per clip)."""

    cloth: list[np.ndarray]  # per capsule, (TEXTURE_SIZE, TEXTURE_SIZE, 3) uint8
    head: np.ndarray  # (TEXTURE_SIZE, TEXTURE_SIZE, 3)
    background: np.ndarray  # (S, S, 3) on the sphere at infinity
    occluder_texture: np.ndarray  # (S, S, 3)
    occluder_mask: np.ndarray  # (S, S) uint8, 1 where an occluder stands
    pixels_per_radian: float  # of the background and occluder maps

    @staticmethod
    def random(rng: np.random.Generator) -> Look:
        skin = np.array([rng.uniform(60, 200), rng.uniform(80, 210), rng.uniform(110, 240)])  # BGR
        cloths = [rng.uniform(20, 235, 3) for _ in range(2)] + [skin, rng.uniform(10, 120, 3)]
        per_cloth = [shaded(noise_texture(rng, (TEXTURE_SIZE, TEXTURE_SIZE), c, rng.uniform(0.15, 0.5))) for c in cloths]
        forearm = [i for i, c in enumerate(CAPSULES) if c[0].endswith("elbow")] if rng.random() < 0.5 else []  # long sleeves
        cloth = [per_cloth[0] if i in forearm else per_cloth[c] for i, c in enumerate(CAPSULE_CLOTH)]
        hair = noise_texture(rng, (TEXTURE_SIZE, TEXTURE_SIZE), rng.uniform(10, 120, 3), 0.3)
        head = per_cloth[2].copy()
        hairline = int(TEXTURE_SIZE * rng.uniform(0.3, 0.6))  # texture columns before it are hair
        head[:, :hairline] = hair[:, :hairline]  # texture x runs down the head
        size = 1024
        return Look(cloth, head, scene_texture(rng, size), scene_texture(rng, size), np.zeros((size, size), np.uint8), pixels_per_radian=size / 1.6)

    def canvas_xy(self, directions: np.ndarray) -> np.ndarray:
        """``(..., 2)`` position on the background maps of world ``directions (..., 3)`` (any length)."""
        s = self.background.shape[0]
        yaw = np.arctan2(directions[..., 0], directions[..., 2])
        pitch = np.arctan2(directions[..., 1], np.hypot(directions[..., 0], directions[..., 2]))
        return np.stack([yaw * self.pixels_per_radian + s / 2, pitch * self.pixels_per_radian + s / 2], axis=-1)

    def add_occluder(self, rng: np.random.Generator, direction: np.ndarray, size_rad: float) -> None:
        """A random convex blob of about ``size_rad`` across, in world ``direction (3,)`` seen from the camera."""
        centre = self.canvas_xy(direction)
        radius = size_rad * self.pixels_per_radian / 2
        points = centre + rng.normal(scale=radius, size=(int(rng.integers(4, 9)), 2))
        cv2.fillConvexPoly(self.occluder_mask, cv2.convexHull(points.astype(np.int32)), 1)


def _rays(region: np.ndarray, size: int, focal: float, centre: np.ndarray) -> np.ndarray:
    """``(size, size, 3)`` float32 camera-frame rays (not normalised) through the pixel centres of the square ``region`` (x0, y0, x1, y1)."""
    step = (region[2] - region[0]) / size
    u = ((region[0] + (np.arange(size) + 0.5) * step - centre[0]) / focal).astype(np.float32)
    v = ((region[1] + (np.arange(size) + 0.5) * step - centre[1]) / focal).astype(np.float32)
    rays = np.empty((size, size, 3), np.float32)
    rays[..., 0] = u[None, :]
    rays[..., 1] = v[:, None]
    rays[..., 2] = 1.0
    return rays


def draw_region(
    look: Look, joints_cam: np.ndarray, camera_rot: np.ndarray, region: np.ndarray, size: int, focal: float, centre: np.ndarray,
    occluders_on: bool,
) -> np.ndarray:
    """Grey ``(size, size)`` uint8 image of ``region`` (px of the virtual image) for one frame.

    ``joints_cam (24, 3)`` m in the camera frame; ``camera_rot (3, 3)`` world -> camera, which
    decides where the background and occluders are.
    """
    xy = look.canvas_xy(_rays(region, size, focal, centre) @ camera_rot.astype(np.float32))  # world directions: d_cam @ R = R^T d_cam
    s = look.background.shape[0]
    map_x = (xy[..., 0] % s).astype(np.float32)
    map_y = (xy[..., 1] % s).astype(np.float32)
    image = cv2.remap(look.background, map_x, map_y, cv2.INTER_LINEAR).astype(np.uint8)
    scale = size / (region[2] - region[0])
    z = joints_cam[:, 2]
    uv = (focal * joints_cam[:, :2] / z[:, None] + centre - region[:2]) * scale
    depth = 0.5 * (z[CAPSULE_A] + z[CAPSULE_B])
    head_depth = z[J["head"]]
    parts = [(d, i) for i, d in enumerate(depth)] + [(head_depth, -1)]
    for _, i in sorted(parts, reverse=True):  # far to near
        if i < 0:
            a = b = uv[J["head"]] + np.array([0.0, -0.3 * HEAD_RADIUS * focal / head_depth * scale])
            radius = HEAD_RADIUS * focal / head_depth * scale
            texture = look.head
        else:
            a, b = uv[CAPSULE_A[i]], uv[CAPSULE_B[i]]
            radius = CAPSULE_R[i] * focal / depth[i] * scale
            texture = look.cloth[i]
        _paint_capsule(image, texture, a, b, radius)
    if occluders_on:
        occ_map = cv2.remap(look.occluder_mask, map_x, map_y, cv2.INTER_NEAREST)
        if occ_map.any():
            tex = cv2.remap(look.occluder_texture, map_x, map_y, cv2.INTER_LINEAR)
            image[occ_map > 0] = tex[occ_map > 0]
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _paint_capsule(image: np.ndarray, texture: np.ndarray, a: np.ndarray, b: np.ndarray, radius: float) -> None:
    """Paint a capsule from ``a`` to ``b`` (px) of ``radius`` px with ``texture`` fixed to its axis."""
    if not np.all(np.isfinite([*a, *b, radius])) or radius <= 0.3:
        return
    h, w = image.shape[:2]
    lo = np.floor(np.minimum(a, b) - radius - 1).astype(int)
    hi = np.ceil(np.maximum(a, b) + radius + 1).astype(int)
    x0, y0 = max(lo[0], 0), max(lo[1], 0)
    x1, y1 = min(hi[0], w), min(hi[1], h)
    if x1 <= x0 or y1 <= y0:
        return
    axis = b - a
    length = float(np.linalg.norm(axis))
    along = axis / length if length > 1e-6 else np.array([0.0, 1.0])
    across = np.array([-along[1], along[0]])
    # Texture coordinates: u along the axis over [-r, L + r], v across over [-r, r] -> [0, T).
    t = TEXTURE_SIZE
    span = length + 2 * radius
    # Image point p = a + along * (u_tex / t * span - r) + across * (v_tex / t * 2r - r)
    m = np.column_stack([along * span / t, across * 2 * radius / t, a - along * radius - across * radius - np.array([x0, y0])])
    patch = cv2.warpAffine(texture, m.astype(np.float64), (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    thickness = max(1, int(round(2 * radius)))
    cv2.line(mask, tuple(np.round(a - [x0, y0]).astype(int)), tuple(np.round(b - [x0, y0]).astype(int)), 1, thickness, cv2.LINE_8)
    inside = mask > 0
    image[y0:y1, x0:x1][inside] = patch[inside]
