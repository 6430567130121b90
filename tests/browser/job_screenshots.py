"""The README's pictures of the web app, made from a real job.

    .venv/bin/python tests/browser/job_screenshots.py [OUT_DIR]

Starts ``vidmimic serve`` with the demo's training budget (2 minutes), uploads the demo's
generated sample video as a walk with the demo's estimator, the server warm-starting from
policies/sample_walk as the demo does, waits for the job to finish (about 3 minutes on 2 cores),
and saves what a browser shows at the top of its page
(tests/browser/screenshot.js, the 3D viewer drawing): ``job_desktop.png`` at 1280×800 and
``job_phone.png`` at 390×844, plus the upload page at 390×844 (``upload_phone.png``), in OUT_DIR
(default docs/images). Each PNG is reduced to a 256-colour palette to stay small.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SHOTS = {"job_desktop.png": ("job", "1280x800"), "job_phone.png": ("job", "390x844"), "upload_phone.png": ("upload", "390x844")}


def shrink(path: Path) -> int:
    """Rewrite the PNG with a 256-colour palette; returns its size in bytes."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)
    return path.stat().st_size


def wait_ready(url: str, server: subprocess.Popen, timeout: float = 90) -> None:
    import requests

    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"vidmimic serve exited with {server.returncode}")
        try:
            requests.get(url + "/api/session", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.3)
    raise RuntimeError("vidmimic serve did not start")


def main(out: Path) -> int:
    import requests

    from app.demo import DEMO_ESTIMATOR  # the estimator whose gait cycle policies/sample_walk was trained on
    from app.sample_video import write_sample_video
    from tests.server_process import free_port

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sample = write_sample_video(tmp / "sample_walk.webm")
        # the demo's budget (`vidmimic demo`: 2 minutes of training), not the tests' few iterations
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--data", str(tmp / "data"), "--train-minutes", "2",
                                   "--init-policy", str(ROOT / "policies" / "sample_walk" / "policy.zip")],
                                  cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, server)
            with sample.open("rb") as f:
                job = requests.post(url + "/api/jobs", files={"file": ("sample_walk.webm", f)}, data={"walk_cycle": "true", "estimator": DEMO_ESTIMATOR}, timeout=120).json()["id"]
            while (status := requests.get(f"{url}/api/jobs/{job}", timeout=10).json())["status"] not in ("done", "failed"):
                time.sleep(1)
            if status["status"] != "done":
                print(f"the job failed: {status['error']}", file=sys.stderr)
                return 1
            for name, (page, size) in SHOTS.items():
                page_url = f"{url}/jobs/{job}" if page == "job" else url + "/"
                subprocess.run(["node", str(ROOT / "tests" / "browser" / "screenshot.js"), page_url, str(out / name), size, *(["--viewer"] if page == "job" else [])],
                               check=True)
                print(f"{out / name}: {shrink(out / name) / 1000:.0f} kB")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images"))
