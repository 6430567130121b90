"""The web app under bad and heavy uploads, against a real server process.

    python benchmarks/upload_robustness.py [--max-upload-mb 50] [--concurrent 10]

Starts ``vidmimic serve`` (fast job configuration, as the tests use), then sends: a zero-byte
file, a truncated video, a non-video, a 4K clip, a very long clip (20 min), an oversize file, a
filename with ``../``, and ``--concurrent`` uploads at once — while another thread polls the
status endpoint of a job throughout and for ``--poll-seconds`` after, while the jobs run. Prints JSON: each case's HTTP status and message, whether
every case got a job (201) or a 4xx, whether any file landed outside its job folder, whether
every created job is still listed, whether the server still answers, requests handled, errors by
status code, and the status endpoint's latency (median and p95, ms) under that load.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def write_clip(path: Path, size: tuple[int, int], frames: int, fps: float = 30.0) -> Path:
    """A clip of a bright square moving over grey, ``size`` = (width, height) in pixels, MPEG-4 Part 2."""
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    frame = np.full((height, width, 3), 90, np.uint8)
    side = max(height // 8, 4)
    for i in range(frames):
        frame[:] = 90
        x = (i * 7) % max(width - side, 1)
        frame[height // 3: height // 3 + side, x: x + side] = 230
        writer.write(frame)
    writer.release()
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-upload-mb", type=float, default=50.0)
    parser.add_argument("--concurrent", type=int, default=10)
    parser.add_argument("--poll-seconds", type=float, default=30.0, help="keep polling this long after the uploads, while the jobs run")
    args = parser.parse_args()
    from tests.server_process import Server

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        small = write_clip(tmp / "small.mp4", (320, 240), 45)
        cases = {
            "zero_byte": ("empty.mp4", b""),
            "truncated": ("truncated.mp4", small.read_bytes()[: small.stat().st_size // 3]),
            "not_a_video": ("notes.mp4", b"these are not the frames you are looking for\n" * 200),
            "4k": ("uhd.mp4", write_clip(tmp / "uhd.mp4", (3840, 2160), 30).read_bytes()),
            "very_long_20min": ("long.mp4", write_clip(tmp / "long.mp4", (96, 64), 20 * 60 * 10, fps=10).read_bytes()),
            "oversize": ("big.mp4", small.read_bytes() + bytes(int((args.max_upload_mb + 1) * (1 << 20)))),
            "dot_dot_filename": ("../../../escape.mp4", small.read_bytes()),
        }
        data = tmp / "data"
        server = Server(data, "--max-upload-mb", str(args.max_upload_mb))
        statuses: Counter = Counter()
        latencies: list[float] = []
        created: list[str] = []
        lock = threading.Lock()

        def post(name: str, body: bytes) -> dict:
            reply = requests.post(server.url + "/api/jobs", files={"file": (name, body)}, timeout=300)
            with lock:
                statuses[reply.status_code] += 1
                if reply.status_code == 201:
                    created.append(reply.json()["id"])
            content = reply.json() if reply.headers.get("content-type", "").startswith("application/json") else {}
            return {"status": reply.status_code, "message": content.get("error", "")}

        stop = threading.Event()
        try:
            first = post("first.mp4", small.read_bytes())
            assert first["status"] == 201, first

            def poll() -> None:
                url = f"{server.url}/api/jobs/{created[0]}"
                while not stop.is_set():
                    start = time.perf_counter()
                    reply = requests.get(url, timeout=60)
                    with lock:
                        latencies.append(1000 * (time.perf_counter() - start))
                        statuses[reply.status_code] += 1
                    time.sleep(0.05)

            poller = threading.Thread(target=poll)
            poller.start()
            results = {name: post(*case) for name, case in cases.items()}
            with ThreadPoolExecutor(args.concurrent) as pool:
                together = list(pool.map(lambda i: post(f"concurrent_{i}.mp4", small.read_bytes()), range(args.concurrent)))
            results["concurrent"] = {"uploads": args.concurrent, "statuses": dict(Counter(r["status"] for r in together))}
            time.sleep(args.poll_seconds)
            stop.set()
            poller.join()
            jobs = requests.get(server.url + "/api/jobs", timeout=60).json()
            listed = {job["id"] for job in jobs}
            results["dot_dot_filename"]["job_name"] = next((j["name"] for j in jobs if j["name"].endswith("escape.mp4")), None)
            alive = requests.get(server.url + "/", timeout=60).status_code == 200
        finally:
            stop.set()
            server.stop()
        clips = {"small.mp4", "uhd.mp4", "long.mp4"}
        escaped = [str(p) for p in tmp.iterdir() if p.name not in clips | {"data"}]
        escaped += [str(p) for p in data.rglob("*") if p.is_file() and not p.name.startswith("jobs.sqlite") and p.name != "server.lock"
                    and not (p.relative_to(data).parts[0] == "jobs" and p.relative_to(data).parts[1] in created)]
        answered = [r["status"] for name, r in results.items() if name != "concurrent"] + [r["status"] for r in together]
        report = {
            "cases": results,
            "every_answer_a_job_or_4xx": all(s == 201 or 400 <= s < 500 for s in answered),
            "files_outside_their_job_folder": escaped,
            "jobs_created": len(created),
            "jobs_lost": sorted(set(created) - listed),
            "server_still_serving": alive,
            "requests_handled": sum(statuses.values()),
            "responses_by_status": {str(k): v for k, v in sorted(statuses.items())},
            "status_endpoint_ms": {"requests": len(latencies), "median": round(float(np.median(latencies)), 1),
                                   "p95": round(float(np.percentile(latencies, 95)), 1)},
        }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
