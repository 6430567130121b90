"""Motion capture as SMPL world rotations: the source of the lifter's synthetic training data.

Sources (all converted to SMPL at 30 frames/s, Y up, feet on the floor at y = 0):
* DeepMimic clips shipped in ``pybullet_data`` (``data/motions/humanoid3d_*.txt``);
* ``../shared/data/mocap/deepmimic/*.txt``, ``cmu/*.bvh`` and the CMU library ``cmu_library/**.bvh``
  (117 trials in several skeleton conventions) when present;
* any folder a user gives (BVH, AMASS ``.npz``, DeepMimic ``.txt``).

Every file is read by vidmimic's own importer (``retargeting.convert.load_motion``: every BVH
convention ``vidmimic convert`` reads) and the converted clip is cached by the file's SHA-256 and
the importer's source (:data:`CACHE`), so a second read costs a file load.

Clips held out by ``heldout.json`` (file stems, and whole CMU subjects) never enter training: they
are the held-out synthetic test set; the file names subsets of it (``original``: the four motions
held out before the library was read, ``library``: the CMU subjects).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from characters import rotations as rot
from characters.errors import atomic_output, input_error
from characters.places import REPO, SHARED_MOCAP, file_sha256
from pose_estimation.lifter_config import SMPL_MIRROR as MIRROR  # noqa: F401 - re-exported: the clips' mirror
from pose_estimation.lifter_config import TRAINING_FPS as FPS
from retargeting.smpl import SmplMotion

HELD_OUT_FILE = Path(__file__).with_name("heldout.json")
"""The held-out clips and CMU subjects, each with its subset and the reason."""
ALL = "all"
"""The whole held-out set (every subset of ``heldout.json``)."""
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vidmimic" / "lifter_mocap"
"""Converted clips (``.npz``), keyed by the motion file's SHA-256 and the importer's source."""
CONVERSION_VERSION = 1
"""Bump when this module converts differently (the importer's own source is hashed into the key)."""
FLOOR_OFF_M = 0.3
"""A clip whose floor is further than this from y = 0 is moved onto it (some BVH conventions put
the floor about 0.8 m below the pelvis' origin); clips within it are left as they are."""


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
        """``motion`` at :data:`FPS`, moved onto the floor when its floor is off by more than :data:`FLOOR_OFF_M`."""
        motion = motion.resample(FPS) if abs(motion.fps - FPS) > 1e-6 else motion
        pelvis = motion.pelvis_positions.astype(np.float32)
        floor = floor_height(motion)
        if abs(floor) > FLOOR_OFF_M:
            pelvis[:, 1] -= floor
        return MocapClip(name, motion.global_rotations().astype(np.float32), pelvis)

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


def floor_height(motion: SmplMotion) -> float:
    """m, where the clip's floor is: the 5th percentile over frames of the lowest joint's height."""
    positions = motion.skeleton.forward_kinematics(motion.pelvis_positions, motion.local_rotations)[0]
    return float(np.percentile(positions[..., 1].min(axis=1), 5))


def load_motion_file(path: Path) -> SmplMotion:
    """A BVH (any convention ``vidmimic convert`` reads), AMASS npz or DeepMimic txt file as SMPL motion."""
    from characters.character import humanoid
    from retargeting.convert import as_smpl, load_motion

    return as_smpl(load_motion(path, humanoid()))


def default_sources() -> list[Path]:
    """Every motion file of the built-in sources that exists here."""
    import pybullet_data

    files = sorted(Path(pybullet_data.getDataPath(), "data", "motions").glob("humanoid3d_*.txt"))
    files += sorted((SHARED_MOCAP / "deepmimic").glob("*.txt"))
    files += sorted((SHARED_MOCAP / "cmu").glob("*.bvh"))
    files += sorted((SHARED_MOCAP / "cmu_library").rglob("*.bvh"))
    return files


def motion_files(folders: list[Path] | None = None) -> list[Path]:
    """The built-in sources plus every BVH / npz / txt under ``folders``."""
    files = default_sources()
    for folder in folders or []:
        files += sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in (".bvh", ".npz", ".txt"))
    return files


@dataclass(frozen=True)
class HeldOut:
    """The held-out set: file stems and CMU subjects, each mapped to the subset it belongs to."""

    clips: dict[str, str]
    subjects: dict[str, str]
    subsets: tuple[str, ...]

    def subset_of(self, path: Path) -> str | None:
        """The subset ``path`` is held out in, or None when it may train."""
        if path.stem in self.clips:
            return self.clips[path.stem]
        subject = cmu_subject(path)
        return self.subjects.get(subject) if subject else None


def cmu_subject(path: Path) -> str:
    """The CMU subject of a motion file (``"02"``; ``""`` when it is not a CMU trial), from the
    library's ``index.csv`` or the file's name (the general tracker's rule)."""
    from control.motion_library import subject_and_category

    path = Path(path)
    library = _library_subjects()
    if path.parent.parent == SHARED_MOCAP / "cmu_library" and str(path.resolve()) in library:
        return library[str(path.resolve())]
    return subject_and_category(path)[0]


@functools.cache
def _library_subjects() -> dict[str, str]:
    """Subject of every file of the CMU library's ``index.csv``, keyed by resolved path (read once:
    the tracker's reader parses the index for each file it is asked about)."""
    index = SHARED_MOCAP / "cmu_library" / "index.csv"
    if not index.is_file():
        return {}
    with index.open(newline="") as f:
        return {str((index.parent / row["file"]).resolve()): row.get("subject", "").strip() for row in csv.DictReader(f)}


def load_held_out(path: str | Path = HELD_OUT_FILE) -> HeldOut:
    """The held-out set of ``path`` (``heldout.json``); a one-line :class:`InputError` when malformed."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        subsets = tuple(data["sets"])
        entries = [("clip", e) for e in data["clips"]] + [("subject", e) for e in data["subjects"]]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise input_error(path, f"not a held-out file ({exc})") from None
    if ALL in subsets:
        raise input_error(path, f"{ALL!r} names the whole held-out set, not a subset")
    found: dict[str, dict[str, str]] = {"clip": {}, "subject": {}}
    for kind, entry in entries:
        key, subset, reason = (str(entry.get(k, "")).strip() if isinstance(entry, dict) else "" for k in (kind, "set", "reason"))
        if not key or subset not in subsets or not reason:
            raise input_error(path, f"{entry!r}: every entry needs a {kind}, a set among {', '.join(subsets)} and a reason")
        if key in found[kind]:
            raise input_error(path, f"{kind} {key} is listed twice")
        found[kind][key] = subset
    return HeldOut(found["clip"], found["subject"], subsets)


def select_files(files: list[Path], held_out: bool, subset: str = ALL, held: HeldOut | None = None) -> list[Path]:
    """The files of ``files`` that may train (``held_out=False``), or the held-out ones of ``subset``."""
    held = held or load_held_out()
    if subset != ALL and subset not in held.subsets:
        raise input_error(None, f"no held-out set {subset!r}; the sets are {ALL}, {', '.join(held.subsets)}")
    chosen = []
    for path in files:
        where = held.subset_of(Path(path))
        if (where is None) if not held_out else (where is not None and subset in (ALL, where)):
            chosen.append(Path(path))
    return chosen


@functools.cache
def importer_version() -> str:
    """A digest of the importer's source (``retargeting``, ``characters``) and :data:`CONVERSION_VERSION`:
    a cached clip converted by other code is never read."""
    digest = hashlib.sha256(str(CONVERSION_VERSION).encode())
    for folder in ("retargeting", "characters"):
        for source in sorted((REPO / folder).glob("*.py")):
            digest.update(source.name.encode() + source.read_bytes())
    return digest.hexdigest()[:12]


def read_clip(path: Path, cache: Path | None = CACHE) -> MocapClip:
    """The clip of motion file ``path``, from ``cache`` when converted before (``cache=None``: no cache)."""
    path = Path(path)
    if cache is None:
        return MocapClip.from_smpl(path.stem, load_motion_file(path))
    cached = Path(cache) / f"{file_sha256(path)[:20]}_{importer_version()}.npz"
    try:
        with np.load(cached) as data:
            return MocapClip(path.stem, data["rotations"], data["pelvis"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        pass  # not cached yet, or a damaged file: convert again
    clip = MocapClip.from_smpl(path.stem, load_motion_file(path))
    try:
        with atomic_output(cached) as tmp, open(tmp, "wb") as f:
            np.savez(f, rotations=clip.rotations, pelvis=clip.pelvis)
    except OSError:
        pass  # a read-only cache: the clip is still returned
    return clip


def load_library(files: list[Path], held_out: bool, subset: str = ALL, cache: Path | None = CACHE) -> list[MocapClip]:
    """Clips of ``files`` that may train (``held_out=False``), or the held-out ones of ``subset``
    (:func:`select_files`)."""
    return [read_clip(path, cache) for path in select_files(files, held_out, subset)]


def summary(files: list[Path]) -> dict[str, int]:
    """How many of ``files`` train, and how many each held-out set holds (no file is converted)."""
    held = load_held_out()
    counts = {"files": len(files), "train": len(select_files(files, False, held=held)), ALL: len(select_files(files, True, held=held))}
    counts.update({name: len(select_files(files, True, name, held)) for name in held.subsets})
    return counts


if __name__ == "__main__":  # python -m lifter_research.mocap_library: the split of the default sources
    print(json.dumps(summary(motion_files())))
