"""The demo's generated sample video through the front end: detection, walking speed, floor slope.

    python benchmarks/sample_video.py [--out DIR]

Renders ``app.sample_video`` (4 s of DeepMimic's walk clip, clothed figure, tripod camera), runs
``vidmimic estimate`` on it and retargets the estimate onto the character with and without floor
levelling, and with the whole video cleanup. Prints JSON: frames with a person, the estimate's
walking speed against the clip's, the slope of the floor the feet stand on before and after
levelling, the feet (contacts, tilt, slide, height of the stance foot) and the heading's swing
under the mocap and the video cleanup, and the gait cycle that ``vidmimic run --loop`` loops, before and after the demo's edits
(``--symmetric --pin-stance --swing-clearance``), with its knee bend and its joint error against the clip.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from app.run import WALK_PIN_STANCE, WALK_SWING_CLEARANCE_M, WALK_SYMMETRIC
from app.sample_video import SAMPLE_CLIP, write_sample_video
from characters import rotations as rot
from characters.character import humanoid
from characters.places import POLICIES
from retargeting.amass_file import read_amass
from retargeting.cleanup import VIDEO_ESTIMATE_CLEANUP, CleanupOptions, contact_slide, detect_contacts, floor_plane
from retargeting.deepmimic_file import read_deepmimic
from retargeting.gait_cycle import tidy_walk_cycle
from retargeting.smpl_character import smpl_to_character


def walking_speed(root_pos: np.ndarray, seconds: float) -> float:
    """m/s, horizontal distance from the first to the last root position over ``seconds``."""
    return float(np.linalg.norm((root_pos[-1] - root_pos[0])[[0, 2]]) / seconds)


def floor_slope_deg(motion) -> float | None:
    plane = floor_plane(motion)
    return None if plane is None else float(np.degrees(np.arccos(plane[0][1])))


def feet_figures(motion, options: CleanupOptions) -> dict:
    """Contact fraction per foot, mean foot tilt from level (deg) and median slide in contact (cm/frame)."""
    character = motion.character
    contacts = detect_contacts(motion, options)
    _, rots = motion.body_frames()
    tilt = [np.degrees(np.arccos(np.clip(rot.rotate(rots[:, b], np.array([0.0, 1.0, 0.0]))[:, 1], -1, 1))).mean() for b in character.contact_bodies]
    slide = contact_slide(motion, contacts) if contacts.any() else np.array([np.nan])
    return {"contact_fraction": contacts.mean(axis=0).round(2).tolist(), "foot_tilt_deg": np.round(tilt, 1).tolist(), "median_slide_cm_per_frame": round(float(100 * np.median(slide)), 2)}


def heading_swing_deg(motion) -> float:
    """Standard deviation (deg) of the root heading about its 1 s running mean: the estimate's swing."""
    from retargeting.cleanup import gaussian_smooth, root_headings

    yaw = np.degrees(root_headings(motion))
    return float(np.std(yaw - gaussian_smooth(yaw, motion.fps, wrap=False)))


def stance_height_cm(motion) -> float:
    """Median over frames of the lower foot's lowest point (cm above the ground)."""
    character = motion.character
    pos, rots = motion.body_frames()
    return round(float(100 * np.median(character.lowest_heights(pos, rots, tuple(character.contact_bodies)).min(axis=1))), 2)


def loop_figures(motion) -> dict:
    """The gait cycle ``vidmimic run --loop`` finds, started at the walk policy's phase."""
    import zipfile

    from retargeting.deepmimic_file import read_deepmimic as read
    from retargeting.gait_cycle import loop_best_cycle

    walk = POLICIES / "humanoid3d_walk" / "policy.zip"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "walk.txt").write_text(zipfile.ZipFile(walk).read("vidmimic/motion.txt").decode())
        reference = read(Path(tmp) / "walk.txt", motion.character)
    looped, cycle = loop_best_cycle(motion, phase_reference=reference)
    if cycle is None:
        return {"cycle": None}
    tidied = tidy_walk_cycle(looped, WALK_SYMMETRIC, WALK_SWING_CLEARANCE_M, WALK_PIN_STANCE)
    return {"start_frame": cycle.start, "frames": cycle.length, "seconds": round(looped.duration, 3), "ends_differ_deg": round(cycle.mismatch_deg, 1),
            "speed_mps": walking_speed(looped.root_pos, looped.duration), "feet": cycle_feet(looped), "clip_feet": cycle_feet(reference),
            "legs": cycle_legs(looped, reference), "clip_legs": cycle_legs(reference, reference),
            "demo_tidied": {"symmetric": WALK_SYMMETRIC, "pin_stance": WALK_PIN_STANCE, "swing_clearance_m": WALK_SWING_CLEARANCE_M, "feet": cycle_feet(tidied), "legs": cycle_legs(tidied, reference)}}


def cycle_legs(motion, clip) -> dict:
    """Greatest knee bend per leg (right, left; deg) and the mean joint-rotation angle (deg) to
    DeepMimic's walk at the same phase — the sample video is rendered from that clip, so this is
    the cycle's error against the truth."""
    character = motion.character
    knees = [character.motion_joints.index(character.body_names.index(n)) for n in ("right_knee", "left_knee")]
    bend = np.degrees(np.abs(motion.hinge_angles()[:, knees])).max(axis=0)
    phases = np.arange(clip.num_frames) / (clip.num_frames - 1)
    _, _, joint_rot = motion.sample(phases * motion.duration)
    error = float(np.degrees(rot.geodesic_angle(joint_rot, clip.joint_rot)).mean())
    upper = [character.motion_joints.index(character.body_names.index(n)) for n in ("chest", "neck")]
    turned = np.degrees(rot.geodesic_angle(motion.joint_rot[:, upper], rot.identity((len(upper),)))).mean(axis=0)
    return {"knee_bend_max_deg": np.round(bend, 1).tolist(), "joint_error_vs_clip_deg": round(error, 1),
            "chest_neck_turn_mean_deg": np.round(turned, 1).tolist()}


def cycle_feet(motion) -> dict:
    """Per foot (right, left): highest point in the cycle (cm: the swing's clearance) and the
    fraction of frames it is planted (the mocap contact test)."""
    character = motion.character
    pos, rots = motion.body_frames()
    heights = character.lowest_heights(pos, rots, tuple(character.contact_bodies))
    planted = detect_contacts(motion, CleanupOptions())
    return {"swing_clearance_cm": np.round(100 * heights.max(axis=0), 1).tolist(), "planted_fraction": planted.mean(axis=0).round(2).tolist()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="keep the video and the estimate here (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        tick = time.perf_counter()
        video = write_sample_video(out / "sample_walk.webm")
        render_s = time.perf_counter() - tick
        subprocess.run([sys.executable, "-m", "app.cli", "estimate", str(video), "-o", str(out / "estimate")], check=True, capture_output=True)
        keypoints = np.load(out / "estimate" / "keypoints.npz")
        character = humanoid()
        smpl = read_amass(out / "estimate" / "motion_smpl.npz")
        raw = smpl_to_character(smpl, character, CleanupOptions())
        levelled = smpl_to_character(smpl, character, CleanupOptions(level_ground=True))
        from_video = smpl_to_character(smpl, character, VIDEO_ESTIMATE_CLEANUP)
        clip = read_deepmimic(SAMPLE_CLIP, character)
        times = 0.5 + np.arange(levelled.num_frames) / levelled.fps
        clip_root, _, _ = clip.sample(times)
        result = {
            "video": {"frames": int(len(keypoints["occluded"])), "bytes": video.stat().st_size, "render_s": round(render_s, 2)},
            "frames_with_person": int((~keypoints["occluded"]).sum()),
            "walking_speed_mps": {"estimate": walking_speed(levelled.root_pos, levelled.duration), "clip": walking_speed(clip_root, times[-1] - times[0])},
            "floor_slope_deg": {"before_levelling": floor_slope_deg(raw), "after_levelling": floor_slope_deg(levelled)},
            "feet": {"mocap_cleanup": feet_figures(raw, CleanupOptions()), "video_cleanup": feet_figures(from_video, VIDEO_ESTIMATE_CLEANUP)},
            "heading_swing_deg": {"mocap_cleanup": heading_swing_deg(raw), "video_cleanup": heading_swing_deg(from_video)},
            "stance_foot_height_cm": {"mocap_cleanup": stance_height_cm(raw), "video_cleanup": stance_height_cm(from_video)},
            "loop": loop_figures(from_video),
        }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
