"""The server's worker processes: started with it, replaced when one dies, killed with it.

Workers must be started (and replaced) from the server's main thread: the kernel's
parent-death signal they ask for fires when the *thread* that started them ends.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time

from app.server.settings import Settings
from app.server.store import JobStore
from app.server.worker import owner_prefix, work_forever

RESTART_PAUSE = 2.0  # s; a worker that keeps dying is replaced at most this often


def describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class WorkerPool:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = JobStore(settings.db_path)
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[multiprocessing.process.BaseProcess] = []
        self.stopping = False
        self.last_start = 0.0

    def _start_one(self) -> multiprocessing.process.BaseProcess:
        worker = self.context.Process(target=work_forever, args=(self.settings, os.getpid()), name="vidmimic-worker", daemon=True)
        worker.start()
        self.last_start = time.monotonic()
        return worker

    def start(self) -> None:
        self.workers = [self._start_one() for _ in range(self.settings.workers)]

    def check(self) -> None:
        """Replace dead workers; a job a worker died on is marked failed with the reason (its pipeline may be what kills it)."""
        if self.stopping:
            return
        for i, worker in enumerate(self.workers):
            if worker.is_alive() or time.monotonic() - self.last_start < RESTART_PAUSE:
                continue
            reason = describe_exit(worker.exitcode)
            failed = self.store.fail_owned_by(owner_prefix(worker.pid), f"the worker process died ({reason}) while running this job")
            print(f"worker {worker.pid} died ({reason}){'; its job was marked failed' if failed else ''}; starting another", file=sys.stderr, flush=True)
            worker.close()
            self.workers[i] = self._start_one()

    def stop(self, timeout: float = 5.0) -> None:
        """Kill every worker and whatever it started in its process group, and wait for them."""
        self.stopping = True
        for worker in self.workers:
            if worker.pid is None:
                continue
            for kill in (os.killpg, os.kill):  # its group (itself and what it started), then itself if it has no group yet
                try:
                    kill(worker.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    continue
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            worker.join(max(0.0, deadline - time.monotonic()))
