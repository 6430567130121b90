"""How the lifter reads a video: the test-time steps on and off, on both test sets.

    python -m lifter_research.scripts.lifter_inference [--weights W] [--heldout DIR] [--real-data DIR]

For one set of weights, four ways of reading: every frame as one sequence (``plain``); a
60 fps video seen at the synthetic clips' 30 fps (``rate``, real harness only: the synthetic
clips are 30 fps already); the mirror image's reading averaged in (``mirror``); and both
(``rate+mirror``, what ``vidmimic estimate`` does). PA-MPJPE and hip-centred MPJPE in mm on the
held-out synthetic clips and on the real harness (mean over the views, and per view). Prints
one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lifter_research.lifter_evaluate import evaluate_synthetic
from lifter_research.real_harness import DATA, harness_views, score_estimator
from pose_estimation.lifter_estimator import SHIPPED_WEIGHTS, cached_lifter, lifter_estimator

WAYS = {"plain": (False, False), "rate": (False, True), "mirror": (True, False), "rate+mirror": (True, True)}  # (mirror, match_rate)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, default=SHIPPED_WEIGHTS)
    parser.add_argument("--heldout", type=Path, help="held-out synthetic dataset folder (vidmimic estimator data --held-out)")
    parser.add_argument("--real-data", type=Path, default=DATA)
    args = parser.parse_args()
    model = cached_lifter(str(args.weights))
    views = harness_views(args.real_data)
    report: dict = {"weights": str(args.weights), "real_frames": views.report["frames"], "fps": views.fronts[0].fps, "ways": {}}
    for name, (mirror, match_rate) in WAYS.items():
        real = score_estimator(views, lifter_estimator(args.weights, mirror=mirror, match_rate=match_rate))
        row = {"real_pa_mpjpe_mm": round(real["mean_pa_mpjpe_mm"], 1), "real_mpjpe_mm": round(real["mean_mpjpe_mm"], 1),
               "real_pa_mpjpe_mm_per_view": {k: round(v["pa_mpjpe_mm"], 1) for k, v in real["per_view"].items()}}
        if args.heldout and not match_rate:  # 30 fps clips: matching the rate changes nothing
            synthetic = evaluate_synthetic(model, args.heldout, mirror=mirror)
            row.update(heldout_pa_mpjpe_mm=round(synthetic["pa_mpjpe_mm"], 1), heldout_mpjpe_mm=round(synthetic["mpjpe_mm"], 1))
        report["ways"][name] = row
        print(name, json.dumps(row), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
