"""The lifter's tables (Doersch & Zisserman's Tables 1-3, analogues), measured by one command.

    python -m lifter_research.scripts.lifter_tables --work runs/tables [--rows t1_keypoints,t1_flow]
        [--steps 37356] [--short-steps 8000] [--markdown docs/lifter_tables.md] [--no-real] [--scale 1]

Every row is trained by ``vidmimic estimator train`` with the one-command recipe of
``lifter_research/scripts/lifter_recipe.py`` (its 12 000 training clips, its options), changing only what the
row is about:

* Table 1 — inputs: keypoints / flow / flow + keypoints, ``--steps`` each (the recipe's full
  budget, so the flow + keypoints row is a lifter made as shipped weights are made); beside them
  the MediaPipe-IK baseline, and each row's paired difference to it on the real harness with its
  95 % interval (``lifter_research.paired_bootstrap``).
* Table 1b — the same three inputs at ``--short-steps`` (Tables 2 and 3's budget); its flow +
  keypoints row is Table 2's full row. A full-budget row takes about two hours here, so this is
  where the three inputs first compare at one budget.
* Table 2 — training data: static background / no occlusions / full (flow + keypoints), each on
  the recipe's datasets remade with the variant's flags, ``--short-steps`` each.
* Table 3 — clip length: windows 8 / 16 / 31 / 56 (flow + keypoints, full data), ``--short-steps``
  each; 31 is Table 2's full row.

Rows are scored on the held-out synthetic clips and (unless ``--no-real``) on the real harness
(``pose2sim_single``; PA-MPJPE per view and the mean); with ``--real-people DIR`` also on every
person of a multi-person recording (``lifter_research.multi_person``), pooled with the harness's
views (the mean, and in Table 1 the paired difference to MediaPipe-IK). A row takes hours: ``--rows`` names the
rows to train in this run (default all); rows trained before are scored, rows not yet trained are
listed as such, and a row stopped midway resumes from its checkpoint. Datasets are made as the
chosen rows need them.

The rows' weights stay in ``--work``, which a new machine does not have: with ``--record FILE``
(the committed record is ``lifter_research/results/lifter_tables.json``) a row whose weights are not in ``--work`` is
taken from the record as it was measured (marked † in the tables, with the date and command that
measured it), and the record is rewritten with this run's rows. The shipped weights
(``pose_estimation/weights/lifter.pt``, made by the recipe's command) are scored too, beside the
flow + keypoints row, with their ratio to it. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from characters.places import SHARED_VIDEOS
from lifter_research.scripts.lifter_recipe import HELDOUT, TECHNIQUES_ON, TRAIN, dataset_commands, dataset_folders, scaled
from lifter_research.scripts.lifter_rows import ROOT, score_row, score_weights, technique_flags, train_row, vidmimic

INPUTS_ORDER = ("keypoints", "flow", "flow+keypoints")
SHIPPED = ROOT / "pose_estimation" / "weights" / "lifter.pt"
RECORDED = "†"


def rows() -> list[dict]:
    """Every row: name, tables it appears in, label, data variant, inputs, window, budget (full or short)."""
    out = [{"name": f"t1_{inputs.replace('+', '_')}", "tables": [1], "label": inputs, "variant": "full", "inputs": inputs, "window": 31, "budget": "full"}
           for inputs in INPUTS_ORDER]
    out += [{"name": "t2_static", "tables": [2], "label": "static background", "variant": "static"},
            {"name": "t2_no_occlusion", "tables": [2], "label": "no occlusions", "variant": "no_occlusion"},
            {"name": "t2_full", "tables": ["1b", 2, 3], "label": "full", "variant": "full"}]
    out += [{"name": f"t3_window{w}", "tables": [3], "label": f"{w} frames", "variant": "full", "window": w} for w in (8, 16, 56)]
    for row in out[3:]:
        row.update({"inputs": "flow+keypoints", "budget": "short", **({"window": 31} if "window" not in row else {})})
    out += [{"name": f"t1b_{inputs}", "tables": ["1b"], "label": inputs, "variant": "full", "inputs": inputs, "window": 31, "budget": "short"}
            for inputs in INPUTS_ORDER[:2]]
    return out


def table_label(row: dict, table: int | str) -> str:
    if row["name"] == "t2_full" and table in (3, "1b"):
        return "31 frames" if table == 3 else "flow+keypoints"
    return row["label"]


def interval(d: dict | None) -> str:
    return f" {d['difference_mm']:+.1f} ({d['interval_95_mm'][0]:+.1f} to {d['interval_95_mm'][1]:+.1f}) |" if d else " – |"


def markdown(result: dict) -> str:
    lines = [f"Measured {result['date']} by `{result['command']}`.", ""]
    earlier = sorted({(r["measured"]["date"], r["measured"]["command"]) for r in result["rows"] if "recorded_from" in r})
    if earlier:
        lines += [f"{RECORDED} Taken from `{result['record']}`: the row's weights were not in this run's work folder. It was measured "
                  + "; ".join(f"on {date} by `{command}`" for date, command in earlier) + ".", ""]
    lines += shipped_lines(result)
    views = next((list(r["real"]["per_view"]) for r in result["rows"] if "real" in r), [])
    pooled_views = result["baseline"].get("real_pooled", {}).get("views")
    titles = {1: "Table 1 — inputs", "1b": "Table 1b — inputs at Tables 2 and 3's budget", 2: "Table 2 — training data", 3: "Table 3 — clip length"}
    by_name = {r["name"]: r for r in rows()}
    order = {3: lambda r: by_name[r["name"]]["window"], "1b": lambda r: INPUTS_ORDER.index(by_name[r["name"]]["inputs"])}
    for table, title in titles.items():
        inputs_table = table in (1, "1b")
        entries = sorted((r for r in result["rows"] if table in r["tables"]), key=order.get(table, lambda r: 0))
        entries += [result["baseline"]] if inputs_table else []
        paired = inputs_table and "real" in result["baseline"]
        head = ("| row | training | held-out synthetic PA-MPJPE (mm) | real PA-MPJPE mean (mm) | " + "".join(f"{v} | " for v in views)
                + "real MPJPE mean (mm) |" + (" real minus MediaPipe-IK (mm, 95 % interval) |" if paired else ""))
        extra = 0
        if pooled_views:
            head += f" real, {pooled_views} views of {result['recordings']} recordings: PA-MPJPE mean (mm) |"
            extra = 1 + paired
            head += " its minus MediaPipe-IK (mm, 95 % interval) |" if paired else ""
        lines += [f"### {title}", "", head, "|" + "---|" * (5 + len(views) + paired + extra)]
        for r in entries:
            label = table_label(r, table)
            if "synthetic" not in r:
                lines.append(f"| {label} | not trained yet |" + " |" * (3 + len(views) + paired + extra))
                continue
            real = r.get("real", {})
            label += f" {RECORDED}" if "recorded_from" in r else ""
            per = "".join((f"{real['per_view'][v]['pa_mpjpe_mm']:.1f}" if real else "–") + " | " for v in views)
            mean_pa, mean = (f"{real[k]:.1f}" if real else "–" for k in ("mean_pa_mpjpe_mm", "mean_mpjpe_mm"))
            line = f"| {label} | {r['training']} | {r['synthetic']['pa_mpjpe_mm']:.1f} | {mean_pa} | {per}{mean} |"
            if paired:
                line += interval(r.get("real_minus_mediapipe_ik"))
            if pooled_views:
                pooled = r.get("real_pooled", {})
                name = "mediapipe_ik" if r is result["baseline"] else "lifter"
                line += f" {pooled[name + '_mean_pa_mpjpe_mm']:.1f} |" if pooled else " – |"
                line += interval(pooled.get("lifter_minus_mediapipe_ik")) if paired else ""
            lines.append(line)
        lines.append("")
    return "\n".join(lines)


def shipped_lines(result: dict) -> list[str]:
    """The shipped weights' scores beside the flow + keypoints row's, as markdown lines."""
    shipped = result.get("shipped")
    if not shipped:
        return []
    ratios = shipped.get("ratio_to_flow_keypoints_row", {})
    figures = [f"held-out synthetic PA-MPJPE {shipped['synthetic']['pa_mpjpe_mm']:.1f} mm"]
    if "real" in shipped:
        figures.append(f"real PA-MPJPE mean {shipped['real']['mean_pa_mpjpe_mm']:.1f} mm")
    if "real_pooled" in shipped:
        figures.append(f"real, {shipped['real_pooled']['views']} views: {shipped['real_pooled']['lifter_mean_pa_mpjpe_mm']:.1f} mm")
    text = "**Shipped weights** (`pose_estimation/weights/lifter.pt`), scored in this run: " + ", ".join(figures) + "."
    if ratios:
        text += " Ratio to the flow + keypoints row: " + ", ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in ratios.items()) + "."
    return [text, ""]


def ratios_to_row(shipped: dict, row: dict) -> dict:
    """Shipped weights' figures over a row's, for the figures both have (1.0: the row reproduced)."""
    pairs = {"held_out": lambda e: e["synthetic"]["pa_mpjpe_mm"], "real": lambda e: e["real"]["mean_pa_mpjpe_mm"],
             "real_pooled": lambda e: e["real_pooled"]["lifter_mean_pa_mpjpe_mm"]}
    out = {}
    for name, figure in pairs.items():
        try:
            out[name] = figure(shipped) / figure(row)
        except KeyError:
            continue
    return out


def read_record(path: Path | None) -> dict[str, dict]:
    """Rows of an earlier run's JSON output by name (none when ``path`` is not given or does not exist yet)."""
    if path is None or not path.exists():
        return {}
    try:
        measured = {r["name"]: r for r in json.loads(path.read_text())["rows"] if "synthetic" in r}
        undated = [name for name, r in measured.items() if not {"date", "command"} <= set(r["measured"])]
    except (ValueError, KeyError, TypeError) as e:
        raise SystemExit(f"error: {path}: not a record of lifter_tables.py ({type(e).__name__}: {e})")
    if undated:
        raise SystemExit(f"error: {path}: rows {', '.join(undated)} do not say when and by what command they were measured")
    return measured


def write_atomically(path: Path, text: str) -> None:
    from characters.errors import atomic_output

    with atomic_output(path) as tmp:
        tmp.write_text(text)


def recordings_of_people(folders: list[Path]) -> dict:
    """Name → harness views of every person of each multi-person recording in ``folders``."""
    from lifter_research.multi_person import person_harness_views

    people = {}
    for folder in folders:
        people.update({f"{folder.name}_person{v.report['person']}": v for v in person_harness_views(folder)})
    return people


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True, help="folder for the datasets and the trained rows")
    parser.add_argument("--rows", help="comma-separated rows to train in this run (default: all); see rows() for the names")
    parser.add_argument("--steps", type=int, default=37356, help="Table 1's training steps per row (the recipe's full budget: the shipped run's steps)")
    parser.add_argument("--short-steps", type=int, default=8000, help="Tables 2 and 3's training steps per row")
    parser.add_argument("--minutes-per-row", type=float, default=600.0, help="time cap per row (the step budget is meant to end a row)")
    parser.add_argument("--real-videos", type=Path, default=SHARED_VIDEOS, help="real, unlabelled videos for the recipe's sim+real mixture")
    parser.add_argument("--workers", type=int, default=2, help="processes for data generation")
    parser.add_argument("--no-real", action="store_true", help="skip the real harness")
    parser.add_argument("--real-people", type=Path, action="append", metavar="DIR",
                        help="also score on every person of this calibrated multi-person recording, pooled with the harness "
                             "(repeatable; python -m lifter_research.scripts.fetch_pose2sim_multi fetches one)")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    parser.add_argument("--record", type=Path, help="JSON of rows measured before (lifter_research/results/lifter_tables.json): rows whose weights are not in "
                                                     "--work are taken from it; it is rewritten with this run's rows")
    parser.add_argument("--scale", type=float, default=1.0, help="a fraction of the recipe's clips, held-out ones included (trials of the command)")
    args = parser.parse_args()
    work = args.work.resolve()
    recorded = read_record(args.record)
    every = rows()
    names = [r["name"] for r in every]
    chosen = names if args.rows is None else [n.strip() for n in args.rows.split(",") if n.strip()]
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        parser.error(f"unknown rows {', '.join(unknown)}; rows are {', '.join(names)}")
    for folder in args.real_people or []:
        if not (folder / "calibration" / "Calib.qca.txt").is_file():
            parser.error(f"{folder}: not a calibrated recording (fetch one with python -m lifter_research.scripts.fetch_pose2sim_multi)")

    vidmimic("estimator", "data", str(work / "data_heldout"), *scaled(HELDOUT, args.scale), "--workers", str(args.workers))
    common = [*TRAIN, *technique_flags(list(TECHNIQUES_ON), args.real_videos)]
    for row in (r for r in every if r["name"] in chosen):
        for command in dataset_commands(work, row["variant"], args.workers, args.scale):
            vidmimic(*command)
        steps = args.steps if row["budget"] == "full" else args.short_steps
        train_row(work / "rows" / row["name"], dataset_folders(work, row["variant"]), steps, args.minutes_per_row,
                  "--inputs", row["inputs"], "--window", str(row["window"]), *common)

    from lifter_research.lifter_evaluate import evaluate_synthetic_baseline
    from lifter_research.real_harness import compare_recordings, harness_views, score_estimator
    from pose_estimation.estimate import mediapipe_ik

    views = None if args.no_real else harness_views()
    people = {} if views is None else recordings_of_people(args.real_people or [])
    baseline = {"name": "mediapipe_ik", "label": "MediaPipe-IK baseline", "tables": [1], "training": "none (MediaPipe's own)",
                "synthetic": evaluate_synthetic_baseline(work / "data_heldout")}
    baseline_frames: list = []
    if views is not None:
        baseline["real"] = score_estimator(views, mediapipe_ik, baseline_frames)
    if people:
        baseline["real_pooled"] = compare_recordings({"single": views, **people}, {"mediapipe_ik": mediapipe_ik}, [])["pooled"]
    command = "python -m lifter_research.scripts.lifter_tables " + " ".join(sys.argv[1:])
    result: dict = {"date": time.strftime("%Y-%m-%d"), "command": command, "rows": [], "record": str(args.record) if args.record else None,
                    "recordings": 1 + len(args.real_people or []), "people": {name: v.report for name, v in people.items()}}
    frames = baseline_frames if views is not None else None
    for row in every:
        entry = {k: row[k] for k in ("name", "label", "tables")}
        run = work / "rows" / row["name"]
        if (run / "lifter.pt").exists():
            entry.update(score_row(run, work / "data_heldout", views, frames, people), measured={"date": result["date"], "command": command})
        elif row["name"] in recorded:
            entry.update({k: v for k, v in recorded[row["name"]].items() if k not in entry}, recorded_from=str(args.record))
        result["rows"].append(entry)
        print(json.dumps(entry), file=sys.stderr, flush=True)
    result["baseline"] = baseline
    if SHIPPED.exists():
        result["shipped"] = score_weights(SHIPPED, work / "data_heldout", views, frames, people)
        flow_keypoints = next(r for r in result["rows"] if r["name"] == "t1_flow_keypoints")
        if "synthetic" in flow_keypoints:
            result["shipped"]["ratio_to_flow_keypoints_row"] = ratios_to_row(result["shipped"], flow_keypoints)
    print(json.dumps(result, indent=1))
    if args.markdown:
        write_atomically(args.markdown, markdown(result) + "\n")
    if args.record:
        kept = {"rows": [{k: v for k, v in r.items() if k != "recorded_from"} for r in result["rows"]]}
        write_atomically(args.record, json.dumps({**result, **kept}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
