"""Choose the DIS optical-flow preset: speed and accuracy on person crops of a real video.

    python -m lifter_research.scripts.flow_presets [VIDEO]

Accuracy: crops of real frames warped by a known small similarity motion (shift up to 4 px,
rotation up to 3 deg), so the true flow is known; reported as the mean end-point error (px at
the 128 px crop size). Speed: milliseconds per crop pair. Prints JSON.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from characters.places import POSE2SIM_SINGLE
from pose_estimation.flow import DIS_PRESETS, crop
from pose_estimation.video import frames

VIDEO = POSE2SIM_SINGLE / "videos" / "cam01.mp4"
SIZE = 128


def pairs(video: Path, count: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    for _, frame in frames(video, max_frames=count):
        h, w = frame.shape[:2]
        box = np.array([w * 0.25, h * 0.2, w * 0.75, h * 0.2 + w * 0.5])
        first = crop(frame, box, SIZE)
        angle, dx, dy = rng.uniform(-3, 3), rng.uniform(-4, 4), rng.uniform(-4, 4)
        m = cv2.getRotationMatrix2D((SIZE / 2, SIZE / 2), angle, 1.0)
        m[:, 2] += (dx, dy)
        second = cv2.warpAffine(first, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
        true = np.stack([m[0, 0] * xs + m[0, 1] * ys + m[0, 2] - xs, m[1, 0] * xs + m[1, 1] * ys + m[1, 2] - ys], axis=-1)
        yield first, second, true


def main() -> int:
    video = Path(sys.argv[1]) if len(sys.argv) > 1 else VIDEO
    data = list(pairs(video))
    result = {}
    inner = slice(8, SIZE - 8)
    for name, preset in DIS_PRESETS.items():
        dis = cv2.DISOpticalFlow_create(preset)
        errors, start = [], time.perf_counter()
        for first, second, true in data:
            flow = dis.calc(np.ascontiguousarray(first), np.ascontiguousarray(second), None)
            errors.append(np.linalg.norm(flow[inner, inner] - true[inner, inner], axis=-1).mean())
        ms = 1000 * (time.perf_counter() - start) / len(data)
        result[name] = {"ms_per_pair": round(ms, 3), "mean_endpoint_error_px": round(float(np.mean(errors)), 3)}
    print(json.dumps({"video": video.name, "crop_px": SIZE, "pairs": len(data), "presets": result}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
