"""The web app as a real server process with a real SQLite file and real worker processes."""

import os
import signal
import subprocess
import sys
import time

import cv2
import pytest
import requests

from pose_estimation import DEFAULT_ESTIMATOR
from tests.conftest import ROOT, assert_same_motion, run_cli, short_real_clip
from tests.server_process import Server, descendants, process_alive, worker_pids


@pytest.fixture
def clip(tmp_path):
    return short_real_clip(tmp_path / "walk.mp4")


def wait_for(url, status, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = requests.get(url, timeout=5).json()
        if job["status"] in status:
            return job
        time.sleep(1)
    raise AssertionError(f"job still {job['status']} at stage {job['stage']}")


def test_upload_follow_download_delete(tmp_path, clip):
    server = Server(tmp_path / "data")
    try:
        bad = requests.post(server.url + "/api/jobs", files={"file": ("movie.mp4", b"definitely not a video")})
        assert bad.status_code == 415 and "not a video" in bad.json()["error"]
        with clip.open("rb") as f:
            unknown = requests.post(server.url + "/api/jobs", files={"file": ("walk.mp4", f)}, data={"estimator": "hmr"})
        assert unknown.status_code == 422 and "unknown estimator 'hmr'" in unknown.json()["error"]
        with clip.open("rb") as f:
            unclear = requests.post(server.url + "/api/jobs", files={"file": ("walk.mp4", f)}, data={"assist": "maybe"})
        assert unclear.status_code == 422 and "assist must be true or false" in unclear.json()["error"]
        assert requests.get(server.url + "/api/jobs").json() == []  # nothing stored
        with clip.open("rb") as f:  # the form's choice of estimator, not the server's default
            created = requests.post(server.url + "/api/jobs", files={"file": ("walk.mp4", f)}, data={"train_minutes": "0.15", "estimator": "mediapipe_ik"})
        assert created.status_code == 201, created.text
        job_id = created.json()["id"]
        events = requests.get(f"{server.url}/api/jobs/{job_id}/events", stream=True, timeout=300)
        stages = set()
        for line in events.iter_lines():
            if line.startswith(b"data: "):
                import json

                stages.add(json.loads(line[6:])["stage"])
        assert {"estimate", "train", "done"} <= stages
        job = requests.get(f"{server.url}/api/jobs/{job_id}").json()
        assert job["status"] == "done", job["error"]
        assert "export/sim.bvh" in job["files"] and job["report"]["evaluation"]["episodes"] > 0
        assert job["estimator"] == "mediapipe_ik" and job["report"]["options"]["estimator"] == "mediapipe_ik"
        bvh = requests.get(f"{server.url}/files/{job_id}/export/sim.bvh")
        assert bvh.status_code == 200 and bvh.text.startswith("HIERARCHY")
        assert requests.get(f"{server.url}/files/{job_id}/../../jobs.sqlite").status_code == 404
        again = requests.post(f"{server.url}/api/jobs/{job_id}/replay", data={"seconds": "0.5"})
        assert again.status_code == 200
        job = wait_for(f"{server.url}/api/jobs/{job_id}", ("done", "failed"))
        assert job["status"] == "done" and job["replay_seconds"] == 0.5
        page = requests.get(f"{server.url}/jobs/{job_id}")
        assert page.status_code == 200 and "/static/app/job.js" in page.text
        assert "EventSource" in requests.get(f"{server.url}/static/app/job.js").text
        assert requests.delete(f"{server.url}/api/jobs/{job_id}").status_code == 204
        assert not (tmp_path / "data" / "jobs" / job_id).exists()
        assert requests.get(f"{server.url}/api/jobs/{job_id}").status_code == 404
    finally:
        server.kill(signal.SIGTERM)


def test_kill_9_mid_job_then_resume(tmp_path, clip):
    data = tmp_path / "data"
    server = Server(data)
    with clip.open("rb") as f:
        job_id = requests.post(server.url + "/api/jobs", files={"file": ("walk.mp4", f)}).json()["id"]
    deadline = time.time() + 180
    while requests.get(f"{server.url}/api/jobs/{job_id}").json()["stage"] not in ("train", "replay"):
        assert time.time() < deadline
        time.sleep(0.5)
    server.kill()  # kill -9: no clean shutdown
    estimate_stamp = (data / "jobs" / job_id / "out" / "estimate" / "motion_smpl.npz").stat().st_mtime
    server = Server(data)
    try:
        job = wait_for(f"{server.url}/api/jobs/{job_id}", ("done", "failed"))
        assert job["status"] == "done", job["error"]
        assert (data / "jobs" / job_id / "out" / "estimate" / "motion_smpl.npz").stat().st_mtime == estimate_stamp  # not redone
        assert job["estimator"] == DEFAULT_ESTIMATOR and job["report"]["options"]["estimator"] == DEFAULT_ESTIMATOR  # no choice: the default
    finally:
        server.kill(signal.SIGTERM)


def test_a_walk_job_imitates_the_gait_cycle_as_the_demo_does(tmp_path):
    """The upload form's "a walk" box: the job loops the video's gait cycle with the demo's edits,
    so on the demo's sample video, with the demo's estimator (the one the shipped sample policy's
    cycle was estimated with), it makes exactly the motion that policy was trained on."""
    from app.demo import DEMO_ESTIMATOR, SAMPLE_POLICY
    from app.sample_video import write_sample_video

    video = write_sample_video(tmp_path / "sample_walk.webm")
    server = Server(tmp_path / "data", "--init-policy", str(SAMPLE_POLICY), "--estimator", DEMO_ESTIMATOR)
    try:
        with video.open("rb") as f:
            created = requests.post(server.url + "/api/jobs", files={"file": ("sample_walk.webm", f)}, data={"walk_cycle": "true", "train_minutes": "0.15"})
        assert created.status_code == 201, created.text
        job = wait_for(f"{server.url}/api/jobs/{created.json()['id']}", ("done", "failed"), timeout=400)
        assert job["status"] == "done", job["error"]
        assert job["walk_cycle"] == 1 and "cycle.json" in job["files"]
        assert job["estimator"] == DEMO_ESTIMATOR and job["report"]["options"]["estimator"] == DEMO_ESTIMATOR  # the server's setting
        out = tmp_path / "data" / "jobs" / job["id"] / "out"
        assert_same_motion(out / "motion.txt", SAMPLE_POLICY.parent / "motion.txt")
    finally:
        server.kill(signal.SIGTERM)


def test_a_database_from_before_walk_jobs_keeps_its_jobs(tmp_path):
    import sqlite3

    from app.server.store import JobStore

    path = tmp_path / "jobs.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE jobs (id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, stage TEXT NOT NULL DEFAULT '', "
                   "stage_index INTEGER NOT NULL DEFAULT 0, stage_count INTEGER NOT NULL DEFAULT 0, train_minutes REAL NOT NULL, "
                   "replay_seconds REAL, error TEXT NOT NULL DEFAULT '', created REAL NOT NULL, updated REAL NOT NULL)")
        db.execute("INSERT INTO jobs (id, name, status, train_minutes, created, updated) VALUES ('old', 'a.mp4', 'done', 5, 1, 1)")
    store = JobStore(path)
    assert store.get("old")["walk_cycle"] == 0 and store.get("old")["status"] == "done" and store.get("old")["estimator"] is None
    assert store.get(store.create("b.mp4", 1.0, walk_cycle=True))["walk_cycle"] == 1
    assert store.get(store.create("c.mp4", 1.0, estimator="lifter"))["estimator"] == "lifter"
    assert store.get("old")["assist"] == 0 and store.get(store.create("d.mp4", 1.0, assist=True))["assist"] == 1


def test_token_required_off_loopback_and_enforced(tmp_path):
    result = run_cli("serve", "--host", "0.0.0.0", "--data", str(tmp_path / "d"))
    assert result.returncode == 2 and "--token" in result.stderr
    server = Server(tmp_path / "data", "--token", "secret")
    try:
        assert requests.get(server.url + "/api/jobs").status_code == 401
        assert requests.get(server.url + "/api/jobs", params={"token": "secret"}).status_code == 200
        assert requests.get(server.url + "/api/jobs", headers={"Authorization": "Bearer secret"}).status_code == 200
    finally:
        server.kill(signal.SIGTERM)


def test_real_browser_upload_follow_and_3d_viewer(tmp_path, clip):
    import json
    import shutil

    node, browser_driver = shutil.which("node"), ROOT / "app" / "server" / "web" / "node_modules" / "playwright-core"
    if node is None or not browser_driver.exists() or not os.path.exists(os.environ.get("CHROMIUM", "/usr/bin/chromium")):
        pytest.fail("browser test needs node, `npm ci --prefix app/server/web` and Debian's chromium (make test installs them)")
    server = Server(tmp_path / "data")
    try:
        shot = tmp_path / "viewer.png"
        result = subprocess.run([node, str(ROOT / "tests" / "browser" / "upload_and_view.js"), server.url + "/", str(clip), str(shot)],
                                capture_output=True, text=True, timeout=400)
        assert result.returncode == 0, result.stderr[-2000:]
        report = json.loads(result.stdout.strip().splitlines()[-1])
        assert report["status"] == "done" and report["viewer_frames"] > 20 and report["duration"] > 0
        assert report["estimator"] == "lifter"  # chosen in the upload form, shown on the job page
        assert any(d.endswith("sim.bvh") for d in report["downloads"]) and any(d.endswith("sim.glb") for d in report["downloads"])
        assert report["metrics_rows"] >= 8 and report["replay_src"].endswith("replay.webm") and report["videos_playable"]
        assert report["errors"] == []
        image = cv2.imread(str(shot))
        assert image is not None and image.std() > 10  # something was drawn, not a flat canvas
    finally:
        server.kill(signal.SIGTERM)


def test_bad_and_concurrent_uploads_get_a_job_or_a_4xx_and_nothing_is_lost():
    """benchmarks/upload_robustness.py, shortened: every case answered, no job lost, server still up."""
    import json

    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "upload_robustness.py"), "--concurrent", "4", "--poll-seconds", "2", "--max-upload-mb", "5"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    cases = report["cases"]
    assert (cases["zero_byte"]["status"], cases["truncated"]["status"], cases["not_a_video"]["status"], cases["oversize"]["status"]) == (400, 415, 415, 413)
    assert cases["dot_dot_filename"]["job_name"] == "escape.mp4" and cases["concurrent"]["statuses"] == {"201": 4}
    assert report["every_answer_a_job_or_4xx"] and report["server_still_serving"]
    assert report["jobs_lost"] == [] and report["files_outside_their_job_folder"] == []


# -- faults: worker lifetimes, one owner per job, a queue that never stalls, a full disk -------------------


def owner_pid(owner: str) -> int:
    return int(owner.split("/")[1])


def test_sigterm_to_the_server_alone_ends_it_and_its_workers_within_15_s(tmp_path, clip):
    server = Server(tmp_path / "data")
    try:
        job_id = server.upload(clip).json()["id"]
        server.wait_for(job_id, ("running",), stages=("train",), timeout=300)  # training: it catches SIGTERM to save and carry on
        family = [server.proc.pid, *descendants(server.proc.pid)]
        assert owner_pid(server.job_row(job_id)["owner"]) in family
        os.kill(server.proc.pid, signal.SIGTERM)  # the server alone, not its process group
        deadline = time.time() + 15
        while time.time() < deadline and any(process_alive(p) for p in family):
            time.sleep(0.2)
        assert [p for p in family if process_alive(p)] == [], server.log()[-2000:]
        assert server.job_row(job_id)["status"] == "running"  # left to the next server to resume
    finally:
        server.kill()


def test_after_kill_9_of_the_server_alone_no_job_has_two_workers(tmp_path, clip):
    data = tmp_path / "data"
    first = Server(data)
    job_id = first.upload(clip).json()["id"]
    first.wait_for(job_id, ("running",), stages=("train",), timeout=300)
    old_owner = first.job_row(job_id)["owner"]
    old_worker = owner_pid(old_owner)
    os.kill(first.proc.pid, signal.SIGKILL)  # the server alone: its worker is not signalled
    killed = time.time()
    first.proc.wait()
    second = Server(data)  # the first server is gone, so its lock is free
    try:
        orphan_gone, taken = None, None
        while time.time() < killed + 120 and taken is None:
            row = second.job_row(job_id)  # read before checking the old worker: a takeover seen here happened before the check
            alive = process_alive(old_worker)
            if not alive and orphan_gone is None:
                orphan_gone = time.time()
            if row["owner"] and row["owner"] != old_owner:
                assert not alive, "a second worker took the job while the first still ran"
                taken = time.time()
            time.sleep(0.05)
        assert orphan_gone is not None and orphan_gone - killed < 5, "the orphaned worker did not end with its server"
        assert taken is not None, f"the job was never resumed: {second.job_row(job_id)}"
        assert owner_pid(second.job_row(job_id)["owner"]) in worker_pids(second.proc.pid)
        job = second.wait_for(job_id, ("done", "failed"), timeout=400)
        assert job["status"] == "done", job["error"]
    finally:
        second.stop()
        first.log_path.unlink(missing_ok=True)


def test_a_second_server_on_the_same_data_folder_refuses_to_start(tmp_path):
    from tests.server_process import free_port

    first = Server(tmp_path / "data", "--workers", "0")
    try:
        result = run_cli("serve", "--port", str(free_port()), "--data", str(tmp_path / "data"), "--workers", "0")
        assert result.returncode == 2 and "another vidmimic server" in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    finally:
        first.stop()
    Server(tmp_path / "data", "--workers", "0").stop()  # once the first is gone, a new one starts


def test_ghost_failing_and_crashed_jobs_do_not_stall_the_queue(tmp_path, clip):
    """One worker: a job whose folder is gone, one whose upload is not a video, one that fails with an
    unexpected error and one whose worker process dies are each marked failed with one line, and the
    next valid upload is processed."""
    import shutil

    from app.server.store import JobStore

    data = tmp_path / "data"
    store = JobStore(data / "jobs.sqlite")
    ghost = store.create("ghost.mp4", 0.15)
    broken = store.create("broken.mp4", 0.15)
    (data / "jobs" / broken).mkdir(parents=True)
    (data / "jobs" / broken / "upload.mp4").write_bytes(b"not a video at all")
    odd = store.create("odd.mp4", 0.15)
    (data / "jobs" / odd).mkdir()
    shutil.copy(clip, data / "jobs" / odd / "upload.mp4")
    (data / "jobs" / odd / "out").write_text("a file where the output folder goes")
    server = Server(data)
    try:
        errors = {}
        for job_id in (ghost, broken, odd):
            job = server.wait_for(job_id, ("failed",), timeout=120)
            errors[job_id] = job["error"]
            assert job["error"] and "\n" not in job["error"] and "Traceback" not in job["error"], job["error"]
        assert "gone" in errors[ghost] and "not a video" in errors[broken] and "FileExistsError" in errors[odd]
        crashed = server.upload(clip).json()["id"]
        server.wait_for(crashed, ("running",), timeout=120)
        worker = owner_pid(server.job_row(crashed)["owner"])
        os.kill(worker, signal.SIGKILL)
        job = server.wait_for(crashed, ("failed",), timeout=60)
        assert "worker process died (killed by SIGKILL)" in job["error"]
        valid = server.upload(clip).json()["id"]
        job = server.wait_for(valid, ("done", "failed"), timeout=400)
        assert job["status"] == "done", job["error"]
        assert worker not in worker_pids(server.proc.pid) and len(worker_pids(server.proc.pid)) == 1  # replaced, not added
    finally:
        server.stop()


@pytest.fixture
def small_disk(tmp_path):
    """A folder on a 3 MB filesystem (tmpfs) if this machine lets the tests mount one; else None."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)], capture_output=True).returncode == 0
    yield folder if mounted else None
    if mounted:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _limit_file_size() -> None:
    """In the server before exec: files it writes may not exceed 2 MB (EFBIG instead of SIGXFSZ)."""
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 20, 2 << 20))


def test_a_full_disk_answers_one_line_and_leaves_nothing_half_made(tmp_path, clip, small_disk):
    """The data folder on a 3 MB filesystem (or, where mounting is not allowed, a 2 MB file-size limit):
    an upload that does not fit gets 507 (500 for the limit) and leaves no job; a job that runs out of
    space fails with one line; the server keeps serving."""
    data = (small_disk or tmp_path) / "data"
    database = tmp_path / "jobs.sqlite"  # the job table elsewhere: this is about the jobs' files
    extra = ("--database", str(database), "--workers", "0")
    limit = None if small_disk else _limit_file_size
    server = Server(data, *extra, preexec_fn=limit)
    try:
        too_big = clip.read_bytes() + bytes(4 << 20)
        reply = server.post("/api/jobs", files={"file": ("big.mp4", too_big)})
        assert reply.status_code == (507 if small_disk else 500), reply.text
        assert ("disk is full" if small_disk else "File too large") in reply.json()["error"]
        assert server.get("/api/jobs").json() == [] and list((data / "jobs").iterdir()) == []
        created = server.upload(clip)
        assert created.status_code == 201, created.text
        job_id = created.json()["id"]
    finally:
        server.stop()
    assert "Traceback" not in server.log()
    if not small_disk:
        return  # a job's files stay under a file-size limit: only a full filesystem fails it
    filler = data / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:  # fill what is left, then let a worker run the job
        while True:
            os.write(fd, bytes(64 << 10))
    except OSError:
        pass
    finally:
        os.close(fd)
    server = Server(data, "--database", str(database))
    try:
        job = server.wait_for(job_id, ("failed",), timeout=300)
        assert "\n" not in job["error"] and "Traceback" not in job["error"], job["error"]
        assert "the server's disk is full" in job["error"], job["error"]
        filler.unlink(missing_ok=True)
        assert server.get("/api/jobs").status_code == 200
    finally:
        server.stop()
