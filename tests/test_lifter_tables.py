"""The tables' command (benchmarks/lifter_tables.py) at a thousandth of the recipe's clips."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tables(work: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "benchmarks/lifter_tables.py", "--work", str(work), "--scale", "0.001", "--no-real", "--workers", "1", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)


def test_rows_train_resume_and_are_reused(tmp_path):
    work, md = tmp_path / "tables", tmp_path / "tables.md"
    done = tables(work, "--rows", "t1_keypoints,t3_window8", "--steps", "3", "--short-steps", "4", "--markdown", str(md))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    trained = {r["name"]: r for r in result["rows"] if "synthetic" in r}
    assert sorted(trained) == ["t1_keypoints", "t3_window8"]
    assert trained["t1_keypoints"]["training"].endswith(" 3 steps") and trained["t3_window8"]["training"].endswith(" 4 steps")
    assert "--inputs keypoints" in trained["t1_keypoints"]["command"] and "--window 8" in trained["t3_window8"]["command"]
    assert all("--sim-real-mix" in r["command"] and "--weight-camera-frame-3d 10" in r["command"] for r in trained.values())
    text = md.read_text()
    assert text.count("not trained yet") == 8  # flow, flow+keypoints; static, no occlusions, full; 31 (= full), 16, 56
    assert "| keypoints | " in text and "| 8 frames | " in text and "| MediaPipe-IK baseline | " in text

    # A row stopped midway (a checkpoint, no weights) resumes; finished rows are not trained again.
    keypoints_summary = (work / "rows" / "t1_keypoints" / "train.json").read_text()
    (work / "rows" / "t3_window8" / "lifter.pt").unlink()
    done = tables(work, "--rows", "t1_keypoints,t3_window8", "--steps", "3", "--short-steps", "6")
    assert done.returncode == 0, done.stderr[-3000:]
    resumed = json.loads((work / "rows" / "t3_window8" / "train.json").read_text())
    assert resumed["command"].endswith("--resume") and resumed["steps"] == 6
    assert (work / "rows" / "t1_keypoints" / "train.json").read_text() == keypoints_summary


def test_unknown_rows_are_refused(tmp_path):
    refused = tables(tmp_path / "tables", "--rows", "t1_keypoints,t9_nonsense")
    assert refused.returncode == 2 and "unknown rows t9_nonsense" in refused.stderr
    assert not (tmp_path / "tables").exists()


def test_a_folder_that_is_not_a_recording_is_refused(tmp_path):
    refused = tables(tmp_path / "tables", "--rows", "t1_keypoints", "--real-people", str(tmp_path / "nowhere"))
    assert refused.returncode == 2 and "not a calibrated recording" in refused.stderr
    assert not (tmp_path / "tables").exists()


def test_pooled_real_columns_in_the_markdown():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from lifter_tables import markdown, rows

    views = {f"cam0{i}": {"pa_mpjpe_mm": 80.0 + i} for i in range(1, 5)}
    real = {"per_view": views, "mean_pa_mpjpe_mm": 82.5, "mean_mpjpe_mm": 130.0}
    paired = {"difference_mm": -3.08, "interval_95_mm": [-6.75, 1.51]}
    trained = {"training": "1.0 min, 3 steps", "synthetic": {"pa_mpjpe_mm": 66.0}, "real": real, "real_minus_mediapipe_ik": paired,
               "real_pooled": {"views": 12, "lifter_mean_pa_mpjpe_mm": 83.07, "mediapipe_ik_mean_pa_mpjpe_mm": 86.15, "lifter_minus_mediapipe_ik": paired}}
    entries = [{k: r[k] for k in ("name", "label", "tables")} | (trained if r["name"] == "t1_flow_keypoints" else {}) for r in rows()]
    baseline = {"name": "mediapipe_ik", "label": "MediaPipe-IK baseline", "tables": [1], "training": "none", "synthetic": {"pa_mpjpe_mm": 30.6},
                "real": real, "real_pooled": {"views": 12, "mediapipe_ik_mean_pa_mpjpe_mm": 86.15}}
    text = markdown({"date": "2026-11-28", "command": "c", "rows": entries, "baseline": baseline, "recordings": 2})
    table1 = text.split("### Table 2")[0]
    assert "real, 12 views of 2 recordings: PA-MPJPE mean (mm) | its minus MediaPipe-IK (mm, 95 % interval) |" in table1
    assert "| 83.1 | -3.1 (-6.8 to +1.5) |" in table1 and "| MediaPipe-IK baseline | none | 30.6 |" in table1
    assert table1.rstrip().endswith("| 86.2 | – |")
    for line in text.splitlines():  # every row of a table has its header's number of cells
        if line.startswith("| row "):
            cells = line.count("|")
        elif line.startswith("|"):
            assert line.count("|") == cells, line
