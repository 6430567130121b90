"""Motion capture as SMPL world rotations: the source of the lifter's synthetic training data.

Sources (all converted to SMPL at 30 frames/s, Y up):
* DeepMimic clips shipped in ``pybullet_data`` (``data/motions/humanoid3d_*.txt``);
* ``../shared/data/mocap/deepmimic/*.txt`` and ``../shared/data/mocap/cmu/*.bvh`` when present;
* any folder a user gives (BVH, AMASS ``.npz``, DeepMimic ``.txt``).

Clips named in ``HELD_OUT`` never enter training: they are the held-out synthetic test set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from characters import rotations as rot
from characters.places import SHARED_MOCAP
from pose_estimation.lifter_config import SMPL_MIRROR as MIRROR  # noqa: F401 - re-exported: the clips' mirror
from pose_estimation.lifter_config import TRAINING_FPS as FPS
from retargeting.smpl import SmplMotion, smpl_skeleton

HELD_OUT = frozenset({"131_02", "humanoid3d_long_walk3", "humanoid3d_dance_b", "humanoid3d_spinkick"})
"""Clip names (file stems) kept out of training for the held-out synthetic evaluation."""


@dataclass(frozen=True)
class MocapClip:
    """One clip: ``rotations (T, 24, 4)`` world rotation of every SMPL joint, ``pelvis (T, 3)`` m, Y up."""

    name: str
    rotations: np.ndarray
    pelvis: np.ndarray

    @property
    def num_frames(self) -> int:
        return self.pelvis.shape[0]

    @staticmethod
    def from_smpl(name: str, motion: SmplMotion) -> MocapClip:
        motion = motion.resample(FPS) if abs(motion.fps - FPS) > 1e-6 else motion
        return MocapClip(name, motion.global_rotations().astype(np.float32), motion.pelvis_positions.astype(np.float32))

    def mirrored(self) -> MocapClip:
        """The clip reflected through the body's sagittal plane (x -> -x), left and right swapped."""
        pelvis = self.pelvis * np.array([-1.0, 1.0, 1.0], dtype=np.float32)
        return MocapClip(self.name + "~mirror", rot.reflect(self.rotations[:, MIRROR], 0).astype(np.float32), pelvis)

    def retimed(self, speed: float) -> MocapClip:
        """The clip played ``speed`` times faster (slerp/linear resampling at the same frame rate)."""
        t = np.arange(0.0, self.num_frames - 1, speed)
        i = np.minimum(t.astype(int), self.num_frames - 2)
        a = (t - i).astype(np.float32)
        q = rot.slerp(self.rotations[i], self.rotations[i + 1], a[:, None])
        p = self.pelvis[i] + a[:, None] * (self.pelvis[i + 1] - self.pelvis[i])
        return MocapClip(self.name, q.astype(np.float32), p.astype(np.float32))


def load_motion_file(path: Path) -> SmplMotion:
    """A BVH, AMASS npz or DeepMimic txt file as SMPL motion."""
    suffix = path.suffix.lower()
    if suffix == ".bvh":
        from retargeting.bvh_import import bvh_to_smpl

        return bvh_to_smpl(path)
    if suffix == ".npz":
        from retargeting.amass_file import read_amass

        return read_amass(path)
    from characters.character import humanoid
    from retargeting.deepmimic_file import read_deepmimic
    from retargeting.smpl_character import character_to_smpl

    return character_to_smpl(read_deepmimic(path, humanoid()), smpl_skeleton())


def default_sources() -> list[Path]:
    """Every motion file of the built-in sources that exists here."""
    import pybullet_data

    files = sorted(Path(pybullet_data.getDataPath(), "data", "motions").glob("humanoid3d_*.txt"))
    files += sorted((SHARED_MOCAP / "deepmimic").glob("*.txt"))
    files += sorted((SHARED_MOCAP / "cmu").glob("*.bvh"))
    return files


def motion_files(folders: list[Path] | None = None) -> list[Path]:
    """The built-in sources plus every BVH / npz / txt under ``folders``."""
    files = default_sources()
    for folder in folders or []:
        files += sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in (".bvh", ".npz", ".txt"))
    return files


def load_library(files: list[Path], held_out: bool) -> list[MocapClip]:
    """Clips of ``files`` that are (``held_out=True``) or are not (``False``) in ``HELD_OUT``."""
    clips = []
    for path in files:
        if (path.stem in HELD_OUT) != held_out:
            continue
        clips.append(MocapClip.from_smpl(path.stem, load_motion_file(path)))
    return clips
