"""``SmplMotion``: SMPL body motion (24 joints, axis-angle), and the SMPL kinematic tree.

The rest skeleton embedded here is SMPL's neutral body at mean shape (betas = 0): joint
offsets from parent, in metres, Y up, the body facing +Z with its left on +X. The figures
are the joint locations that SMPL's joint regressor gives on its neutral template
(Loper et al. 2015, SMPL 1.1 neutral model), rounded to 0.1 mm, as widely reproduced in
open SMPL tooling; no SMPL model file is shipped (its licence forbids it). They fix bone
directions and proportions for retargeting and FK. With a user's own SMPL model
(``smpl_skeleton(model_path=..., betas=...)``), smplx gives the exact, shape-dependent joints.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from characters import rotations as rot
from characters.skeleton import Skeleton

SMPL_JOINTS = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand",
)
SMPL_PARENTS = np.array([-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21])
NUM_SMPL_JOINTS = 24

# Rest pelvis position of the neutral template (m): SMPL rotates the body about it, so a
# posed pelvis sits at trans + this point.
SMPL_REST_PELVIS = np.array([0.0019, -0.2231, 0.0282])
SMPL_REST_OFFSETS = np.array(
    [
        SMPL_REST_PELVIS,
        [0.0695, -0.0914, -0.0068],  # left_hip
        [-0.0677, -0.0905, -0.0043],  # right_hip
        [-0.0025, 0.1089, -0.0267],  # spine1
        [0.0343, -0.3752, -0.0045],  # left_knee
        [-0.0383, -0.3826, -0.0089],  # right_knee
        [0.0055, 0.1352, 0.0011],  # spine2
        [-0.0136, -0.3980, -0.0437],  # left_ankle
        [0.0158, -0.3984, -0.0423],  # right_ankle
        [0.0015, 0.0529, 0.0254],  # spine3
        [0.0264, -0.0558, 0.1193],  # left_foot
        [-0.0254, -0.0481, 0.1233],  # right_foot
        [-0.0028, 0.2139, -0.0429],  # neck
        [0.0788, 0.1217, -0.0341],  # left_collar
        [-0.0818, 0.1188, -0.0386],  # right_collar
        [0.0052, 0.0650, 0.0513],  # head
        [0.0910, 0.0305, -0.0089],  # left_shoulder
        [-0.0960, 0.0326, -0.0091],  # right_shoulder
        [0.2596, -0.0128, -0.0275],  # left_elbow
        [-0.2537, -0.0133, -0.0157],  # right_elbow
        [0.2493, 0.0090, -0.0012],  # left_wrist
        [-0.2553, 0.0078, -0.0060],  # right_wrist
        [0.0840, -0.0082, -0.0149],  # left_hand
        [-0.0846, -0.0061, -0.0103],  # right_hand
    ]
)


@functools.lru_cache(maxsize=1)
def _embedded_skeleton() -> Skeleton:
    return Skeleton(SMPL_JOINTS, SMPL_PARENTS, SMPL_REST_OFFSETS.copy())


def smpl_skeleton(model_path: str | Path | None = None, betas: np.ndarray | None = None) -> Skeleton:
    """SMPL's kinematic tree; embedded mean-shape offsets, or exact ones from a user's model file."""
    if model_path is None:
        return _embedded_skeleton()
    joints = rest_joints_from_model(model_path, betas)
    offsets = joints.copy()
    offsets[1:] -= joints[SMPL_PARENTS[1:]]
    return Skeleton(SMPL_JOINTS, SMPL_PARENTS, offsets)


def rest_joints_from_model(model_path: str | Path, betas: np.ndarray | None) -> np.ndarray:
    """``(24, 3)`` m rest joint positions of a user's SMPL model (``.pkl``/``.npz``) for ``betas``."""
    import pickle
    import zipfile

    import smplx
    import torch
    from smplx.utils import Struct

    from characters.errors import input_error

    num_betas = 10 if betas is None else len(betas)
    try:
        # .npz models are read here (smplx itself only unpickles .pkl files).
        data = Struct(**dict(np.load(model_path, allow_pickle=False))) if str(model_path).endswith(".npz") else None
        model = smplx.SMPL(str(model_path), data_struct=data, num_betas=num_betas)
    except (OSError, KeyError, ValueError, AssertionError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, ImportError, AttributeError) as exc:
        hint = "; SMPL .pkl files need chumpy: convert the model to .npz" if isinstance(exc, ImportError) else ""
        raise input_error(model_path, f"not a usable SMPL model file ({exc.__class__.__name__}: {exc}){hint}") from None
    b = torch.zeros(1, num_betas) if betas is None else torch.as_tensor(betas, dtype=torch.float32)[None]
    with torch.no_grad():
        vertices = model.v_template + smplx.lbs.blend_shapes(b, model.shapedirs)[0]
        return (model.J_regressor @ vertices).numpy().astype(float)


@dataclass
class SmplMotion:
    """SMPL motion, AMASS style.

    Attributes:
        poses: ``(T, 24, 3)`` rad, axis-angle local joint rotations (joint 0: global root).
        trans: ``(T, 3)`` m, SMPL translation (the pelvis is at ``trans + rest pelvis``), Y up.
        betas: ``(K,)`` shape coefficients (kept and written; the embedded skeleton is mean-shape).
        fps: frames per second.
        gender: ``"neutral"``, ``"male"`` or ``"female"``.
        skeleton: the rest skeleton used for FK.
        source: ``"mocap"``, or ``"video"`` for a single-video estimate (``vidmimic estimate``):
            retargeting it onto the character applies the video cleanup
            (:data:`retargeting.cleanup.VIDEO_ESTIMATE_CLEANUP`).
    """

    poses: np.ndarray
    trans: np.ndarray
    fps: float
    betas: np.ndarray = field(default_factory=lambda: np.zeros(10))
    gender: str = "neutral"
    skeleton: Skeleton = field(default_factory=smpl_skeleton)
    source: str = "mocap"

    @property
    def num_frames(self) -> int:
        return self.poses.shape[0]

    @property
    def local_rotations(self) -> np.ndarray:
        """``(T, 24, 4)`` xyzw."""
        return rot.from_axis_angle(self.poses)

    @property
    def pelvis_positions(self) -> np.ndarray:
        """``(T, 3)`` m, world pelvis (root joint) position."""
        return self.trans + self.skeleton.offsets[0]

    def global_rotations(self) -> np.ndarray:
        """``(T, 24, 4)`` world rotation of every joint frame."""
        return self.skeleton.forward_kinematics(self.pelvis_positions, self.local_rotations)[1]

    def joint_positions(self) -> np.ndarray:
        """``(T, 24, 3)`` m world joint positions, by smplx's ``batch_rigid_transform``."""
        import torch  # imported here: most commands never need torch, and it costs ~1 s to load
        from smplx.lbs import batch_rigid_transform

        rest = torch.as_tensor(self.skeleton.rest_positions(), dtype=torch.float64)
        mats = torch.as_tensor(rot.to_matrix(self.local_rotations), dtype=torch.float64)
        frames = mats.shape[0]
        posed, _ = batch_rigid_transform(mats, rest.expand(frames, -1, -1), torch.as_tensor(self.skeleton.parents), dtype=torch.float64)
        # batch_rigid_transform keeps joint 0 at its rest position; SMPL adds trans.
        return posed.numpy() + self.trans[:, None, :]

    @staticmethod
    def from_local_rotations(local_rot: np.ndarray, pelvis_pos: np.ndarray, fps: float, skeleton: Skeleton | None = None) -> SmplMotion:
        """Build from ``(T, 24, 4)`` local rotations and ``(T, 3)`` world pelvis positions."""
        skeleton = skeleton or smpl_skeleton()
        return SmplMotion(rot.to_axis_angle(local_rot), pelvis_pos - skeleton.offsets[0], fps, skeleton=skeleton)

    def resample(self, fps: float) -> SmplMotion:
        """The same motion at ``fps`` (slerp of local rotations, linear translation)."""
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        times = np.arange(int(np.floor((self.num_frames - 1) / self.fps * fps + 1e-9)) + 1) * (self.fps / fps)
        i = np.minimum(np.floor(times).astype(int), max(self.num_frames - 2, 0))
        j = np.minimum(i + 1, self.num_frames - 1)
        a = np.clip(times - i, 0.0, 1.0)
        q = rot.slerp(self.local_rotations[i], self.local_rotations[j], a[:, None])
        trans = self.trans[i] + a[:, None] * (self.trans[j] - self.trans[i])
        return SmplMotion(rot.to_axis_angle(q), trans, fps, self.betas, self.gender, self.skeleton, self.source)

    def validate(self) -> None:
        """Raise ``ValueError`` on inconsistent shapes or non-finite values."""
        if self.num_frames == 0:
            raise ValueError("the clip has no frames")
        if self.poses.shape[1:] != (NUM_SMPL_JOINTS, 3) or self.trans.shape != (self.num_frames, 3):
            raise ValueError(f"poses must be (T, 24, 3) and trans (T, 3), got {self.poses.shape} and {self.trans.shape}")
        if not (np.all(np.isfinite(self.poses)) and np.all(np.isfinite(self.trans))):
            raise ValueError("poses or trans contain NaN or infinity")
        if not self.fps > 0:
            raise ValueError(f"frame rate must be positive, got {self.fps}")
