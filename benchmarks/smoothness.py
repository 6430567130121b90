"""How jittery is an estimate? Joint angular velocity and acceleration of estimates against mocap.

    python benchmarks/smoothness.py [--estimate motion_smpl.npz ...] [--png docs/smoothness.png]

By default it runs ``vidmimic estimate`` on the first Pose2Sim view and compares with the
CMU 131_02 mocap clip (a different motion, so the comparison is of typical magnitudes).
Everything is resampled to 30 fps. Reports the mean angular speed (deg/s) and angular
acceleration (deg/s^2) over the 21 body joints, per source, as JSON, and draws the
per-joint mean angular speed of each source side by side (like the seed report's Fig. 10).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from characters.places import SHARED_DATA as SHARED
from pose_estimation.smoothness import BODY, RATE, angular_profiles, smoothness
from retargeting.amass_file import read_amass
from retargeting.bvh_import import bvh_to_smpl
from retargeting.smpl import SMPL_JOINTS, SmplMotion

VIEW = SHARED / "multiview" / "pose2sim_single" / "videos" / "cam01.mp4"
MOCAP = SHARED / "mocap" / "cmu" / "131_02.bvh"


def draw_bars(per_source: dict[str, np.ndarray], path: Path) -> None:
    """Grouped bar chart of per-joint mean angular speed, one colour per source."""
    colours = [(200, 90, 30), (40, 160, 60), (30, 60, 200), (160, 60, 160)]
    width, height, left, bottom = 1200, 520, 70, 150
    img = np.full((height, width, 3), 255, np.uint8)
    top = max(v.max() for v in per_source.values()) * 1.1
    joints = len(BODY)
    slot = (width - left - 20) / joints
    bar = slot / (len(per_source) + 1)
    for k in range(6):
        y = int(height - bottom - k / 5 * (height - bottom - 40))
        cv2.line(img, (left, y), (width - 20, y), (225, 225, 225), 1)
        cv2.putText(img, f"{top * k / 5:.0f}", (5, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (80, 80, 80), 1)
    for s, (name, values) in enumerate(per_source.items()):
        for j, v in enumerate(values):
            x0 = int(left + j * slot + s * bar)
            y0 = int(height - bottom - v / top * (height - bottom - 40))
            cv2.rectangle(img, (x0, y0), (int(x0 + bar - 1), height - bottom), colours[s % 4], -1)
        cv2.putText(img, name, (left + 10 + 260 * s, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.55, colours[s % 4], 2)
    for j, joint in enumerate(BODY):
        x = int(left + j * slot + slot / 3)
        label = np.zeros((20, 140, 3), np.uint8)
        cv2.putText(label, SMPL_JOINTS[joint], (0, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
        rotated = cv2.rotate(label, cv2.ROTATE_90_CLOCKWISE)
        y0 = height - bottom + 5
        region = img[y0 : y0 + 140, x : x + 20]
        region[rotated[: region.shape[0], : region.shape[1]].sum(axis=2) > 0] = (60, 60, 60)
    cv2.putText(img, "mean angular speed per joint (deg/s)", (left, height - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (60, 60, 60), 1)
    cv2.imwrite(str(path), img)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--estimate", type=Path, nargs="*", help="motion_smpl.npz files (default: estimate the first Pose2Sim view)")
    parser.add_argument("--png", type=Path, help="where to draw the per-joint chart")
    args = parser.parse_args()
    sources: dict[str, SmplMotion] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.estimate:
            for path in args.estimate:
                sources[path.parent.name or path.stem] = read_amass(path)
        else:
            subprocess.run([sys.executable, "-m", "app.cli", "estimate", str(VIEW), "-o", tmp], check=True, capture_output=True)
            sources["mediapipe_ik (cam01)"] = read_amass(Path(tmp) / "motion_smpl.npz")
    sources["mocap (CMU 131_02)"] = bvh_to_smpl(MOCAP)
    report, bars = {}, {}
    for name, motion in sources.items():
        report[name] = smoothness(motion)
        bars[name] = angular_profiles(motion)[0][:, BODY].mean(axis=0)
    if args.png:
        draw_bars(bars, args.png)
    print(json.dumps({"rate_hz": RATE, "sources": report}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
