"""The lifter's tables (Doersch & Zisserman's Tables 1-3, analogues), measured by one command.

    python benchmarks/lifter_tables.py --work runs/tables [--steps-per-row 1500] [--clips 2000]
        [--variant-clips 1000] [--heldout-clips 200] [--markdown docs/lifter_tables.md]

1. Datasets, by ``vidmimic estimator data``: the full synthetic set, a tripod set (static
   background) and a set without occluders or total occlusions (``--variant-clips`` each), and
   the held-out test set (held-out mocap clips only, full distractors).
2. Rows, each trained by ``vidmimic estimator train`` for the same number of steps (batches of
   16 clips; wall-clock recorded per row), every sim-to-real technique off (their ablation is
   ``benchmarks/estimator_ablation.py``):
   Table 1 — inputs keypoints / flow / flow + keypoints (window 31, full set);
   Table 2 — static background / no occlusions / full, flow + keypoints on ``--variant-clips``
   clips each (the full row uses the first clips of the full set);
   Table 3 — windows 8 / 16 / 31 / 56 frames, flow + keypoints, full set (31 is Table 1's row).
3. Every row, and the MediaPipe-IK baseline, scored on the held-out synthetic clips and on the
   real harness (``pose2sim_single``; PA-MPJPE per view and the mean).

Finished datasets and rows are reused when the command runs again. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from lifter_rows import add_common_arguments, make_datasets, score_row, technique_flags, train_row, vidmimic


def rows(work: Path, variant_clips: int) -> list[dict]:
    full, static, clean = work / "data_full", work / "data_static", work / "data_no_occlusion"
    out = []
    for inputs in ("keypoints", "flow", "flow+keypoints"):
        out.append({"table": 1, "name": f"t1_{inputs.replace('+', '_')}", "label": inputs, "data": full, "inputs": inputs, "window": 31})
    out.append({"table": 2, "name": "t2_static", "label": "static background", "data": static, "inputs": "flow+keypoints", "window": 31})
    out.append({"table": 2, "name": "t2_no_occlusion", "label": "no occlusions", "data": clean, "inputs": "flow+keypoints", "window": 31})
    out.append({"table": 2, "name": "t2_full", "label": "full", "data": full, "inputs": "flow+keypoints", "window": 31, "max_clips": variant_clips})
    for window in (8, 16, 56):
        out.append({"table": 3, "name": f"t3_window{window}", "label": f"{window} frames", "data": full, "inputs": "flow+keypoints", "window": window})
    return out


def markdown(result: dict) -> str:
    lines = [f"Measured {result['date']} by `{result['command']}`.", ""]
    views = None
    for table, title in ((1, "Table 1 — inputs"), (2, "Table 2 — training data"), (3, "Table 3 — clip length")):
        entries = [r for r in result["rows"] if table in r["tables"]]
        if table == 1:
            entries.append(result["baseline"])
        if not entries:
            continue
        views = views or list(entries[0].get("real", {}).get("per_view", {}))
        head = "| row | training | held-out synthetic PA-MPJPE (mm) | real PA-MPJPE mean (mm) | " + " | ".join(views) + " | real MPJPE mean (mm) |"
        lines += [f"### {title}", "", head, "|" + "---|" * (5 + len(views))]
        for r in entries:
            real = r.get("real", {})
            per = " | ".join(f"{real['per_view'][v]['pa_mpjpe_mm']:.1f}" for v in views) if real else " | ".join("-" for _ in views)
            lines.append(f"| {r['label']} | {r['training']} | {r['synthetic']['pa_mpjpe_mm']:.1f} | "
                         f"{real.get('mean_pa_mpjpe_mm', float('nan')):.1f} | {per} | {real.get('mean_mpjpe_mm', float('nan')):.1f} |")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, steps=1500, clips=2000)
    parser.add_argument("--variant-clips", type=int, default=1000)
    parser.add_argument("--tables", default="1,2,3", help="which tables to make")
    args = parser.parse_args()
    tables = {int(t) for t in args.tables.split(",")}
    work = args.work.resolve()
    w = str(args.workers)
    make_datasets(work, args.clips, args.heldout_clips, args.workers)
    if 2 in tables:
        vidmimic("estimator", "data", str(work / "data_static"), "--clips", str(args.variant_clips), "--seed", "0", "--static-background", "--workers", w)
        vidmimic("estimator", "data", str(work / "data_no_occlusion"), "--clips", str(args.variant_clips), "--seed", "0", "--no-occluders",
                 "--no-total-occlusion", "--workers", w)
    chosen = [r for r in rows(work, args.variant_clips) if r["table"] in tables or (r["name"] == "t1_flow_keypoints" and 3 in tables)]
    for row in chosen:
        extra = ["--max-clips", str(row["max_clips"])] if row.get("max_clips") else []
        train_row(work / "rows" / row["name"], row["data"], args.steps_per_row, args.minutes_per_row,
                  "--inputs", row["inputs"], "--window", str(row["window"]), *extra, *technique_flags())

    from pose_estimation.estimate import mediapipe_ik
    from pose_estimation.landmarks_ik import landmarks_to_smpl  # noqa: F401  (the baseline's import cost, paid before timing)
    from pose_estimation.lifter_evaluate import evaluate_synthetic_baseline
    from pose_estimation.real_harness import harness_views, score_estimator

    views = None if args.no_real else harness_views()
    result: dict = {"date": time.strftime("%Y-%m-%d"), "command": "python benchmarks/lifter_tables.py " + " ".join(sys.argv[1:]), "rows": []}
    for row in chosen:
        entry = {"name": row["name"], "label": row["label"], "tables": [row["table"]] + ([3] if row["name"] == "t1_flow_keypoints" else []),
                 **score_row(work / "rows" / row["name"], work / "data_heldout", views)}
        result["rows"].append(entry)
        print(json.dumps(entry), file=sys.stderr, flush=True)
    baseline = {"name": "mediapipe_ik", "label": "MediaPipe-IK baseline", "tables": [1], "training": "none (MediaPipe's own)",
                "synthetic": evaluate_synthetic_baseline(work / "data_heldout")}
    if views is not None:
        baseline["real"] = score_estimator(views, mediapipe_ik)
    result["baseline"] = baseline
    print(json.dumps(result, indent=1))
    if args.markdown:
        args.markdown.write_text(markdown(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
