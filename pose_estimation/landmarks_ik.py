"""The baseline estimator: MediaPipe's 3D world landmarks -> SMPL rotations by inverse kinematics.

Landmarks are smoothed over time and gaps (frames without a person) are filled by linear
interpolation; then each frame's SMPL world rotations are fitted on the embedded SMPL
skeleton, so bone lengths are fixed for the whole video:

* pelvis, chest (spine3) and head: full frames from a left-right pair (hips, shoulders,
  ears) and an up direction; spine1/spine2 are slerped between pelvis and chest;
* limbs (hips, knees, shoulders, elbows, ankles, wrists): the smallest rotation that points
  the rest bone at the landmark of the next joint, applied after the parent's rotation.

The root translation comes from the 2D keypoints: with a pinhole camera of focal length
``max(width, height)`` px at the image centre (a typical phone main camera), the hip
centre's position is the least-squares solution that projects the world landmarks onto the
detected pixels. Camera coordinates (x right, y down, z away) become vidmimic's Y-up world
by a half turn about x, so the person stands upright and faces +Z when facing the camera.
"""

from __future__ import annotations

import numpy as np

from characters import rotations as rot
from pose_estimation.camera import CAMERA_TO_WORLD
from retargeting.cleanup import gaussian_smooth, smooth_rotations
from retargeting.smpl import SmplMotion, smpl_skeleton

# MediaPipe Pose landmark indices.
MP = {
    "nose": 0, "left_ear": 7, "right_ear": 8, "left_shoulder": 11, "right_shoulder": 12, "left_elbow": 13,
    "right_elbow": 14, "left_wrist": 15, "right_wrist": 16, "left_pinky": 17, "right_pinky": 18,
    "left_index": 19, "right_index": 20, "left_hip": 23, "right_hip": 24, "left_knee": 25, "right_knee": 26,
    "left_ankle": 27, "right_ankle": 28, "left_foot_index": 31, "right_foot_index": 32,
}
# Landmarks used to place the root (the 12 body joints).
TRANSLATION_LANDMARKS = [MP[f"{s}_{j}"] for s in ("left", "right") for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")]
# Limb joints fitted by swing: SMPL joint -> (SMPL child whose direction is matched, MediaPipe start, end).
LIMBS = [
    ("left_hip", "left_knee", "left_hip", "left_knee"), ("right_hip", "right_knee", "right_hip", "right_knee"),
    ("left_knee", "left_ankle", "left_knee", "left_ankle"), ("right_knee", "right_ankle", "right_knee", "right_ankle"),
    ("left_ankle", "left_foot", "left_ankle", "left_foot_index"), ("right_ankle", "right_foot", "right_ankle", "right_foot_index"),
    ("left_shoulder", "left_elbow", "left_shoulder", "left_elbow"), ("right_shoulder", "right_elbow", "right_shoulder", "right_elbow"),
    ("left_elbow", "left_wrist", "left_elbow", "left_wrist"), ("right_elbow", "right_wrist", "right_elbow", "right_wrist"),
]


def landmarks_from_joints(joints: np.ndarray) -> np.ndarray:
    """MediaPipe-like landmarks ``(T, 33, 3)`` placed on SMPL joints ``(T, 24, 3)`` (same frame).

    The body joints map one to one; ears sit beside the head joint along the shoulder line.
    Landmarks MediaPipe has but SMPL lacks (face, fingers, heels) are left at zero. Used to
    check the IK on mocap with known truth.
    """
    from retargeting.smpl import SMPL_JOINTS

    j = {n: joints[:, i] for i, n in enumerate(SMPL_JOINTS)}
    out = np.zeros((joints.shape[0], 33, 3))
    for side, other in (("left", "right"), ("right", "left")):
        for mp_name, smpl_name in (("shoulder", "shoulder"), ("elbow", "elbow"), ("wrist", "wrist"), ("hip", "hip"), ("knee", "knee"), ("ankle", "ankle"), ("foot_index", "foot")):
            out[:, MP[f"{side}_{mp_name}"]] = j[f"{side}_{smpl_name}"]
        out[:, MP[f"{side}_ear"]] = j["head"] + 0.23 * (j[f"{side}_shoulder"] - j[f"{other}_shoulder"])
    return out


def fill_gaps(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Linearly interpolate ``values (T, ...)`` over frames where ``present`` is False (hold at the ends)."""
    if present.all():
        return values.copy()
    if not present.any():
        raise ValueError("no frame has a person")
    t = np.arange(len(values))
    flat = values.reshape(len(values), -1)
    filled = np.stack([np.interp(t, t[present], flat[present, k]) for k in range(flat.shape[1])], axis=1)
    return filled.reshape(values.shape)


def _frame(left: np.ndarray, right: np.ndarray, up: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` frames with columns (left, up, forward) from a left-right pair and an up vector."""
    lateral = left - right
    lateral /= np.linalg.norm(lateral, axis=-1, keepdims=True)
    up = up - lateral * np.sum(up * lateral, axis=-1, keepdims=True)
    up /= np.linalg.norm(up, axis=-1, keepdims=True)
    return np.stack([lateral, up, np.cross(lateral, up)], axis=-1)


def fit_rotations(world: np.ndarray) -> np.ndarray:
    """SMPL world rotations ``(T, 24, 4)`` fitted to world landmarks ``(T, 33, 3)`` (Y up)."""
    skeleton = smpl_skeleton()
    names = skeleton.names
    rest = skeleton.rest_positions()
    rest_frame = skeleton.rest_frame("left_hip", "right_hip", "spine3")
    p = {k: world[:, i] for k, i in MP.items()}
    hip_mid = 0.5 * (p["left_hip"] + p["right_hip"])
    neck = 0.5 * (p["left_shoulder"] + p["right_shoulder"])
    head = 0.5 * (p["left_ear"] + p["right_ear"])

    def global_from(frame: np.ndarray) -> np.ndarray:
        return rot.from_matrix(frame @ rest_frame.T)

    frames = world.shape[0]
    g = rot.identity((frames, len(names)))
    g[:, names.index("pelvis")] = global_from(_frame(p["left_hip"], p["right_hip"], neck - hip_mid))
    chest = global_from(_frame(p["left_shoulder"], p["right_shoulder"], neck - hip_mid))
    g[:, names.index("spine1")] = rot.slerp(g[:, 0], chest, 1 / 3)
    g[:, names.index("spine2")] = rot.slerp(g[:, 0], chest, 2 / 3)
    for joint in ("spine3", "neck", "left_collar", "right_collar"):
        g[:, names.index(joint)] = chest
    g[:, names.index("head")] = global_from(_frame(p["left_ear"], p["right_ear"], head - neck))
    for joint in ("left_shoulder", "right_shoulder", "left_hip", "right_hip"):
        g[:, names.index(joint)] = g[:, skeleton.parents[names.index(joint)]]
    for joint, child, start, end in LIMBS:
        j, c = names.index(joint), names.index(child)
        parent_rot = g[:, skeleton.parents[j]] if joint.endswith(("_hip", "_shoulder")) else g[:, j]
        rest_dir = rot.rotate(parent_rot, np.broadcast_to(rest[c] - rest[j], (frames, 3)))
        g[:, j] = rot.multiply(rot.between(rest_dir, p[end] - p[start]), parent_rot)
        # The child starts from its parent's rotation (identity local) until it is fitted itself.
        g[:, c] = g[:, j]
    for joint in ("left_wrist", "right_wrist", "left_hand", "right_hand", "left_foot", "right_foot"):
        g[:, names.index(joint)] = g[:, skeleton.parents[names.index(joint)]]
    return g


OPTICAL_AXIS = np.array([0.0, 0.0, 1.0])  # camera frame: x right, y down, z forward


def solve_translation(world_cam: np.ndarray, pixels: np.ndarray, weights: np.ndarray, focal: float, centre: np.ndarray) -> np.ndarray:
    """Camera-frame positions ``(T, 3)`` m of the landmarks' origin (hip centre).

    ``world_cam (T, N, 3)`` landmarks relative to the origin (camera axes), ``pixels (T, N, 2)``,
    ``weights (T, N)``. Linear least squares of ``f (X + t)_xy = (u - c) (X + t)_z``.
    """
    u = pixels - centre
    x, y, z = world_cam[..., 0], world_cam[..., 1], world_cam[..., 2]
    zeros, fs = np.zeros_like(x), np.full_like(x, focal)
    rows_x = np.stack([fs, zeros, -u[..., 0]], axis=-1)
    rows_y = np.stack([zeros, fs, -u[..., 1]], axis=-1)
    a = np.concatenate([rows_x, rows_y], axis=1) * np.concatenate([weights, weights], axis=1)[..., None]
    b = np.concatenate([u[..., 0] * z - focal * x, u[..., 1] * z - focal * y], axis=1) * np.concatenate([weights, weights], axis=1)
    return np.stack([np.linalg.lstsq(a[i], b[i], rcond=None)[0] for i in range(len(a))])


def landmarks_to_smpl(
    world: np.ndarray,
    pixels: np.ndarray,
    visibility: np.ndarray,
    present: np.ndarray,
    fps: float,
    image_size: tuple[int, int],
    smooth_s: float = 0.05,
) -> SmplMotion:
    """SMPL motion from MediaPipe results of a video.

    Args:
        world: ``(T, 33, 3)`` m MediaPipe world landmarks (camera axes, hip-centred).
        pixels: ``(T, 33, 2)`` px 2D landmarks; visibility: ``(T, 33)``.
        present: ``(T,)`` frames where MediaPipe found the person.
        fps: frame rate; image_size: ``(width, height)`` px.
    """
    world = fill_gaps(world, present)
    pixels = fill_gaps(pixels, present)
    visibility = np.where(present[:, None], visibility, 0.0)
    sigma = smooth_s * fps
    world = gaussian_smooth(world, sigma, wrap=False)
    focal = float(max(image_size))
    centre = np.array(image_size, dtype=float) / 2.0
    picks = TRANSLATION_LANDMARKS
    weights = np.clip(visibility[:, picks], 0.05, 1.0)
    weights[~present] = 1.0  # interpolated frames: the filled pixels stand in for the detection
    t_cam = gaussian_smooth(solve_translation(world[:, picks], pixels[:, picks], weights, focal, centre), 2 * sigma, wrap=False)
    # MediaPipe sees a crop centred on the person, so its world landmarks face the viewing ray
    # through the hips, not the optical axis: turn them onto that ray, then place them again.
    # Otherwise a person crossing the view seems to turn by the change of the ray's angle.
    to_ray = rot.between(np.broadcast_to(OPTICAL_AXIS, t_cam.shape), t_cam)
    world = rot.rotate(to_ray[:, None], world)
    t_cam = gaussian_smooth(solve_translation(world[:, picks], pixels[:, picks], weights, focal, centre), 2 * sigma, wrap=False)

    world_up = world @ CAMERA_TO_WORLD.T
    global_rot = smooth_rotations(fit_rotations(world_up), sigma / 2, wrap=False)
    skeleton = smpl_skeleton()
    local = skeleton.local_from_global(global_rot)
    hip_mid = t_cam @ CAMERA_TO_WORLD.T
    smpl_hip_mid = 0.5 * (skeleton.offsets[skeleton.index("left_hip")] + skeleton.offsets[skeleton.index("right_hip")])
    pelvis = hip_mid - rot.rotate(global_rot[:, 0], np.broadcast_to(smpl_hip_mid, hip_mid.shape))
    return SmplMotion.from_local_rotations(local, pelvis, fps, skeleton)
