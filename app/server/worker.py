"""Worker processes: each takes queued jobs from the store and runs ``vidmimic run`` on them."""

from __future__ import annotations

import time
import traceback
from pathlib import Path

from app.server.settings import Settings
from app.server.store import JobStore


def work_forever(settings: Settings, poll_seconds: float = 0.5) -> None:
    """Body of a worker process (started by the server; ends with it)."""
    from app.run import RunOptions, run_pipeline, walk_cycle_options
    from characters.errors import InputError

    store = JobStore(settings.db_path)
    while True:
        job = store.claim_next()
        if job is None:
            time.sleep(poll_seconds)
            continue
        job_dir = settings.jobs_dir / job["id"]
        video = next(job_dir.glob("upload.*"))
        options = RunOptions(train_minutes=job["train_minutes"], train_timesteps=settings.train_timesteps, replay_seconds=job["replay_seconds"], init_policy=settings.init_policy,
                             estimator=job["estimator"] or settings.estimator)
        if job["walk_cycle"]:
            options = walk_cycle_options(options)

        def on_stage(name: str, index: int, count: int, job_id: str = job["id"]) -> None:
            store.update(job_id, stage=name, stage_index=index, stage_count=count)

        try:
            run_pipeline(video, job_dir / "out", options, on_stage)
            store.update(job["id"], status="done", stage="done")
        except InputError as exc:
            store.update(job["id"], status="failed", error=str(exc))
        except Exception:  # noqa: BLE001 - a failed job must not take the worker down
            store.update(job["id"], status="failed", error=traceback.format_exc(limit=3)[-2000:])


def job_files(settings: Settings, job_id: str) -> list[str]:
    out = settings.jobs_dir / job_id / "out"
    if not out.exists():
        return []
    skip = {"tb", "snapshots"}
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and not skip & set(p.relative_to(out).parts))


def safe_path(settings: Settings, job_id: str, relative: str) -> Path | None:
    """The file ``relative`` inside the job's output folder, or None if it escapes it or is absent."""
    root = (settings.jobs_dir / job_id / "out").resolve()
    target = (root / relative).resolve()
    if root not in target.parents or not target.is_file():
        return None
    return target
