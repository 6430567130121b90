"""The demo's generated sample video through the front end: detection, walking speed, floor slope.

    python benchmarks/sample_video.py [--out DIR]

Renders ``app.sample_video`` (4 s of DeepMimic's walk clip, clothed figure, tripod camera), runs
``vidmimic estimate`` on it and retargets the estimate onto the character with and without floor
levelling, and with the whole video cleanup. Prints JSON: frames with a person, the estimate's
walking speed against the clip's, the slope of the floor the feet stand on before and after
levelling, and the feet (contacts, tilt, slide) under the mocap and the video cleanup.
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

from app.sample_video import SAMPLE_CLIP, write_sample_video
from characters.character import humanoid
from retargeting.amass_file import read_amass
from characters import rotations as rot
from retargeting.cleanup import VIDEO_ESTIMATE_CLEANUP, CleanupOptions, contact_slide, detect_contacts, floor_plane
from retargeting.deepmimic_file import read_deepmimic
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
        }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
