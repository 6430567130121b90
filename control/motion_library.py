"""The motion library for control: every clip of some folders, retargeted onto the character.

A library is built from folders of motion files (DeepMimic ``.txt``, AMASS ``.npz``, ``.bvh``
in any skeleton convention ``vidmimic convert`` reads). Each file is converted once with the
same retargeting and cleanup as ``vidmimic convert`` and cached as a DeepMimic file keyed by
the file's SHA-256, so a later build (a resumed run, another MPI rank) only reads the cache.

Every clip gets a split (``train`` or ``validation``, by CMU subject, from
``control/tracker_split.json``) and may be excluded by :func:`exclusion_reason` when the
character cannot perform it on flat ground; the manifest says why.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from characters.character import Character, humanoid
from characters.errors import InputError, atomic_output, input_error
from characters.places import SHARED_MOCAP, file_sha256
from retargeting.character_motion import CharacterMotion

MOTION_SUFFIXES = (".txt", ".npz", ".bvh")
SPLIT_FILE = Path(__file__).with_name("tracker_split.json")
# Bump when the conversion changes, so cached clips are rebuilt.
CONVERSION_VERSION = 3


@dataclass(frozen=True)
class ExclusionRule:
    """When a clip cannot be performed by the character alone on flat ground (m, s)."""

    raised_feet_m: float = 0.25
    """Both feet's lowest points above this height ..."""
    raised_feet_s: float = 1.0
    """... for longer than this at a stretch: the person stands on something (climbing, sitting)."""
    low_body_m: float = 0.01
    """A body other than the feet this close to the ground ..."""
    low_body_fraction: float = 0.1
    """... in more than this fraction of frames: crawling, rolling, hands or knees down."""
    shortest_s: float = 1.0
    """Clips shorter than this are too short to track."""


@dataclass(frozen=True)
class LibraryClip:
    """One clip of the library, as listed in its manifest."""

    name: str
    """Path of the source file relative to the folder it was found in, with the folder's name first."""
    source: str
    sha256: str
    subject: str
    """CMU subject (``"02"``), or ``""`` when the clip is not from the CMU database."""
    category: str
    duration_s: float
    split: str
    """``train`` or ``validation``."""
    excluded: str
    """Why the clip is left out, or ``""``."""


def find_motion_files(folders: Iterable[str | Path]) -> list[tuple[str, Path]]:
    """``(clip name, path)`` of every motion file under ``folders`` (recursively, sorted)."""
    out = []
    for folder in folders:
        folder = Path(folder)
        if folder.is_file():
            out.append((folder.stem, folder))
            continue
        if not folder.is_dir():
            raise input_error(folder, "no such folder")
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() in MOTION_SUFFIXES and path.is_file() and not path.name.startswith("."):
                name = f"{folder.name}/{path.relative_to(folder).with_suffix('').as_posix()}"
                out.append((name, path))
    return out


def _index_rows(path: Path) -> dict[str, dict[str, str]]:
    """Rows of an ``index.csv`` beside or above ``path`` (the CMU library's), keyed by resolved file path."""
    for folder in (path.parent, path.parent.parent):
        index = folder / "index.csv"
        if index.is_file():
            with index.open(newline="") as f:
                return {str((folder / row["file"]).resolve()): row for row in csv.DictReader(f) if "file" in row}
    return {}


def subject_and_category(path: Path) -> tuple[str, str]:
    """CMU subject and motion category of a file, from the library's ``index.csv`` or its name.

    CMU trials are named ``SS_TT`` or ``SSS_TT`` (subject, trial); other files have no subject.
    """
    row = _index_rows(path).get(str(path.resolve()))
    if row is not None:
        return row.get("subject", "").strip(), row.get("category", "").strip()
    match = re.match(r"^(\d{2,3})_\d+", path.stem)
    category = path.stem.removeprefix("humanoid3d_") if path.suffix == ".txt" else ""
    return (match.group(1) if match else ""), category


def load_split(path: str | Path = SPLIT_FILE) -> set[str]:
    """The CMU subjects held out for validation."""
    data = json.loads(Path(path).read_text())
    return {str(s) for s in data["validation_subjects"]}


def exclusion_reason(motion: CharacterMotion, rule: ExclusionRule = ExclusionRule()) -> str:
    """Why ``motion`` cannot be performed on flat ground by the character alone, or ``""``."""
    character = motion.character
    if motion.duration < rule.shortest_s:
        return f"shorter than {rule.shortest_s:g} s"
    body_pos, body_rot = motion.body_frames()
    feet = tuple(character.contact_bodies)
    others = tuple(b for b in range(character.num_bodies) if b not in feet)
    feet_low = character.lowest_heights(body_pos, body_rot, feet).min(axis=1)
    raised = feet_low > rule.raised_feet_m
    longest = _longest_run(raised) * float(np.median(motion.frame_dt))
    if longest > rule.raised_feet_s:
        return f"both feet above {rule.raised_feet_m:g} m for {longest:.1f} s (held up by something other than the feet)"
    others_low = character.lowest_heights(body_pos, body_rot, others).min(axis=1)
    fraction = float(np.mean(others_low < rule.low_body_m))
    if fraction > rule.low_body_fraction:
        return f"a body other than the feet on the ground in {100 * fraction:.0f}% of frames"
    return ""


def _longest_run(flags: np.ndarray) -> int:
    """Length of the longest stretch of True in a ``(T,)`` bool array."""
    if not flags.any():
        return 0
    padded = np.concatenate([[0], flags.astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[::2]).max())


def convert_clip(path: Path, character: Character) -> CharacterMotion:
    """One motion file as a non-looping character motion (``vidmimic convert``'s retargeting and cleanup)."""
    from retargeting.convert import as_character, load_motion

    motion = as_character(load_motion(path, character), character, cleanup=True).uniform()
    return unrolled(motion) if motion.loop == "wrap" else replace(motion, loop="none")


def unrolled(motion: CharacterMotion, seconds: float = 10.0) -> CharacterMotion:
    """A cyclic clip played over and over (each cycle moved on by its displacement) for at
    least ``seconds``, as one non-looping clip: a 1-s walk cycle becomes a 10-s walk."""
    cycles = max(1, int(np.ceil(seconds / max(motion.duration, 1e-6))))
    fps = motion.fps
    n = int(round(cycles * motion.duration * fps)) + 1
    root_pos, root_rot, joint_rot = motion.sample(np.arange(n) / fps)
    return replace(motion, frame_dt=np.full(n, 1.0 / fps), root_pos=root_pos, root_rot=root_rot, joint_rot=joint_rot, loop="none")


Progress = Callable[[int, int], None]


def build_library(
    folders: Iterable[str | Path], cache_dir: str | Path, character: Character | None = None,
    validation_subjects: set[str] | None = None, rule: ExclusionRule | None = ExclusionRule(), progress: Progress | None = None,
) -> list[LibraryClip]:
    """Convert (or read from ``cache_dir``) every clip under ``folders``; returns the manifest.

    A file that cannot be read is listed as excluded with the reader's message; ``rule=None``
    excludes nothing else.
    """
    from retargeting.deepmimic_file import write_deepmimic

    character = character or humanoid()
    validation_subjects = load_split() if validation_subjects is None else validation_subjects
    cache_dir = Path(cache_dir)
    files = find_motion_files(folders)
    clips = []
    for k, (name, path) in enumerate(files):
        sha = file_sha256(path)
        subject, category = subject_and_category(path)
        split = "validation" if subject and subject in validation_subjects else "train"
        cached = cache_dir / f"{sha[:20]}_v{CONVERSION_VERSION}.txt"
        excluded = ""
        duration = 0.0
        try:
            motion = clip_motion(cached, character) if cached.exists() else None
            if motion is None:
                motion = convert_clip(path, character)
                write_deepmimic(cached, motion)
            duration = motion.duration
            excluded = exclusion_reason(motion, rule) if rule is not None else ""
        except (InputError, ValueError) as exc:
            excluded = f"cannot be read: {exc}"
        clips.append(LibraryClip(name, str(path), sha, subject, category, round(duration, 3), split, excluded))
        if progress:
            progress(k + 1, len(files))
    return clips


def clip_motion(cached: Path, character: Character) -> CharacterMotion:
    from retargeting.deepmimic_file import read_deepmimic

    return replace(read_deepmimic(cached, character), loop="none")


def cached_path(cache_dir: str | Path, clip: LibraryClip) -> Path:
    return Path(cache_dir) / f"{clip.sha256[:20]}_v{CONVERSION_VERSION}.txt"


def load_clips(clips: Iterable[LibraryClip], cache_dir: str | Path, character: Character | None = None) -> list[CharacterMotion]:
    """The cached motions of ``clips`` (built by :func:`build_library`)."""
    character = character or humanoid()
    return [clip_motion(cached_path(cache_dir, c), character) for c in clips]


def write_manifest(path: str | Path, clips: list[LibraryClip]) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps([asdict(c) for c in clips], indent=1))


def read_manifest(path: str | Path) -> list[LibraryClip]:
    try:
        return [LibraryClip(**row) for row in json.loads(Path(path).read_text())]
    except (OSError, json.JSONDecodeError, TypeError) as exc:
        raise input_error(path, f"not a library manifest ({exc})") from None


def usable(clips: Iterable[LibraryClip], split: str) -> list[LibraryClip]:
    """Clips of ``split`` that are not excluded."""
    return [c for c in clips if c.split == split and not c.excluded]


def default_folders() -> list[Path]:
    """The library the shipped tracker is trained on: the DeepMimic clips of the pybullet wheel
    and, where the shared data folder sits beside the checkout, its DeepMimic, CMU 131 and CMU
    library folders."""
    import pybullet_data

    folders = [Path(pybullet_data.getDataPath()) / "data" / "motions"]
    folders += [SHARED_MOCAP / name for name in ("deepmimic", "cmu", "cmu_library") if (SHARED_MOCAP / name).is_dir()]
    return folders
