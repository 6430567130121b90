"""Regenerate the README's images in docs/images/ with the project's own commands.

    .venv/bin/python scripts/make_images.py

overlay.png  : frames of `vidmimic estimate` on the demo's generated sample video
replay.png   : frames of `vidmimic replay policies/humanoid3d_walk/policy.zip`
sample_replay.png : frames of `vidmimic replay policies/sample_walk/policy.zip` (10 s), the
               policy `vidmimic demo` warm-starts from, replayed from the cycle's start as the demo does
job_page.png : the web app's job page after uploading that sample video as a walk, the server
               warm-starting from policies/sample_walk, captured in headless Chromium
               (tests/browser/screenshot.js)

Only the project's own renderings appear: no third-party footage goes into the repository.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
sys.path.insert(0, str(ROOT))


def strip(video: Path, out: Path, count: int, height: int) -> None:
    cap = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    picks = np.linspace(0, len(frames) - 1, count).astype(int)
    row = [cv2.resize(frames[i], (int(frames[i].shape[1] * height / frames[i].shape[0]), height)) for i in picks]
    cv2.imwrite(str(out), np.concatenate(row, axis=1))


def main() -> int:
    cli = [sys.executable, "-m", "app.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        from app.sample_video import write_sample_video

        sample = write_sample_video(tmp / "sample_walk.webm")
        subprocess.run([*cli, "estimate", str(sample), "-o", str(tmp / "est")], check=True, cwd=ROOT, capture_output=True)
        strip(tmp / "est" / "overlay.webm", IMAGES / "overlay.png", 4, 320)
        subprocess.run([*cli, "replay", str(ROOT / "policies" / "humanoid3d_walk" / "policy.zip"), "-o", str(tmp / "replay.webm"), "--seconds", "4"], check=True, cwd=ROOT, capture_output=True)
        strip(tmp / "replay.webm", IMAGES / "replay.png", 4, 225)
        subprocess.run([*cli, "replay", str(ROOT / "policies" / "sample_walk" / "policy.zip"), "-o", str(tmp / "sample.webm"), "--seconds", "10"], check=True, cwd=ROOT, capture_output=True)
        strip(tmp / "sample.webm", IMAGES / "sample_replay.png", 6, 180)

        from tests.server_process import Server

        server = Server(tmp / "data", "--init-policy", str(ROOT / "policies" / "sample_walk" / "policy.zip"))
        try:
            with sample.open("rb") as f:
                job = requests.post(server.url + "/api/jobs", files={"file": ("sample_walk.webm", f)}, data={"walk_cycle": "true"}).json()["id"]
            while requests.get(f"{server.url}/api/jobs/{job}").json()["status"] not in ("done", "failed"):
                time.sleep(1)
            subprocess.run(["node", str(ROOT / "tests" / "browser" / "screenshot.js"), f"{server.url}/jobs/{job}", str(IMAGES / "job_page.png"), "1"], check=True)
        finally:
            server.kill(signal.SIGTERM)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
