"""The skinned GLB as its consumers see it: three.js's GLTFLoader in headless Chromium, and the web
app's 3D viewer playing a job's two GLBs under the server's Content-Security-Policy."""

import json
import os
import re
import shutil
import signal
import subprocess
from dataclasses import replace

import cv2
import numpy as np
import pytest
import requests

from characters import rotations as rot
from retargeting.deepmimic_file import read_deepmimic
from retargeting.gltf_export import body_meshes, write_glb
from tests.conftest import ROOT, WALK
from tests.server_process import Server

BROWSER = ROOT / "tests" / "browser"
NODE = shutil.which("node")


def require_browser() -> None:
    driver = ROOT / "app" / "server" / "web" / "node_modules" / "playwright-core"
    if NODE is None or not driver.exists() or not os.path.exists(os.environ.get("CHROMIUM", "/usr/bin/chromium")):
        pytest.fail("browser test needs node, `npm ci --prefix app/server/web` and Debian's chromium (make test installs them)")


def run_node(*args: str, timeout: float = 180) -> dict:
    result = subprocess.run([NODE, *args], capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_three_js_loads_a_skinned_mesh_whose_bones_move_with_the_motion(character, tmp_path):
    require_browser()
    walk = read_deepmimic(WALK, character)
    write_glb(tmp_path / "walk.glb", walk)
    frames = [0, 9, 19, walk.num_frames - 2]
    times = [float(walk.times[f]) for f in frames]
    stride = 7
    built = run_node(str(BROWSER / "skinned_glb.js"), str(tmp_path / "walk.glb"), json.dumps(times), str(stride))
    assert built["errors"] == []
    assert built["skinned_meshes"] == 1 and built["meshes"] == 1, "one SkinnedMesh and no rigid meshes"
    assert built["bones"] == list(character.body_names)
    assert abs(built["clip_duration"] - walk.duration) < 1e-4
    # while the animation plays in real time, the skeleton's bone matrices change from frame to frame
    assert built["played_seconds"] > 0.2
    changes = np.array(built["bone_matrix_changes"])
    assert (changes > 1e-4).mean() > 0.8, changes
    # the vertices three.js skins are where the character's forward kinematics puts its bodies
    local, _, body, _ = body_meshes(character)
    positions, rotations = walk.body_frames()
    for frame, t, got in zip(frames, times, built["vertices"], strict=True):
        expected = (rot.rotate(rotations[frame, body], local) + positions[frame, body])[::stride]
        got = np.array(got)
        error = np.linalg.norm(got - expected, axis=1)
        assert error.max() < 1e-3, f"t = {t:.3f} s: {error.max() * 1000:.2f} mm"


def outwalking(reference, seconds: float = 8.0, speed: float = 1.5, drift: float = 0.4):
    """A longer, non-looping walk that goes ``speed`` times as far as ``reference`` and drifts
    sideways at ``drift`` m/s: the way a simulated character outwalks its reference in the demo."""
    times = np.arange(0.0, seconds, 1.0 / 30.0)
    root_pos, root_rot, joint_rot = reference.sample(times)
    start = root_pos[0].copy()
    root_pos[:, [0, 2]] = start[[0, 2]] + speed * (root_pos[:, [0, 2]] - start[[0, 2]])
    root_pos[:, 2] += drift * times
    return replace(reference, frame_dt=np.full(len(times), 1.0 / 30.0), root_pos=root_pos, root_rot=root_rot, joint_rot=joint_rot, loop="none")


# The job page has its own controls (#play, #timeline, #clock); a page without them gets the viewer's.
JOB_PAGE_CONTROLS = '<div><button id="play">pause</button><input type="range" id="timeline" min="0" max="1000" value="0"> <span id="clock">0.00 s</span></div>'


@pytest.mark.parametrize("width,height,controls", [(1280, 800, JOB_PAGE_CONTROLS), (390, 844, "")], ids=["desktop-page-controls", "phone-own-controls"])
def test_viewer_plays_scrubs_and_keeps_both_characters_in_view(character, tmp_path, width, height, controls):
    require_browser()
    reference = read_deepmimic(WALK, character)  # a job's reference.glb: one cycle, repeated by the viewer
    simulated = outwalking(reference)
    write_glb(tmp_path / "sim.glb", simulated)
    write_glb(tmp_path / "reference.glb", reference)
    job_page = (ROOT / "app" / "server" / "pages" / "job.html").read_text()
    importmap = re.search(r'<script type="importmap">.*?</script>', job_page, re.DOTALL).group(0)  # the server's CSP allows exactly this block
    page = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="stylesheet" href="/static/app/style.css"></head><body>'
            f'{controls}<canvas id="viewer" width="900" height="420"></canvas><p id="error"></p>'
            f'{importmap}<script src="/viewer-check.js"></script><script type="module" src="/static/app/viewer.js"></script></body></html>')
    (tmp_path / "page.html").write_text(page)
    server = Server(tmp_path / "data")
    try:
        policy = requests.get(server.url + "/", timeout=10).headers["content-security-policy"]
        assert "'unsafe-inline'" not in policy
        shots = tmp_path / "viewer"
        result = run_node(str(BROWSER / "viewer_timeline.js"), server.url, str(tmp_path / "page.html"), policy,
                          str(tmp_path / "sim.glb"), str(tmp_path / "reference.glb"), str(shots), str(width), str(height), timeout=300)
    finally:
        server.kill(signal.SIGTERM)
    assert result["errors"] == [] and result["violations"] == []
    assert result["skinned"] and abs(result["duration"] - simulated.duration) < 0.05, "the viewer plays the whole simulated clip"
    assert result["controls"] == (["BUTTON", "INPUT", "SPAN"] if controls else ["BUTTON", "INPUT", "OUTPUT"]), "the page's controls, else the viewer's own"
    assert result["played"] > 0.3
    assert result["play_label_when_paused"] == "play" and abs(result["moved_while_paused"]) < 1e-9 and result["playing_again"]
    assert result["drawn_while_paused"] <= 1, "a paused viewer draws nothing new"
    for s in result["scrub"]:
        assert abs(s["time"] - s["asked"]) <= 0.011 and not s["playing"], s
        assert s["clock"].startswith(f"{s['time']:.2f} s")
        for who, (x0, x1, y0, y1) in s["ndc"].items():
            assert -1 <= x0 and x1 <= 1 and -1 <= y0 and y1 <= 1, f"{who} leaves the view at {s['time']:.2f} s: {s['ndc']}"
        assert s["ndc"]["simulated"][3] - s["ndc"]["simulated"][2] > 0.25, f"the character is drawn too small at {s['time']:.2f} s"
    images = [cv2.imread(f"{shots}-{k}.png") for k in (0, 10, 20)]
    assert all(image is not None and image.std() > 10 for image in images)
    assert np.abs(images[0].astype(int) - images[2].astype(int)).mean() > 1, "the start and the end of the clip look the same"
