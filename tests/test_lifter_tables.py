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
