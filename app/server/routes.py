"""HTTP routes only: they call the store, the upload service and the worker helpers.

Every route sits behind :class:`app.server.security.Guard` (host, origin, token, body size,
security headers). The pages are static HTML whose scripts are served files; they insert user
data (job and file names, errors, metrics) as text, never as HTML.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Form, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from app.server.limits import StreamSlots
from app.server.security import Guard, Sessions, inline_script_hash, page_policy
from app.server.settings import Settings
from app.server.store import JobStore, QueueFull, is_job_id
from app.server.uploads import UploadRejected, accept_upload
from app.server.worker import job_files, safe_path

PAGES = Path(__file__).with_name("pages")
STATIC = PAGES / "static"  # the pages' scripts and style sheet
THREE = Path(__file__).with_name("web") / "node_modules" / "three"  # installed from npm by `make`
SHOWN_IN_PAGE = {".webm": "video/webm", ".mp4": "video/mp4", ".glb": "model/gltf-binary", ".json": "application/json"}
"""Job files the job page plays or loads itself; every other file is served as a download."""
REPORT = "report.html"  # the app's own report, the one job file shown as a page (without scripts)
FILE_POLICY = "default-src 'none'; sandbox"
REPORT_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; media-src 'self'; base-uri 'none'; "
                 "form-action 'none'; frame-ancestors 'none'")
PRIVATE_COLUMNS = ("owner", "lease_until")


def _inline_script_hashes() -> tuple[str, ...]:
    """CSP hashes of the pages' inline script blocks (only the static import map may be one)."""
    blocks = re.findall(r"<script[^>]*>(.*?)</script>", "".join(p.read_text() for p in PAGES.glob("*.html")), re.DOTALL)
    return tuple(inline_script_hash(b) for b in blocks if b.strip())


def create_app(settings: Settings, on_tick: Callable[[], None] | None = None) -> FastAPI:
    """The app; ``on_tick`` is called every second on the server's main thread (the worker pool's check)."""
    store = JobStore(settings.db_path)
    sessions = Sessions(settings.port)
    streams = StreamSlots(settings.max_event_streams)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async def tick() -> None:
            while True:
                await asyncio.sleep(1.0)
                try:
                    on_tick()
                except Exception as exc:  # noqa: BLE001 - the next tick tries again
                    print(f"server: {exc}", file=sys.stderr, flush=True)

        task = asyncio.create_task(tick()) if on_tick else None
        yield
        if task is not None:
            task.cancel()

    # No /docs, /redoc or /openapi.json: the API is described in docs/web_app.md.
    app = FastAPI(title="vidmimic", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.add_middleware(Guard, settings=settings, sessions=sessions, policy=page_policy(_inline_script_hashes()))
    app.mount("/static/app", StaticFiles(directory=STATIC), name="app")
    if THREE.exists():
        app.mount("/static/three", StaticFiles(directory=THREE), name="three")

    def job_or_404(job_id: str) -> dict:
        job = store.get(job_id) if is_job_id(job_id) else None
        if job is None:
            raise HTTPException(404, "no such job")
        return job

    def public(job: dict) -> dict:
        return {k: v for k, v in job.items() if k not in PRIVATE_COLUMNS}

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return (PAGES / "index.html").read_text()

    @app.get("/jobs/{job_id}", response_class=HTMLResponse)
    def job_page(job_id: str) -> str:
        job_or_404(job_id)
        return (PAGES / "job.html").read_text()

    @app.post("/api/jobs", status_code=201)
    async def create_job(request: Request) -> dict:
        try:
            job_id = await accept_upload(request.headers.get("content-type", ""), request.stream(), settings, store)
        except UploadRejected as exc:
            raise HTTPException(exc.status, str(exc)) from None
        return {"id": job_id}

    @app.get("/api/jobs")
    def list_jobs() -> list[dict]:
        return [public(job) for job in store.list()]

    @app.get("/api/jobs/{job_id}")
    def get_job(job_id: str) -> dict:
        job = public(job_or_404(job_id))
        job["files"] = job_files(settings, job_id)
        report = settings.jobs_dir / job_id / "out" / "report.json"
        try:
            job["report"] = json.loads(report.read_text()) if report.exists() else None
        except (OSError, ValueError):
            job["report"] = None
        return job

    @app.get("/api/jobs/{job_id}/events")
    async def events(job_id: str, request: Request) -> StreamingResponse:
        job_or_404(job_id)
        give_back = streams.take(request.client.host if request.client else "")
        if give_back is None:
            raise HTTPException(429, f"at most {settings.max_event_streams} open progress streams per client; close a job page")

        async def stream():
            last = None
            try:
                while True:
                    job = store.get(job_id)
                    if job is None:
                        return
                    state = (job["status"], job["stage"], job["updated"])
                    if state != last:
                        last = state
                        yield f"data: {json.dumps(public(job))}\n\n"
                    if job["status"] in ("done", "failed"):
                        return
                    await asyncio.sleep(0.5)
            finally:
                give_back()

        return StreamingResponse(stream(), media_type="text/event-stream", background=BackgroundTask(give_back))

    @app.post("/api/jobs/{job_id}/train-more")
    def train_more(job_id: str, minutes: float = Form(...)) -> dict:
        job = job_or_404(job_id)
        if not 0 < minutes <= 24 * 60:
            raise HTTPException(422, "minutes must be in (0, 1440]")
        # A new budget changes the training stage's key: it resumes from its checkpoint, later stages redo.
        try:
            queued = store.requeue(job_id, ("done", "failed"), settings.max_queued_jobs, train_minutes=job["train_minutes"] + minutes, error="")
        except QueueFull:
            raise HTTPException(429, f"{settings.max_queued_jobs} jobs are already waiting; try again when some have run") from None
        if not queued:
            raise HTTPException(409, "the job is still running")
        return {"id": job_id, "train_minutes": job["train_minutes"] + minutes}

    @app.post("/api/jobs/{job_id}/replay")
    def replay_again(job_id: str, seconds: float = Form(...)) -> dict:
        job_or_404(job_id)
        if not 0 < seconds <= 120:
            raise HTTPException(422, "seconds must be in (0, 120]")
        # A new length changes the replay stage's key: only replay, evaluation and export run again.
        try:
            queued = store.requeue(job_id, ("done",), settings.max_queued_jobs, replay_seconds=seconds)
        except QueueFull:
            raise HTTPException(429, f"{settings.max_queued_jobs} jobs are already waiting; try again when some have run") from None
        if not queued:
            raise HTTPException(409, "replay needs a finished job")
        return {"id": job_id, "replay_seconds": seconds}

    @app.delete("/api/jobs/{job_id}", status_code=204)
    def delete_job(job_id: str) -> None:
        job_or_404(job_id)
        if not store.delete_unless_running(job_id):
            raise HTTPException(409, "the job is running; delete it when it has finished")
        shutil.rmtree(settings.jobs_dir / job_id, ignore_errors=True)

    @app.get("/api/session")
    def session(request: Request) -> dict:
        """Whether the server needs a token, and whether this browser has a session opened with it."""
        return {"token_required": settings.token is not None, "session": sessions.valid(sessions.from_headers(dict(request.headers)))}

    @app.delete("/api/session", status_code=204)
    def end_session(request: Request) -> Response:
        sessions.end(sessions.from_headers(dict(request.headers)))
        return Response(status_code=204, headers={"set-cookie": sessions.clear_cookie()})

    @app.get("/files/{job_id}/{relative:path}")
    def download(job_id: str, relative: str) -> FileResponse:
        job_or_404(job_id)
        path = safe_path(settings, job_id, relative)
        if path is None:
            raise HTTPException(404, "no such file")
        if relative == REPORT:
            return FileResponse(path, media_type="text/html; charset=utf-8", headers={"content-security-policy": REPORT_POLICY})
        shown = SHOWN_IN_PAGE.get(path.suffix.lower())
        return FileResponse(path, media_type=shown or "application/octet-stream", filename=path.name,
                            content_disposition_type="inline" if shown else "attachment", headers={"content-security-policy": FILE_POLICY})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def form_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"error": problems}, status_code=422)

    return app
