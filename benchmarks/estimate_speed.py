"""Frames per second of ``vidmimic estimate`` on a 1080x1920 60 fps view, per stage and end to end.

    python benchmarks/estimate_speed.py [VIDEO] [--estimator fused|lifter|mediapipe_ik]

Runs the real command once; prints its per-stage rates (decode, keypoints, flow, estimator,
from the command's own summary) and the whole command's wall-clock rate, which also counts
start-up, writing files and the overlay videos. Prints JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VIDEO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "multiview" / "pose2sim_single" / "videos" / "cam01.mp4"


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", type=Path, nargs="?", default=VIDEO)
    parser.add_argument("--estimator", default="fused", help="fused (the default of vidmimic estimate), lifter or mediapipe_ik")
    args = parser.parse_args()
    video = args.video
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "app.cli", "estimate", str(video), "-o", tmp, "--estimator", args.estimator],
                              check=True, capture_output=True, text=True)
        wall = time.perf_counter() - start
    summary = json.loads(done.stdout[done.stdout.index("{"):])
    print(json.dumps({
        "video": video.name,
        "estimator": args.estimator,
        "frames": summary["frames"],
        "stages_fps": summary["frames_per_second_by_stage"],
        "pipeline_fps": summary["frames_per_second_end_to_end"],
        "whole_command_fps": summary["frames"] / wall,
        "whole_command_seconds": wall,
    }, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
