"""The ablation of the estimator's sim-to-real and motion-prior training techniques, one command.

    python -m lifter_research.scripts.estimator_ablation --work runs/ablation [--steps-per-row 800]
        [--clips 1000] [--heldout-clips 200] [--real-videos ../shared/data/video]
        [--markdown docs/estimator_ablation.md]

Rows, each trained by ``vidmimic estimator train`` (flow + keypoints, window 31) for the same
number of steps on the same synthetic set:

* the baseline, twice (seeds 0 and 1): their difference is the noise a single row carries;
* each technique alone: ``--sim-real-mix``, ``--adversarial-teacher``, ``--refiner``, ``--dann``,
  ``--motion-discriminator`` (the first three with ``--real-videos``);
* the best combination: every technique whose real-harness PA-MPJPE beat the baseline's by
  more than the seed noise, or, when fewer than two did, the two with the lowest real error.

Every row is scored on the held-out synthetic clips and on the real harness
(``pose2sim_single``: PA-MPJPE per view and the mean, hip-centred MPJPE) with the smoothness of
its real estimates (mean angular speed and acceleration of the body joints); the MediaPipe-IK
baseline's real scores are printed beside them. Finished datasets and rows are reused when the
command runs again. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from characters.places import SHARED_VIDEOS
from lifter_research.scripts.lifter_rows import add_common_arguments, make_datasets, score_row, technique_flags, train_row

TECHNIQUES = {
    "sim_real_mix": "SimPose sim+real batches",
    "adversarial_teacher": "adversarial teacher",
    "refiner": "SimGAN refiner",
    "dann": "DANN",
    "motion_discriminator": "VIBE motion discriminator",
}


def real_error(entry: dict) -> float:
    """The figure rows are ranked by: real mean PA-MPJPE (held-out synthetic without the harness)."""
    return entry["real"]["mean_pa_mpjpe_mm"] if "real" in entry else entry["synthetic"]["pa_mpjpe_mm"]


def best_combination(singles: dict[str, dict], baseline: float, noise: float) -> list[str]:
    helped = [n for n, e in singles.items() if real_error(e) < baseline - noise]
    if len(helped) >= 2:
        return sorted(helped, key=lambda n: real_error(singles[n]))
    return sorted(singles, key=lambda n: real_error(singles[n]))[:2]


def markdown(result: dict) -> str:
    rows = result["rows"]
    views = list(rows[0].get("real", {}).get("per_view", {}))
    lines = [f"Measured {result['date']} by `{result['command']}`.", "",
             f"Rows ranked by {result['ranked_by']}; seed noise (the two baseline rows' difference in it): {result['noise_mm']:.1f} mm.", "",
             "| row | training | held-out synthetic PA-MPJPE (mm) | real PA-MPJPE mean (mm) | " + "".join(f"{v} | " for v in views)
             + "real MPJPE mean (mm) | angular speed (deg/s) | angular acceleration (deg/s²) | verdict |",
             "|" + "---|" * (8 + len(views))]
    for r in rows + [result["mediapipe_ik"]]:
        real = r.get("real", {})
        per = "".join((f"{real['per_view'][v]['pa_mpjpe_mm']:.1f}" if real else "-") + " | " for v in views)
        synthetic = f"{r['synthetic']['pa_mpjpe_mm']:.1f}" if "synthetic" in r else "-"
        lines.append(f"| {r['label']} | {r['training']} | {synthetic} | {real.get('mean_pa_mpjpe_mm', float('nan')):.1f} | {per}"
                     f"{real.get('mean_mpjpe_mm', float('nan')):.1f} | {real.get('mean_angular_speed_deg_s', float('nan')):.0f} | "
                     f"{real.get('mean_angular_acceleration_deg_s2', float('nan')):.0f} | {r.get('verdict', '')} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, steps=800, clips=1000)
    parser.add_argument("--real-videos", type=Path, default=SHARED_VIDEOS, help="real, unlabelled videos for the techniques that need them")
    args = parser.parse_args()
    work = args.work.resolve()
    full, heldout = make_datasets(work, args.clips, args.heldout_clips, args.workers)
    steps, minutes = args.steps_per_row, args.minutes_per_row

    from lifter_research.real_harness import harness_views, score_estimator
    from pose_estimation.estimate import mediapipe_ik

    views = None if args.no_real else harness_views()

    def row(name: str, label: str, *flags: str) -> dict:
        run = work / "ablation" / name
        train_row(run, full, steps, minutes, *flags)
        entry = {"name": name, "label": label, **score_row(run, heldout, views)}
        print(json.dumps(entry), file=sys.stderr, flush=True)
        return entry

    baselines = [row(f"baseline_seed{s}", f"baseline (seed {s})", "--seed", str(s), *technique_flags()) for s in (0, 1)]
    baseline = statistics.mean(real_error(b) for b in baselines)
    noise = abs(real_error(baselines[0]) - real_error(baselines[1]))
    singles = {n: row(n, label, *technique_flags([n], args.real_videos)) for n, label in TECHNIQUES.items()}
    combo = best_combination(singles, baseline, noise)
    combined = row("combo_" + "+".join(combo), "combination: " + " + ".join(TECHNIQUES[n] for n in combo), *technique_flags(combo, args.real_videos))
    for entry in [*singles.values(), combined]:
        change = real_error(entry) - baseline
        entry["change_mm"] = round(change, 1)
        entry["verdict"] = (f"helps ({change:+.1f} mm)" if change < -noise else f"hurts ({change:+.1f} mm)" if change > noise
                            else f"no clear effect ({change:+.1f} mm, noise {noise:.1f})")
    reference = {"name": "mediapipe_ik", "label": "MediaPipe-IK baseline (reference)", "training": "none"}
    if views is not None:
        reference["real"] = score_estimator(views, mediapipe_ik)
    result = {"date": time.strftime("%Y-%m-%d"), "command": "python -m lifter_research.scripts.estimator_ablation " + " ".join(sys.argv[1:]),
              "ranked_by": "real mean PA-MPJPE" if views is not None else "held-out synthetic PA-MPJPE",
              "baseline_mm": round(baseline, 1), "noise_mm": noise, "best_combination": combo,
              "helps": [n for n, e in singles.items() if e["change_mm"] < -noise],
              "rows": [*baselines, *singles.values(), combined], "mediapipe_ik": reference}
    print(json.dumps(result, indent=1))
    if args.markdown:
        args.markdown.write_text(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
