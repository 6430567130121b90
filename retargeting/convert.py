"""``vidmimic convert``: any supported motion file to any other, retargeting when skeletons differ.

Formats by extension: ``.txt`` DeepMimic character motion, ``.npz`` AMASS-style SMPL,
``.bvh`` (in: mocap through a joint map into SMPL; out: the skeleton the motion is on, or
``bvh_skeleton``), ``.glb`` (out only: the character).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from characters.character import Character, humanoid
from characters.errors import input_error
from retargeting.amass_file import read_amass, write_amass
from retargeting.bvh_export import write_character_bvh, write_smpl_bvh
from retargeting.bvh_import import bvh_to_smpl, load_joint_map
from retargeting.character_motion import CharacterMotion
from retargeting.cleanup import VIDEO_ESTIMATE_CLEANUP, CleanupOptions
from retargeting.deepmimic_file import LOOP_MODES, read_deepmimic, write_deepmimic
from retargeting.gltf_export import write_glb
from retargeting.smpl import SmplMotion
from retargeting.smpl_character import character_to_smpl, smpl_to_character

INPUT_FORMATS = (".txt", ".npz", ".bvh")
OUTPUT_FORMATS = (".txt", ".npz", ".bvh", ".glb")

Motion = CharacterMotion | SmplMotion


@dataclass(frozen=True)
class ConvertOptions:
    fps: float | None = None
    """Resample the output to this many frames per second (default: keep the input's)."""
    cleanup: bool = True
    """Smooth, ground and de-skate when retargeting SMPL onto the character (a video estimate
    also gets its floor levelled, brief turns repaired and the lower foot planted)."""
    loop: str | None = None
    """DeepMimic ``Loop`` of a .txt output (default: the input's, or "none")."""
    bvh_skeleton: str | None = None
    """``character`` or ``smpl`` for a .bvh output (default: the skeleton the input is on)."""
    joint_map: str | None = None
    """JSON file mapping SMPL joints to the input BVH's joint names."""
    smpl_model: str | None = None
    """The user's own SMPL model file: exact, shape-dependent skeleton for .npz input."""


def load_motion(path: str | Path, character: Character, joint_map: str | None = None, smpl_model: str | None = None) -> Motion:
    """Read a motion file by its extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in INPUT_FORMATS:
        raise input_error(path, f"unsupported input format {suffix or '(none)'}; use one of {', '.join(INPUT_FORMATS)}")
    if not path.is_file():
        raise input_error(path, "no such file")
    if suffix == ".txt":
        return read_deepmimic(path, character)
    if suffix == ".npz":
        return read_amass(path, smpl_model)
    return bvh_to_smpl(path, load_joint_map(joint_map) if joint_map else None)


def as_character(motion: Motion, character: Character, cleanup: bool) -> CharacterMotion:
    """``motion`` on ``character``: the one step from an SMPL motion (mocap or a video estimate)
    to the reference the physics imitates. With ``cleanup``, a video estimate gets the video
    cleanup (:data:`VIDEO_ESTIMATE_CLEANUP`: floor levelled, turns repaired, feet planted),
    mocap the default one; a character motion is returned as it is."""
    if isinstance(motion, CharacterMotion):
        return motion
    if not cleanup:
        return smpl_to_character(motion, character, None)
    return smpl_to_character(motion, character, VIDEO_ESTIMATE_CLEANUP if motion.source == "video" else CleanupOptions())


def as_smpl(motion: Motion) -> SmplMotion:
    return motion if isinstance(motion, SmplMotion) else character_to_smpl(motion)


def convert(input_path: str | Path, output_path: str | Path, options: ConvertOptions = ConvertOptions(), character: Character | None = None) -> Motion:
    """Convert ``input_path`` to ``output_path``; returns the motion written."""
    character = character or humanoid()
    output_path = Path(output_path)
    out = output_path.suffix.lower()
    if out not in OUTPUT_FORMATS:
        raise input_error(output_path, f"unsupported output format {out or '(none)'}; use one of {', '.join(OUTPUT_FORMATS)}")
    if options.loop is not None and options.loop not in LOOP_MODES:
        raise input_error(None, f"--loop must be one of {', '.join(LOOP_MODES)}")
    if options.fps is not None and not options.fps > 0:
        raise input_error(None, f"--fps must be positive, got {options.fps}")
    motion = load_motion(input_path, character, options.joint_map, options.smpl_model)
    on_smpl = isinstance(motion, SmplMotion)
    if out in (".txt", ".glb") or (out == ".bvh" and (options.bvh_skeleton == "character" or (options.bvh_skeleton is None and not on_smpl))):
        result: Motion = as_character(motion, character, options.cleanup)
        if options.fps:
            result = result.resample(options.fps)
        if options.loop:
            result.loop = options.loop
        {".txt": write_deepmimic, ".glb": write_glb, ".bvh": write_character_bvh}[out](output_path, result)
    else:
        result = as_smpl(motion)
        if options.fps:
            result = result.resample(options.fps)
        (write_amass if out == ".npz" else write_smpl_bvh)(output_path, result)
    return result
