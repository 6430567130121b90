"""The job table: one SQLite file, safe to use from the server and its worker processes."""

from __future__ import annotations

import sqlite3
import time
import uuid
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
    error TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL
)
"""


class JobStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)
            columns = {row["name"] for row in db.execute("PRAGMA table_info(jobs)")}
            # a database made before a column existed keeps its jobs
            if "walk_cycle" not in columns:
                db.execute("ALTER TABLE jobs ADD COLUMN walk_cycle INTEGER NOT NULL DEFAULT 0")
            if "estimator" not in columns:
                db.execute("ALTER TABLE jobs ADD COLUMN estimator TEXT")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    def create(self, name: str, train_minutes: float, walk_cycle: bool = False, estimator: str | None = None) -> str:
        job_id = uuid.uuid4().hex[:12]
        now = time.time()
        with closing(self._connect()) as db:
            db.execute("INSERT INTO jobs (id, name, status, train_minutes, walk_cycle, estimator, created, updated) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?)",
                       (job_id, name, train_minutes, int(walk_cycle), estimator, now, now))
        return job_id

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

    def claim_next(self) -> dict | None:
        """Atomically take the oldest queued job and mark it running."""
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT * FROM jobs WHERE status = 'queued' ORDER BY created LIMIT 1").fetchone()
            if row is None:
                db.execute("COMMIT")
                return None
            db.execute("UPDATE jobs SET status = 'running', updated = ? WHERE id = ?", (time.time(), row["id"]))
            db.execute("COMMIT")
        return dict(row)

    def requeue_interrupted(self) -> int:
        """Jobs left 'running' by a server that died go back to the queue (their finished stages are kept)."""
        with closing(self._connect()) as db:
            return db.execute("UPDATE jobs SET status = 'queued' WHERE status = 'running'").rowcount

    def delete(self, job_id: str) -> None:
        with closing(self._connect()) as db:
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
