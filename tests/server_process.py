"""``vidmimic serve`` as a real process for tests and benchmarks: start, wait, inspect, stop."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
FAST_JOBS = {"VIDMIMIC_TRAIN_TIMESTEPS": "1024"}  # with --train-minutes 0.15: training ends after a few iterations


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def children(pid: int) -> list[int]:
    """Live direct children of ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def worker_pids(server_pid: int) -> list[int]:
    """The server's live worker processes (its other child is multiprocessing's resource tracker)."""
    return [p for p in children(server_pid) if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


class Server:
    """``vidmimic serve --port P --data DATA EXTRA...`` with fast jobs, started in its own session."""

    def __init__(self, data: Path, *extra: str, env: dict | None = None, train_minutes: str = "0.15", wait: bool = True, token: str | None = None,
                 preexec_fn=None):
        self.data = Path(data)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = token
        fd, log = tempfile.mkstemp(prefix=f"vidmimic-server-{self.port}-", suffix=".log")
        self.log_path = Path(log)
        cmd = [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port), "--data", str(data), "--train-minutes", train_minutes, *extra]
        environment = dict(os.environ, PYTHONPATH=str(ROOT), **FAST_JOBS, **(env or {}))
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=environment, stdout=fd, stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=preexec_fn)
        os.close(fd)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log()[-2000:]}")
            try:
                requests.get(self.url + "/api/session", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.3)
        raise RuntimeError(f"server did not start: {self.log()[-2000:]}")

    def log(self) -> str:
        """What the server printed (kept after ``stop``)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else getattr(self, "final_log", "")

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, headers={**self.headers, **kwargs.pop("headers", {})}, timeout=kwargs.pop("timeout", 30), **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return requests.post(self.url + path, headers={**self.headers, **kwargs.pop("headers", {})}, timeout=kwargs.pop("timeout", 120), **kwargs)

    def upload(self, video: Path, name: str | None = None, **fields: str) -> requests.Response:
        with Path(video).open("rb") as f:
            return self.post("/api/jobs", files={"file": (name or Path(video).name, f)}, data=fields)

    def wait_for(self, job_id: str, statuses=("done", "failed"), stages=None, timeout: float = 300) -> dict:
        """The job once its status is in ``statuses`` (and its stage in ``stages``, if given)."""
        deadline = time.time() + timeout
        job = {}
        while time.time() < deadline:
            job = self.get(f"/api/jobs/{job_id}").json()
            if job.get("status") in statuses and (stages is None or job.get("stage") in stages):
                return job
            if job.get("status") == "failed" and "failed" not in statuses:
                raise AssertionError(f"job failed: {job.get('error')}")
            time.sleep(0.5)
        raise AssertionError(f"job still {job.get('status')} at stage {job.get('stage')}; log: {self.log()[-1500:]}")

    def job_row(self, job_id: str, database: Path | None = None) -> dict:
        """The job's row straight from the SQLite file (with its owner columns, which the API hides)."""
        with sqlite3.connect(database or self.data / "jobs.sqlite") as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return dict(row) if row else {}

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the server's whole process group (as a terminal or service manager does) and wait for it."""
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        self._forget_log()

    def _forget_log(self) -> None:
        self.final_log = self.log()
        self.log_path.unlink(missing_ok=True)

    def stop(self) -> None:
        """SIGTERM to the server and wait; SIGKILL to its group if it has not exited after 20 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._forget_log()
