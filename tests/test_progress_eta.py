"""The training line's ETA tells the wall-clock time left until the run's budget ends it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time

from control.train import clock, seconds_left
from tests.conftest import ROOT, WALK

ETA = re.compile(r"^steps +[\d,]+ .* ETA +(?:(\d+):)?(\d+):(\d\d)$")


def test_seconds_left_is_the_budget_that_ends_first():
    assert seconds_left(samples_left=1000, samples_per_s=100.0, deadline_s=30.0) == 10.0  # samples run out first
    assert seconds_left(samples_left=10_000, samples_per_s=100.0, deadline_s=30.0) == 30.0  # the clock does
    assert seconds_left(samples_left=-5, samples_per_s=100.0, deadline_s=30.0) == 0.0
    assert clock(75.4) == "   1:15" and clock(3725) == "1:02:05"


def test_eta_of_a_real_training_run_matches_the_time_left_at_its_midpoint(tmp_path):
    """``vidmimic train`` on 2 MPI ranks with a 30 s budget (the clock ends it, as it ends the
    2-minute demo's): the ETA printed nearest the middle of the run is within 20 % of the time
    the run actually went on for, until its policy was saved. The child ranks print no pybullet banner."""
    budget_s = 30.0
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDMIMIC_")}
    env["PYTHONPATH"] = str(ROOT)
    cmd = [sys.executable, "-m", "app.cli", "train", str(WALK), "-o", str(tmp_path / "run"), "--workers", "2",
           "--minutes", str(budget_s / 60), "--envs", "4", "--n-steps", "128", "--checkpoint-minutes", "100"]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    stderr: list[tuple[float, str]] = []
    reader = threading.Thread(target=lambda: stderr.extend((time.monotonic(), line) for line in process.stderr))
    reader.start()
    lines = [(time.monotonic(), line.rstrip("\n")) for line in process.stdout]  # stamped as they arrive
    process.wait(timeout=300)
    reader.join()
    errors = "".join(line for _, line in stderr)
    assert process.returncode == 0, errors
    assert "pybullet build time" not in errors
    # The run ends when its policy is saved (the ranks' exit after it is not part of the budget).
    ended = next(t for t, line in stderr if line.startswith("saved "))

    etas = [(t, 3600 * int(m[1] or 0) + 60 * int(m[2]) + int(m[3])) for t, line in lines if (m := ETA.match(line))]
    assert len(etas) >= 5, lines
    middle = min(etas, key=lambda e: abs(e[0] - (etas[0][0] + ended) / 2))
    actual = ended - middle[0]
    assert abs(middle[1] - actual) <= 0.2 * actual, f"ETA {middle[1]} s at the midpoint, {actual:.1f} s actually left"
