"""The job table: one SQLite file, safe to use from the server and its worker processes.

A running job has one owner: the worker process named in ``owner`` (``host/pid/start``), which
renews ``lease_until`` while it works (and, on disk, holds the job folder's lock; see
``app.server.worker``). Only the owner may write the job's outcome.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import closing
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,          -- queued, running, done, failed
    stage TEXT NOT NULL DEFAULT '',
    stage_index INTEGER NOT NULL DEFAULT 0,
    stage_count INTEGER NOT NULL DEFAULT 0,
    train_minutes REAL NOT NULL,
    replay_seconds REAL,
    walk_cycle INTEGER NOT NULL DEFAULT 0,  -- 1: imitate the video's best gait cycle in a loop, as the demo does
    estimator TEXT,                -- the job's 3D estimator (NULL in jobs made before the column: the server's)
    assist INTEGER NOT NULL DEFAULT 0,  -- 1: the tracker is fine-tuned with a residual root force (not physics alone)
    error TEXT NOT NULL DEFAULT '',
    owner TEXT,                    -- the worker running it: host/pid/start (NULL unless running)
    lease_until REAL,              -- the owner renews this while it works (s since the epoch)
    created REAL NOT NULL,
    updated REAL NOT NULL
)
"""
COLUMNS_ADDED = {  # a database made before a column existed keeps its jobs
    "walk_cycle": "INTEGER NOT NULL DEFAULT 0",
    "estimator": "TEXT",
    "assist": "INTEGER NOT NULL DEFAULT 0",
    "owner": "TEXT",
    "lease_until": "REAL",
}


class QueueFull(Exception):
    """The server already has its maximum of waiting jobs."""


def new_job_id() -> str:
    return uuid.uuid4().hex[:12]


def is_job_id(text: str) -> bool:
    return len(text) == 12 and all(c in "0123456789abcdef" for c in text)


class JobStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)
            columns = {row["name"] for row in db.execute("PRAGMA table_info(jobs)")}
            for name, kind in COLUMNS_ADDED.items():
                if name not in columns:
                    db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    def create(self, name: str, train_minutes: float, walk_cycle: bool = False, estimator: str | None = None, job_id: str | None = None,
               max_queued: int | None = None, assist: bool = False) -> str:
        """Add a queued job (``job_id``: the id its folder was made under); QueueFull if ``max_queued`` jobs already wait."""
        job_id = job_id or new_job_id()
        now = time.time()
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                if max_queued is not None and self._queued(db) >= max_queued:
                    raise QueueFull
                db.execute("INSERT INTO jobs (id, name, status, train_minutes, walk_cycle, estimator, assist, created, updated) "
                           "VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?)", (job_id, name, train_minutes, int(walk_cycle), estimator, int(assist), now, now))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return job_id

    @staticmethod
    def _queued(db: sqlite3.Connection) -> int:
        return db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued'").fetchone()[0]

    def count_queued(self) -> int:
        with closing(self._connect()) as db:
            return self._queued(db)

    def get(self, job_id: str) -> dict | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return dict(row) if row else None

    def list(self) -> list[dict]:
        with closing(self._connect()) as db:
            return [dict(r) for r in db.execute("SELECT * FROM jobs ORDER BY created DESC")]

    def update(self, job_id: str, **fields) -> None:
        fields["updated"] = time.time()
        columns = ", ".join(f"{k} = ?" for k in fields)
        with closing(self._connect()) as db:
            db.execute(f"UPDATE jobs SET {columns} WHERE id = ?", (*fields.values(), job_id))

    def requeue(self, job_id: str, from_status: Iterable[str], max_queued: int, **fields) -> bool:
        """Queue a finished job again with ``fields`` changed, if its status is one of ``from_status``
        (False otherwise); QueueFull if ``max_queued`` jobs already wait."""
        statuses = tuple(from_status)
        fields.update(status="queued", owner=None, lease_until=None, updated=time.time())
        columns = ", ".join(f"{k} = ?" for k in fields)
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
                if row is None or row["status"] not in statuses:
                    db.execute("COMMIT")
                    return False
                if self._queued(db) >= max_queued:
                    raise QueueFull
                db.execute(f"UPDATE jobs SET {columns} WHERE id = ?", (*fields.values(), job_id))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return True

    def claimable(self) -> list[str]:
        """Ids of the jobs a worker may take, oldest first: queued ones, and running ones whose owner's lease ran out."""
        with closing(self._connect()) as db:
            rows = db.execute("SELECT id FROM jobs WHERE status = 'queued' OR (status = 'running' AND (lease_until IS NULL OR lease_until < ?)) "
                              "ORDER BY created", (time.time(),))
            return [r["id"] for r in rows]

    def claim(self, job_id: str, owner: str, lease_seconds: float) -> dict | None:
        """Make ``owner`` the job's owner and mark it running, if it is still claimable; the job, or None."""
        now = time.time()
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            changed = db.execute("UPDATE jobs SET status = 'running', owner = ?, lease_until = ?, error = '', updated = ? WHERE id = ? "
                                 "AND (status = 'queued' OR (status = 'running' AND (lease_until IS NULL OR lease_until < ?)))",
                                 (owner, now + lease_seconds, now, job_id, now)).rowcount
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            db.execute("COMMIT")
        return dict(row) if changed == 1 else None

    def renew(self, job_id: str, owner: str, lease_seconds: float) -> bool:
        """Extend the owner's lease; False if ``owner`` no longer owns the running job."""
        with closing(self._connect()) as db:
            return db.execute("UPDATE jobs SET lease_until = ? WHERE id = ? AND owner = ? AND status = 'running'",
                              (time.time() + lease_seconds, job_id, owner)).rowcount == 1

    def update_owned(self, job_id: str, owner: str, **fields) -> bool:
        """``update`` by the job's owner only; False (nothing written) if ``owner`` no longer owns it."""
        fields["updated"] = time.time()
        if fields.get("status") in ("done", "failed"):
            fields.update(owner=None, lease_until=None)
        columns = ", ".join(f"{k} = ?" for k in fields)
        with closing(self._connect()) as db:
            return db.execute(f"UPDATE jobs SET {columns} WHERE id = ? AND owner = ? AND status = 'running'", (*fields.values(), job_id, owner)).rowcount == 1

    def fail_owned_by(self, owner_prefix: str, reason: str) -> int:
        """Mark failed the running jobs of owners whose name starts with ``owner_prefix``; how many."""
        with closing(self._connect()) as db:
            return db.execute("UPDATE jobs SET status = 'failed', error = ?, owner = NULL, lease_until = NULL, updated = ? "
                              "WHERE status = 'running' AND substr(owner, 1, ?) = ?", (reason, time.time(), len(owner_prefix), owner_prefix)).rowcount

    def requeue_interrupted(self, owner_gone: Callable[[str], bool]) -> int:
        """Jobs left running by workers that are gone go back to the queue (their finished stages are kept);
        a job whose worker still runs (``owner_gone(job_id)`` False) stays its own until that worker ends."""
        with closing(self._connect()) as db:
            running = [r["id"] for r in db.execute("SELECT id FROM jobs WHERE status = 'running'")]
            gone = [job_id for job_id in running if owner_gone(job_id)]
            for job_id in gone:
                db.execute("UPDATE jobs SET status = 'queued', owner = NULL, lease_until = NULL WHERE id = ? AND status = 'running'", (job_id,))
        return len(gone)

    def delete(self, job_id: str) -> None:
        with closing(self._connect()) as db:
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def delete_unless_running(self, job_id: str) -> bool:
        """Delete the job if no worker has it; False if it is running."""
        with closing(self._connect()) as db:
            return db.execute("DELETE FROM jobs WHERE id = ? AND status != 'running'", (job_id,)).rowcount == 1
