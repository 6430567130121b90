"""The tables' command (lifter_research/scripts/lifter_tables.py) at a thousandth of the recipe's clips."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "lifter_research" / "results" / "lifter_tables.json"
"""The committed record of every row measured (``--record``), kept beside the research code."""


def tables(work: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lifter_research.scripts.lifter_tables", "--work", str(work), "--scale", "0.001", "--no-real", "--workers", "1", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)


def recorded_row(name: str, held_out_mm: float) -> dict:
    """A row as an earlier run of the command recorded it (held-out figure only, as with --no-real)."""
    return {"name": name, "training": "9.0 min, 9 steps", "synthetic": {"pa_mpjpe_mm": held_out_mm},
            "measured": {"date": "2026-11-28", "command": "python -m lifter_research.scripts.lifter_tables --rows " + name}}


def test_rows_train_resume_and_are_reused(tmp_path):
    work, md, record = tmp_path / "tables", tmp_path / "tables.md", tmp_path / "record.json"
    # A row measured before whose weights are not in the work folder comes from the record;
    # a recorded row whose weights are there is measured again.
    record.write_text(json.dumps({"rows": [recorded_row("t2_full", 71.5), recorded_row("t1_keypoints", 1.0)]}))
    done = tables(work, "--rows", "t1_keypoints,t3_window8", "--steps", "3", "--short-steps", "4", "--markdown", str(md), "--record", str(record))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    trained = {r["name"]: r for r in result["rows"] if "synthetic" in r}
    assert sorted(trained) == ["t1_keypoints", "t2_full", "t3_window8"]
    assert trained["t1_keypoints"]["training"].endswith(" 3 steps") and trained["t3_window8"]["training"].endswith(" 4 steps")
    assert "--inputs keypoints" in trained["t1_keypoints"]["command"] and "--window 8" in trained["t3_window8"]["command"]
    assert all("--sim-real-mix" in r["command"] and "--weight-camera-frame-3d 10" in r["command"] for n, r in trained.items() if n != "t2_full")
    assert trained["t2_full"]["recorded_from"] == str(record) and trained["t2_full"]["synthetic"]["pa_mpjpe_mm"] == 71.5
    assert trained["t1_keypoints"]["synthetic"]["pa_mpjpe_mm"] != 1.0 and trained["t1_keypoints"]["measured"]["date"] == result["date"]
    text = md.read_text()
    assert text.count("not trained yet") == 8  # flow, flow+keypoints; keypoints and flow at the short budget; static, no occlusions; 16, 56
    assert "| keypoints | " in text and "| 8 frames | " in text and "| MediaPipe-IK baseline | " in text
    assert "| full † | 9.0 min, 9 steps | 71.5 |" in text and "| 31 frames † | 9.0 min, 9 steps | 71.5 |" in text
    short_inputs = text.split("### Table 1b")[1].split("### Table 2")[0]  # the inputs at the short budget: Table 2's full row is flow + keypoints
    assert [short_inputs.index(f"| {label}") for label in ("keypoints |", "flow |", "flow+keypoints †", "MediaPipe-IK")] == sorted(
        short_inputs.index(f"| {label}") for label in ("keypoints |", "flow |", "flow+keypoints †", "MediaPipe-IK"))
    assert "| flow+keypoints † | 9.0 min, 9 steps | 71.5 |" in short_inputs
    clip_lengths = text.split("Table 3")[1]
    assert [clip_lengths.index(f"| {w} frames") for w in (8, 16, 31, 56)] == sorted(clip_lengths.index(f"| {w} frames") for w in (8, 16, 31, 56))
    assert "measured on 2026-11-28 by `python -m lifter_research.scripts.lifter_tables --rows t2_full`" in text
    # The shipped weights are scored on the same held-out clips (no flow + keypoints row here to compare with).
    assert result["shipped"]["synthetic"]["clips"] == trained["t1_keypoints"]["synthetic"]["clips"]
    assert "**Shipped weights**" in text and "Ratio to the flow + keypoints row" not in text
    rewritten = {r["name"]: r for r in json.loads(record.read_text())["rows"]}
    assert rewritten["t1_keypoints"]["synthetic"] == trained["t1_keypoints"]["synthetic"]
    assert rewritten["t2_full"]["measured"]["date"] == "2026-11-28" and "recorded_from" not in rewritten["t2_full"]
    assert "synthetic" not in rewritten["t1_flow"]

    # A row stopped midway (a checkpoint, no weights) resumes; finished rows are not trained again.
    keypoints_summary = (work / "rows" / "t1_keypoints" / "train.json").read_text()
    (work / "rows" / "t3_window8" / "lifter.pt").unlink()
    done = tables(work, "--rows", "t1_keypoints,t3_window8", "--steps", "3", "--short-steps", "6")
    assert done.returncode == 0, done.stderr[-3000:]
    resumed = json.loads((work / "rows" / "t3_window8" / "train.json").read_text())
    assert resumed["command"].endswith("--resume") and resumed["steps"] == 6
    assert (work / "rows" / "t1_keypoints" / "train.json").read_text() == keypoints_summary


def test_a_record_that_does_not_say_when_a_row_was_measured_is_refused(tmp_path):
    record = tmp_path / "record.json"
    record.write_text(json.dumps({"rows": [recorded_row("t2_full", 71.5) | {"measured": {"date": "2026-11-28"}}]}))
    refused = tables(tmp_path / "tables", "--rows", "t1_keypoints", "--record", str(record))
    assert refused.returncode == 1 and "rows t2_full do not say when and by what command" in refused.stderr
    record.write_text("{not json")
    refused = tables(tmp_path / "tables", "--rows", "t1_keypoints", "--record", str(record))
    assert refused.returncode == 1 and "not a record of lifter_tables.py" in refused.stderr
    assert not (tmp_path / "tables").exists()


def test_shipped_weights_against_the_flow_keypoints_row():
    from lifter_research.scripts.lifter_tables import ratios_to_row, shipped_lines

    row = {"synthetic": {"pa_mpjpe_mm": 66.0}, "real": {"mean_pa_mpjpe_mm": 86.0}}
    shipped = {"synthetic": {"pa_mpjpe_mm": 69.3}, "real": {"mean_pa_mpjpe_mm": 86.0}}
    shipped["ratio_to_flow_keypoints_row"] = ratios_to_row(shipped, row)
    assert shipped["ratio_to_flow_keypoints_row"] == {"held_out": pytest.approx(1.05), "real": 1.0}
    (line, _) = shipped_lines({"shipped": shipped})
    assert "held-out synthetic PA-MPJPE 69.3 mm, real PA-MPJPE mean 86.0 mm" in line and "held out 1.050, real 1.000" in line


def test_unknown_rows_are_refused(tmp_path):
    refused = tables(tmp_path / "tables", "--rows", "t1_keypoints,t9_nonsense")
    assert refused.returncode == 2 and "unknown rows t9_nonsense" in refused.stderr
    assert not (tmp_path / "tables").exists()


def test_a_folder_that_is_not_a_recording_is_refused(tmp_path):
    refused = tables(tmp_path / "tables", "--rows", "t1_keypoints", "--real-people", str(tmp_path / "nowhere"))
    assert refused.returncode == 2 and "not a calibrated recording" in refused.stderr
    assert not (tmp_path / "tables").exists()


def test_pooled_real_columns_in_the_markdown():
    from lifter_research.scripts.lifter_tables import markdown, rows

    views = {f"cam0{i}": {"pa_mpjpe_mm": 80.0 + i} for i in range(1, 5)}
    real = {"per_view": views, "mean_pa_mpjpe_mm": 82.5, "mean_mpjpe_mm": 130.0}
    paired = {"difference_mm": -3.08, "interval_95_mm": [-6.75, 1.51]}
    trained = {"training": "1.0 min, 3 steps", "synthetic": {"pa_mpjpe_mm": 66.0}, "real": real, "real_minus_mediapipe_ik": paired,
               "real_pooled": {"views": 12, "lifter_mean_pa_mpjpe_mm": 83.07, "mediapipe_ik_mean_pa_mpjpe_mm": 86.15, "lifter_minus_mediapipe_ik": paired}}
    entries = [{k: r[k] for k in ("name", "label", "tables")} | (trained if r["name"] == "t1_flow_keypoints" else {}) for r in rows()]
    baseline = {"name": "mediapipe_ik", "label": "MediaPipe-IK baseline", "tables": [1], "training": "none", "synthetic": {"pa_mpjpe_mm": 30.6},
                "real": real, "real_pooled": {"views": 12, "mediapipe_ik_mean_pa_mpjpe_mm": 86.15}}
    text = markdown({"date": "2026-11-28", "command": "c", "rows": entries, "baseline": baseline, "recordings": 2})
    table1 = text.split("### Table 1b")[0]
    assert "real, 12 views of 2 recordings: PA-MPJPE mean (mm) | its minus MediaPipe-IK (mm, 95 % interval) |" in table1
    assert "| 83.1 | -3.1 (-6.8 to +1.5) |" in table1 and "| MediaPipe-IK baseline | none | 30.6 |" in table1
    assert table1.rstrip().endswith("| 86.2 | – |")
    for line in text.splitlines():  # every row of a table has its header's number of cells
        if line.startswith("| row "):
            cells = line.count("|")
        elif line.startswith("|"):
            assert line.count("|") == cells, line


def test_the_committed_record_holds_every_row_and_the_docs_show_it():
    from lifter_research.scripts.lifter_tables import read_record, rows

    measured = read_record(RECORD)  # refuses a record whose rows do not say when and by what command
    assert sorted(measured) == sorted(r["name"] for r in rows())
    page = (ROOT / "docs" / "lifter_tables.md").read_text()
    for name, row in measured.items():
        assert f"| {row['training']} | {row['synthetic']['pa_mpjpe_mm']:.1f} | {row['real']['mean_pa_mpjpe_mm']:.1f} |" in page, name
