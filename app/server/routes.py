"""HTTP routes only: they call the store, the upload service and the worker helpers."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse

from app.server.settings import Settings
from app.server.store import JobStore
from app.server.uploads import UploadRejected, save_upload
from app.server.worker import job_files, safe_path
from pose_estimation import ESTIMATOR_NAMES

PAGES = Path(__file__).with_name("pages")
THREE = Path(__file__).with_name("web") / "node_modules" / "three"  # installed from npm by `make`


def create_app(settings: Settings) -> FastAPI:
    store = JobStore(settings.db_path)
    app = FastAPI(title="vidmimic")
    if THREE.exists():
        from fastapi.staticfiles import StaticFiles

        app.mount("/static/three", StaticFiles(directory=THREE), name="three")

    def authorised(request: Request) -> None:
        if not settings.token:
            return
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip() or request.query_params.get("token", "")
        if given != settings.token:
            raise HTTPException(401, "a valid token is required")

    def job_or_404(job_id: str) -> dict:
        job = store.get(job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id}")
        return job

    @app.get("/", response_class=HTMLResponse, dependencies=[Depends(authorised)])
    def index() -> str:
        return (PAGES / "index.html").read_text()

    @app.get("/jobs/{job_id}", response_class=HTMLResponse, dependencies=[Depends(authorised)])
    def job_page(job_id: str) -> str:
        job_or_404(job_id)
        return (PAGES / "job.html").read_text()

    @app.post("/api/jobs", status_code=201, dependencies=[Depends(authorised)])
    def create_job(file: UploadFile = File(...), train_minutes: float | None = Form(None), walk_cycle: bool = Form(False),
                   estimator: str | None = Form(None)) -> dict:
        minutes = settings.train_minutes if train_minutes is None else train_minutes
        if not 0 < minutes <= 24 * 60:
            raise HTTPException(422, "train_minutes must be in (0, 1440]")
        estimator = estimator or settings.estimator  # the form's "server default" sends an empty value
        if estimator not in ESTIMATOR_NAMES:
            raise HTTPException(422, f"unknown estimator {estimator!r}; registered: {', '.join(ESTIMATOR_NAMES)}")
        job_id = store.create(Path(file.filename or "video").name, minutes, walk_cycle, estimator)
        try:
            save_upload(file.file, settings.jobs_dir / job_id, file.filename or "video.mp4", int(settings.max_upload_mb * (1 << 20)))
        except UploadRejected as exc:
            store.delete(job_id)
            raise HTTPException(exc.status, str(exc)) from None
        return {"id": job_id}

    @app.get("/api/jobs", dependencies=[Depends(authorised)])
    def list_jobs() -> list[dict]:
        return store.list()

    @app.get("/api/jobs/{job_id}", dependencies=[Depends(authorised)])
    def get_job(job_id: str) -> dict:
        job = job_or_404(job_id)
        job["files"] = job_files(settings, job_id)
        report = settings.jobs_dir / job_id / "out" / "report.json"
        job["report"] = json.loads(report.read_text()) if report.exists() else None
        return job

    @app.get("/api/jobs/{job_id}/events", dependencies=[Depends(authorised)])
    async def events(job_id: str) -> StreamingResponse:
        job_or_404(job_id)

        async def stream():
            last = None
            while True:
                job = store.get(job_id)
                if job is None:
                    return
                state = (job["status"], job["stage"], job["updated"])
                if state != last:
                    last = state
                    yield f"data: {json.dumps(job)}\n\n"
                if job["status"] in ("done", "failed"):
                    return
                await asyncio.sleep(0.5)

        return StreamingResponse(stream(), media_type="text/event-stream")

    @app.post("/api/jobs/{job_id}/train-more", dependencies=[Depends(authorised)])
    def train_more(job_id: str, minutes: float = Form(...)) -> dict:
        job = job_or_404(job_id)
        if job["status"] in ("queued", "running"):
            raise HTTPException(409, "the job is still running")
        if not 0 < minutes <= 24 * 60:
            raise HTTPException(422, "minutes must be in (0, 1440]")
        # A new budget changes the training stage's key: it resumes from its checkpoint, later stages redo.
        store.update(job_id, status="queued", train_minutes=job["train_minutes"] + minutes, error="")
        return {"id": job_id, "train_minutes": job["train_minutes"] + minutes}

    @app.post("/api/jobs/{job_id}/replay", dependencies=[Depends(authorised)])
    def replay_again(job_id: str, seconds: float = Form(...)) -> dict:
        job = job_or_404(job_id)
        if job["status"] != "done":
            raise HTTPException(409, "replay needs a finished job")
        if not 0 < seconds <= 120:
            raise HTTPException(422, "seconds must be in (0, 120]")
        # A new length changes the replay stage's key: only replay, evaluation and export run again.
        store.update(job_id, status="queued", replay_seconds=seconds)
        return {"id": job_id, "replay_seconds": seconds}

    @app.delete("/api/jobs/{job_id}", status_code=204, dependencies=[Depends(authorised)])
    def delete_job(job_id: str) -> None:
        job = job_or_404(job_id)
        if job["status"] == "running":
            raise HTTPException(409, "the job is running; delete it when it has finished")
        store.delete(job_id)
        shutil.rmtree(settings.jobs_dir / job_id, ignore_errors=True)

    @app.get("/files/{job_id}/{relative:path}", dependencies=[Depends(authorised)])
    def download(job_id: str, relative: str) -> FileResponse:
        job_or_404(job_id)
        path = safe_path(settings, job_id, relative)
        if path is None:
            raise HTTPException(404, f"no file {relative}")
        return FileResponse(path, filename=path.name if path.suffix not in (".webm", ".mp4", ".html", ".json") else None)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    return app
