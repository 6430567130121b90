"""The demo's sample video, generated rather than shipped: a clothed figure walking DeepMimic's walk clip.

``write_sample_video`` renders the character (PyBullet's software renderer, so it is the same on
every machine) in an outfit — skin, shirt, jeans, shoes — from a three-quarter view with a
camera that follows the walker, as a phone held by someone walking alongside would. MediaPipe's
pose detector finds the figure in every frame (checked by ``tests/test_sample_video.py``), so
the whole video path — keypoints, flow, 3D estimate, retargeting, training, replay — runs on it
with no third-party footage in the repository.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pybullet_data

from control.render import Progress, RenderOptions, render_motions

SAMPLE_CLIP = Path(pybullet_data.getDataPath()) / "data" / "motions" / "humanoid3d_walk.txt"

SKIN = (0.87, 0.68, 0.55, 1.0)
SHIRT = (0.80, 0.22, 0.20, 1.0)
JEANS = (0.20, 0.28, 0.50, 1.0)
SHOES = (0.12, 0.12, 0.12, 1.0)
OUTFIT = {
    "root": JEANS, "chest": SHIRT, "neck": SKIN,
    "right_shoulder": SHIRT, "left_shoulder": SHIRT, "right_elbow": SKIN, "left_elbow": SKIN, "right_wrist": SKIN, "left_wrist": SKIN,
    "right_hip": JEANS, "left_hip": JEANS, "right_knee": JEANS, "left_knee": JEANS, "right_ankle": SHOES, "left_ankle": SHOES,
}

SAMPLE_VIEW = RenderOptions(width=640, height=480, fps=30.0, distance=5.0, yaw_deg=60.0, pitch_deg=-8.0, fixed_target=(3.0, 0.8, 0.0))
"""640x480 at 30 fps from a camera on a tripod: the walker crosses the view diagonally, so the
root translation is visible in the image (a camera that follows the walker would hide it)."""


def write_sample_video(out: str | Path, seconds: float = 4.0, start: float = 0.5, view: RenderOptions = SAMPLE_VIEW, progress: Progress | None = None) -> Path:
    """Render ``seconds`` of the walk clip from ``start`` s on (cyclic, so it walks on) into ``out`` (.webm VP8 or .mp4)."""
    from characters.character import humanoid
    from retargeting.deepmimic_file import read_deepmimic

    walk = read_deepmimic(SAMPLE_CLIP, humanoid())
    frames = int(round(seconds * view.fps)) + 1
    root_pos, root_rot, joint_rot = walk.sample(start + np.arange(frames) / view.fps)
    window = replace(walk, frame_dt=np.full(frames, 1.0 / view.fps), root_pos=root_pos, root_rot=root_rot, joint_rot=joint_rot, loop="none")
    return render_motions([(window, OUTFIT)], out, view, seconds=seconds, progress=progress)
