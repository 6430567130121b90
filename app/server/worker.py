"""Worker processes: each takes queued jobs from the store and runs ``vidmimic run`` on them.

A worker lives and dies with its server. It asks the kernel to kill it when the server dies
(``PR_SET_PDEATHSIG``; a heartbeat thread also checks its parent), so it never outlives the
server to work on beside a newer one. It is killed outright rather than asked to stop, as
``kill -9`` would: every stage's output is written atomically and training resumes from its
checkpoint, whereas training that caught a stop signal would save and call itself finished.

A job has one owner at a time, held twice over: the row's ``owner`` and ``lease_until``
(renewed by the heartbeat) and an exclusive lock on the job folder's ``.lock`` file, which the
kernel releases when the process ends however it ends. A worker takes a job only if both are
free, and stops at once if it finds the row no longer its own.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import IO

from app.server.settings import Settings
from app.server.store import JobStore

LEASE_SECONDS = 15.0  # s; a running job whose lease ran out and whose folder lock is free may be taken by another worker
HEARTBEAT_SECONDS = 0.5  # s between the heartbeat's checks of the server; the lease is renewed every 4th
LOCK_NAME = ".lock"


def owner_prefix(pid: int) -> str:
    """The start of the owner name of worker process ``pid`` on this machine."""
    return f"{socket.gethostname()}/{pid}/"


def owner_name() -> str:
    """This process's owner name: host, pid and start time (so a reused pid is another owner)."""
    try:
        started = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        started = str(time.time())
    return owner_prefix(os.getpid()) + started


def end_with_parent(parent_pid: int) -> None:
    """SIGKILL this process when its parent dies (Linux), and exit now if it already has."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(0)


def lock_job_folder(job_dir: Path) -> IO | None:
    """An open file holding the job folder's exclusive lock, or None if another process holds it.
    FileNotFoundError if the folder is gone."""
    handle = open(job_dir / LOCK_NAME, "a")  # noqa: SIM115 - kept open while the job runs
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def folder_lock_free(settings: Settings, job_id: str) -> bool:
    """Whether no process works on the job (its folder's lock is free, or the folder is gone)."""
    try:
        handle = lock_job_folder(settings.jobs_dir / job_id)
    except FileNotFoundError:
        return True
    if handle is None:
        return False
    handle.close()
    return True


class Heartbeat(threading.Thread):
    """Ends the worker if its server is gone or its job taken from it; renews the job's lease."""

    def __init__(self, store: JobStore, owner: str, server_pid: int):
        super().__init__(daemon=True, name="heartbeat")
        self.store, self.owner, self.server_pid = store, owner, server_pid
        self.lock = threading.Lock()
        self.job_id: str | None = None

    def run(self) -> None:
        beats = 0
        while True:
            time.sleep(HEARTBEAT_SECONDS)
            if os.getppid() != self.server_pid:
                os._exit(0)
            beats += 1
            if beats % 4:
                continue
            with self.lock:
                if self.job_id is None:
                    continue
                try:
                    owned = self.store.renew(self.job_id, self.owner, LEASE_SECONDS)
                except Exception as exc:  # noqa: BLE001 - a busy or full disk: try again next beat
                    print(f"worker {os.getpid()}: could not renew the lease of job {self.job_id}: {exc}", file=sys.stderr, flush=True)
                    continue
                if not owned:
                    print(f"worker {os.getpid()}: job {self.job_id} is no longer mine; stopping", file=sys.stderr, flush=True)
                    os._exit(3)


def claim_next(store: JobStore, settings: Settings, owner: str) -> tuple[dict, IO | None] | None:
    """Take the oldest job no one works on: its row and its folder's lock (None if the folder is gone)."""
    for job_id in store.claimable():
        try:
            handle = lock_job_folder(settings.jobs_dir / job_id)
        except FileNotFoundError:
            handle = None  # a ghost: claimed only to be marked failed
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                continue
            handle = None  # no lock file and no room for one: no one can hold it; the job will fail on its first write
        else:
            if handle is None:
                continue  # its worker still runs
        job = store.claim(job_id, owner, LEASE_SECONDS)
        if job is not None:
            return job, handle
        if handle is not None:
            handle.close()
    return None


def one_line(exc: BaseException) -> str:
    """A failure as one line for the job page: the problem, not a traceback."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the server's disk is full" + (f" (writing {Path(exc.filename).name})" if exc.filename else "")
    text = " ".join(str(exc).split()) or "no message"
    return f"{type(exc).__name__}: {text}"[:500]


def work_forever(settings: Settings, server_pid: int, poll_seconds: float = 0.5) -> None:
    """Body of a worker process (started by the server; ends with it)."""
    end_with_parent(server_pid)
    os.setpgid(0, 0)  # its own process group: a Ctrl-C meant for the server does not reach it, and the server can end it with its children
    store = JobStore(settings.db_path)
    owner = owner_name()
    heartbeat = Heartbeat(store, owner, server_pid)
    heartbeat.start()
    while True:
        claimed = claim_next(store, settings, owner)
        if claimed is None:
            time.sleep(poll_seconds)
            continue
        job, lock = claimed
        with heartbeat.lock:
            heartbeat.job_id = job["id"]
        try:
            outcome = run_job(settings, store, owner, job)
            with heartbeat.lock:
                heartbeat.job_id = None
                finish(store, owner, job["id"], outcome)
        finally:
            if lock is not None:
                lock.close()


def finish(store: JobStore, owner: str, job_id: str, outcome: dict, attempts: int = 5) -> None:
    """Write the job's outcome, trying again if the database is busy or its disk full (if it never
    can, the job's lease runs out and another worker resumes it)."""
    for attempt in range(attempts):
        try:
            if not store.update_owned(job_id, owner, **outcome):
                print(f"worker {os.getpid()}: job {job_id} was no longer mine at its end", file=sys.stderr, flush=True)
            return
        except Exception as exc:  # noqa: BLE001
            print(f"worker {os.getpid()}: could not record the end of job {job_id}: {exc}", file=sys.stderr, flush=True)
            time.sleep(1.0 + attempt)


def run_job(settings: Settings, store: JobStore, owner: str, job: dict) -> dict:
    """Run one job's pipeline; the row fields of its outcome (done, or failed with a one-line reason)."""
    from app.run import RunOptions, run_pipeline, walk_cycle_options
    from characters.errors import InputError

    job_dir = settings.jobs_dir / job["id"]

    def on_stage(name: str, index: int, count: int) -> None:
        if not store.update_owned(job["id"], owner, stage=name, stage_index=index, stage_count=count):
            print(f"worker {os.getpid()}: job {job['id']} is no longer mine; stopping", file=sys.stderr, flush=True)
            os._exit(3)

    try:
        video = next(job_dir.glob("upload.*"), None) if job_dir.is_dir() else None
        if video is None:
            return {"status": "failed", "error": "the uploaded video is gone (its job folder was removed); upload it again"}
        options = RunOptions(train_minutes=job["train_minutes"], train_timesteps=settings.train_timesteps, replay_seconds=job["replay_seconds"],
                             init_policy=settings.init_policy, estimator=job["estimator"] or settings.estimator, assist=bool(job.get("assist")))
        if job["walk_cycle"]:
            options = walk_cycle_options(options, estimator_named=bool(job["estimator"]))
        run_pipeline(video, job_dir / "out", options, on_stage)
        return {"status": "done", "stage": "done"}
    except InputError as exc:
        return {"status": "failed", "error": " ".join(str(exc).split())}
    except Exception as exc:  # noqa: BLE001 - a failed job must not take the worker down
        print(f"job {job['id']} failed:\n{traceback.format_exc(limit=8)}", file=sys.stderr, flush=True)  # the server's log keeps the detail
        return {"status": "failed", "error": one_line(exc)}


def job_files(settings: Settings, job_id: str) -> list[str]:
    out = settings.jobs_dir / job_id / "out"
    if not out.exists():
        return []
    skip = {"tb", "snapshots"}
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and not skip & set(p.relative_to(out).parts))


def safe_path(settings: Settings, job_id: str, relative: str) -> Path | None:
    """The file ``relative`` inside the job's output folder, or None if it escapes it (``..``,
    an absolute path, a symbolic link out), is malformed (a NUL byte) or is absent."""
    if "\x00" in relative or "\x00" in job_id:
        return None
    root = (settings.jobs_dir / job_id / "out").resolve()
    try:
        target = (root / relative).resolve()
    except (OSError, ValueError, RuntimeError):
        return None
    if root not in target.parents or not target.is_file():
        return None
    return target
