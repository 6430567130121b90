"""The CLI hides third-party log noise unless ``--verbose``, and hides nothing else."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, WALK

# Written out here, not taken from app.quiet, so a pattern the filter misses fails the test.
THIRD_PARTY = re.compile(
    r"^[IW]\d{4} \d\d:\d\d:|absl::InitializeLog|TensorFlow Lite|OpenCV: FFMPEG|pybullet build time", re.MULTILINE
)


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m app.cli ARGS`` as a fresh program (no inherited quieting or verbosity)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDMIMIC_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A short video of a person (the sample walk, rendered; VP8 in WebM like a phone's upload)."""
    from app.sample_video import write_sample_video

    return write_sample_video(tmp_path_factory.mktemp("clip") / "walk.webm", seconds=0.5)


def test_estimate_prints_progress_but_no_third_party_lines(clip, tmp_path):
    quiet = run("estimate", str(clip), "-o", str(tmp_path / "quiet"), "--max-frames", "8")
    assert quiet.returncode == 0, quiet.stderr
    assert THIRD_PARTY.findall(quiet.stderr) == [], quiet.stderr
    assert "keypoints" in quiet.stderr and "overlay" in quiet.stderr  # our own progress stays
    assert '"frames": 8' in quiet.stdout

    loud = run("--verbose", "estimate", str(clip), "-o", str(tmp_path / "loud"), "--max-frames", "8")
    assert loud.returncode == 0, loud.stderr
    shown = set(THIRD_PARTY.findall(loud.stderr))
    assert "TensorFlow Lite" in shown and "OpenCV: FFMPEG" in shown, loud.stderr


def test_pybullet_banner_only_with_verbose(tmp_path):
    quiet = run("preview", str(WALK), "-o", str(tmp_path / "a.png"), "--width", "64", "--height", "48")
    assert quiet.returncode == 0, quiet.stderr
    assert "pybullet build time" not in quiet.stderr
    loud = run("--verbose", "preview", str(WALK), "-o", str(tmp_path / "b.png"), "--width", "64", "--height", "48")
    assert loud.returncode == 0, loud.stderr
    assert "pybullet build time" in loud.stderr


def test_errors_stay_visible(tmp_path):
    result = run("estimate", str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"vidmimic: error: {tmp_path / 'missing.mp4'}: no such file"]


FILTERED_CHILD = """
import importlib, multiprocessing, os, sys
from app.quiet import install
install()
os.write(2, b"W0000 00:00:1796402268.169551   26586 inference_feedback_manager.cc:114] noise\\n")
os.write(2, b"E0000 00:00:1796402268.169551   26586 calculator_graph.cc:928] a real C++ error\\n")
os.write(2, b"keypoints    [####......] 4/10\\rkeypoints    [##########] 10/10\\n")
# A worker as the web app starts them (spawn): fd 2 is inherited, so its noise is filtered too.
child = multiprocessing.get_context("spawn").Process(target=importlib.import_module, args=("pybullet",))
child.start()
child.join()
os.write(2, b"OpenCV: FFMPEG: tag 0x30385056/'VP80' is not supported with codec id 139 and format 'webm / WebM'\\n")
os.write(2, b"an unfinished line")
raise SystemExit("a Python error at the end")
"""


def test_filter_drops_only_noise_also_in_spawned_workers():
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDMIMIC_")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-c", FILTERED_CHILD], capture_output=True, env=env, timeout=120)
    assert result.returncode == 1
    assert result.stderr == (
        b"E0000 00:00:1796402268.169551   26586 calculator_graph.cc:928] a real C++ error\n"
        b"keypoints    [####......] 4/10\rkeypoints    [##########] 10/10\n"
        b"an unfinished linea Python error at the end\n"
    )


def test_verbose_reaches_children():
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDMIMIC_")}
    env.update(PYTHONPATH=str(ROOT), VIDMIMIC_VERBOSE="1")
    code = "from app.quiet import install; install(); import pybullet"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert "pybullet build time" in result.stderr
