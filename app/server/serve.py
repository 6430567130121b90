"""Start the server: worker processes for jobs, then uvicorn in this process."""

from __future__ import annotations

import multiprocessing

from app.server.settings import Settings
from app.server.store import JobStore


def serve(settings: Settings) -> None:
    import uvicorn

    from app.server.routes import create_app
    from app.server.worker import work_forever

    settings.check()
    settings.jobs_dir.mkdir(parents=True, exist_ok=True)
    requeued = JobStore(settings.db_path).requeue_interrupted()
    if requeued:
        print(f"resuming {requeued} interrupted job(s) from their last finished stage", flush=True)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=work_forever, args=(settings,), daemon=True) for _ in range(settings.workers)]
    for w in workers:
        w.start()
    try:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")
    finally:
        for w in workers:
            w.terminate()
