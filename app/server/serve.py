"""Start the server: lock the data folder, start the worker processes, then uvicorn in this process.

However the server ends (Ctrl-C, SIGTERM to it alone or to its group, a failed start), its
workers are killed before it exits; if it is killed outright, the kernel kills them
(see ``app.server.worker``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
from pathlib import Path

from app.server.settings import Settings
from app.server.store import JobStore, is_job_id
from app.server.uploads import INCOMING


def lock_data_folder(data_dir: Path) -> int:
    """Hold DATA/server.lock for this process's lifetime (its file descriptor); InputError if another server holds it."""
    from characters.errors import input_error

    path = data_dir / "server.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise input_error(data_dir, f"another vidmimic server (pid {holder}) is using this data folder; stop it first") from None
    try:  # who holds it, for the message above (a full disk must not keep the server from starting)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass
    return fd


def sweep_incomplete_uploads(settings: Settings, store: JobStore) -> int:
    """Remove the folders of uploads a previous server never finished accepting; how many."""
    removed = 0
    for folder in settings.jobs_dir.iterdir():
        if is_job_id(folder.name) and (folder / INCOMING).exists() and store.get(folder.name) is None:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def serve(settings: Settings) -> None:
    import uvicorn

    from app.server.pool import WorkerPool
    from app.server.protocol import protocol_for
    from app.server.routes import create_app
    from app.server.worker import folder_lock_free

    settings.check()
    settings.jobs_dir.mkdir(parents=True, exist_ok=True)
    lock = lock_data_folder(settings.data_dir)
    store = JobStore(settings.db_path)
    sweep_incomplete_uploads(settings, store)
    requeued = store.requeue_interrupted(lambda job_id: folder_lock_free(settings, job_id))
    if requeued:
        print(f"resuming {requeued} interrupted job(s) from their last finished stage", flush=True)
    # uvicorn stops gracefully on SIGTERM, then raises it again: this handler turns it into an exit
    # that runs the `finally` below (the default action would end the process there and then).
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    pool = WorkerPool(settings)
    try:
        pool.start()
        config = uvicorn.Config(create_app(settings, on_tick=pool.check), host=settings.host, port=settings.port, log_level="warning",
                                http=protocol_for(settings), h11_max_incomplete_event_size=(settings.max_header_kb + 4) << 10,
                                timeout_graceful_shutdown=2, server_header=False)
        uvicorn.Server(config).run()
    finally:
        pool.stop()
        signal.signal(signal.SIGTERM, previous)
        os.close(lock)
