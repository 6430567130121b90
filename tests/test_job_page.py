"""The job page and the upload page in headless Chromium, against a real server process.

A real job (a 1.5 s clip of a person, a few training iterations) is run to the end by the
server's worker; its page is then read at a desktop (1280×800) and a phone (390×844) viewport.
The upload page is read at the phone viewport with the network throttled, so the upload's
percentage can be seen, and with a refused file.
"""

import json
import os
import re
import shutil
import signal
import subprocess

import pytest

from tests.conftest import ROOT, short_real_clip
from tests.server_process import Server

BROWSER = ROOT / "tests" / "browser"
RAW_FLOAT = re.compile(r"\d\.\d{4,}")  # a number printed with more than three decimals
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])/(?:[\w.-]+/)+[\w.-]+")  # /a/b...; not a URL's path, not "N/kg"


def node() -> str:
    found, driver = shutil.which("node"), ROOT / "app" / "server" / "web" / "node_modules" / "playwright-core"
    if found is None or not driver.exists() or not os.path.exists(os.environ.get("CHROMIUM", "/usr/bin/chromium")):
        pytest.fail("browser test needs node, `npm ci --prefix app/server/web` and Debian's chromium (make test installs them)")
    return found


def browse(script: str, *args: str) -> dict:
    result = subprocess.run([node(), str(BROWSER / script), *args], capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def finished_job(tmp_path_factory):
    """A server and one job it ran to the end: ``(server, job_id)``."""
    folder = tmp_path_factory.mktemp("job_page")
    server = Server(folder / "data")
    try:
        created = server.upload(short_real_clip(folder / "walk.mp4"), train_minutes="0.15")
        assert created.status_code == 201, created.text
        job_id = created.json()["id"]
        job = server.wait_for(job_id, timeout=400)
        assert job["status"] == "done", job["error"]
        yield server, job_id
    finally:
        server.kill(signal.SIGTERM)


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)])
def test_a_finished_jobs_page_at_desktop_and_phone_width(finished_job, width, height):
    server, job_id = finished_job
    page = browse("job_page.js", f"{server.url}/jobs/{job_id}", f"{width}x{height}")
    assert page["errors"] == []
    # the verdict, in words, at the top
    assert re.fullmatch(r"(Stood for the whole \d+\.\d s (clip|replay of the looped clip)"
                        r"|(Fell|Strayed more than 0\.5 m from the reference) after \d+\.\d s, at \d+ % of the \d+\.\d s (clip|replay of the looped clip))\.",
                        page["verdict"]), page["verdict"]
    assert page["verdict_visible"] and page["verdict_box"]["y"] + page["verdict_box"]["height"] <= height
    # the replay beside the source video (stacked on a phone), both decoded, playing, pausing and seeking together
    assert page["videos_visible"] and min(page["video_sizes"]) > 0
    overlay, replay = page["overlay_box"], page["replay_box"]
    assert overlay["width"] > 0.3 * width if width < 600 else (overlay["y"] == replay["y"] and overlay["x"] + overlay["width"] <= replay["x"])
    assert overlay["y"] < height  # the source video starts within the first screen
    playing, paused, seeked = page["sync_playing"], page["sync_paused"], page["sync_seeked"]
    assert not playing["replay_paused"] and not playing["overlay_paused"] and abs(playing["overlay_time"] - playing["expected"]) < 0.35, playing
    assert paused["replay_paused"] and paused["overlay_paused"] and abs(paused["overlay_time"] - paused["expected"]) < 0.1, paused
    assert seeked["replay_time"] > 0.4 and abs(seeked["overlay_time"] - seeked["expected"]) < 0.1, seeked
    # downloads grouped by who needs them; diagnostics folded
    groups = page["groups"]
    assert {"sim.bvh", "sim.glb", "reference.bvh", "reference.glb"} <= set(groups["animation"]["links"])
    assert {"policy.zip", "motion.txt", "sim_smpl.npz"} <= set(groups["research"]["links"])
    assert groups["diagnostics"]["open"] is False and "stages.json" in groups["diagnostics"]["links"] and "train/checkpoint.zip" in groups["diagnostics"]["links"]
    assert not {"stages.json", "checkpoint.zip"} & set(groups["animation"]["links"] + groups["research"]["links"])
    assert page["groups_visible"]
    # metrics in words, each with a tip; the chart has axes with units
    assert len(page["metrics"]) >= 6 and all(m["tip"] for m in page["metrics"])
    assert page["chart"]["ticks"] >= 10 and page["chart"]["labels"] == ["training samples (thousands)", "seconds on its feet per episode"]
    # no raw floats, no server paths, anywhere in the DOM's text or tooltips
    assert not RAW_FLOAT.findall(page["text"]), RAW_FLOAT.findall(page["text"])[:5]
    assert not ABSOLUTE_PATH.findall(page["text"]), ABSOLUTE_PATH.findall(page["text"])[:5]
    assert str(server.data) not in page["text"] and str(ROOT) not in page["text"]
    assert page["scroll_width"] <= width  # nothing wider than the screen
    # the 3D viewer animates
    viewer = page["viewer"]
    assert viewer["frames_after"] > viewer["frames_before"] > 10 and viewer["pixels_changed"] and not viewer["error"], viewer


def test_the_raw_report_has_what_the_page_shows(finished_job):
    """report.html, as the server sends it: styled inline, no script, the same verdict and groups, no raw floats or paths."""
    server, job_id = finished_job
    reply = server.get(f"/files/{job_id}/report.html")
    assert reply.status_code == 200 and "script-src" not in reply.headers["content-security-policy"]
    report = server.get(f"/api/jobs/{job_id}").json()["report"]
    html = reply.text
    assert "<script" not in html and "<style>" in html and ".verdict" in html
    assert report["verdict"]["sentence"].replace("'", "&#x27;") in html
    assert html.index("For animation") < html.index("For research") < html.index("<details><summary>Diagnostics")
    text = re.sub(r"<style>.*?</style>|<[^>]+>", " ", html, flags=re.DOTALL)
    assert not RAW_FLOAT.findall(text) and not ABSOLUTE_PATH.findall(text), (RAW_FLOAT.findall(text)[:3], ABSOLUTE_PATH.findall(text)[:3])


def test_the_upload_page_on_a_phone_shows_progress_in_percent_and_a_refused_files_message(tmp_path):
    server = Server(tmp_path / "data", "--workers", "0")
    try:
        bad = tmp_path / "holiday.mp4"
        bad.write_bytes(b"definitely not a video")
        video = short_real_clip(tmp_path / "walk.mp4")
        assert video.stat().st_size > 200_000  # seconds of upload at the throttled rate
        page = browse("upload_phone.js", server.url + "/", str(video), str(bad))
        assert page["errors"] == []
        layout = page["layout"]
        assert layout["scroll_width"] <= 390 and all(i["right"] <= 390 for i in layout["inputs"]) and layout["send"]["height"] >= 40
        assert {i["accept"] for i in layout["inputs"]} == {"video/*"} and any(i["capture"] for i in layout["inputs"])  # the camera is offered
        assert page["refused"]["visible"] and "holiday.mp4: not a video" in page["refused"]["message"] and page["refused"]["url"] == server.url + "/"
        percents = [int(p.rstrip(" %")) for p in page["percents"]]
        assert len([p for p in percents if 0 < p < 100]) >= 3 and percents == sorted(percents), page["percents"]
        assert re.search(r"/jobs/[0-9a-f]+$", page["job_url"])  # then the job's page
        assert len(server.get("/api/jobs").json()) == 1  # the refused file made no job
    finally:
        server.kill(signal.SIGTERM)


def test_the_verdict_and_metrics_in_words():
    """The issue's two example sentences, a tracker that strayed, and the demo's evaluation worded and rounded."""
    from app.report import metrics, verdict

    assert verdict({"seconds": 17.2, "fell": False}, 17.2)["sentence"] == "Stood for the whole 17.2 s clip."
    assert verdict({"seconds": 0.7, "fell": True}, 17.2)["sentence"] == "Fell after 0.7 s, at 4 % of the 17.2 s clip."
    strayed = {"chosen": "tracker", "candidates": {"tracker": {"falls": 0, "success": False, "clip_seconds": 4.0}}}
    assert verdict({"seconds": 2.0, "fell": True}, 4.0, strayed)["sentence"].startswith("Strayed more than 0.5 m from the reference after 2.0 s, at 50 %")
    evaluation = {"policy": "/tmp/x/jobs/abc/out/train/policy.zip", "episodes": 5, "seconds": 10.0, "falls": 1, "explosions": 0,
                  "mean_episode_seconds": 8.126666666666667, "mean_pose_error_deg": 7.443918696894931, "mean_body_pos_error_mm": 50.41511976244804,
                  "mean_root_drift_m": 5.0765586821117505, "mean_reward": 0.4075444819289985}
    rows = {m["label"]: m["value"] for m in metrics(evaluation, {"seconds": 10.0, "fell": False, "travel_m": 14.91})}
    assert rows["Falls"] == "1 of 5 tries" and rows["Time on its feet"] == "8.1 s of 10.0 s" and rows["Drift from the reference"] == "5.08 m"
    assert rows["Pose error"] == "7.44°" and rows["Body position error"] == "50.4 mm" and rows["Imitation reward"].startswith("0.41 ")
    assert not any("/" in v and "policy" in v for v in rows.values())  # the policy's path is not a metric
