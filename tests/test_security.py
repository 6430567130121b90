"""The web app under hostile input, against a real server process (and, for scripts, headless Chromium).

Servers here run with ``--workers 0``: jobs are accepted and wait, so nothing trains. The faults
(workers, full disk, queue stalls) are in test_server.py.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import requests

from tests.conftest import ROOT
from tests.server_process import Server

TOKEN = "correct-horse-battery-staple"
MARK = "window.__xss=(window.__xss||0)+1;document.title='XSS-RAN'"
PAYLOADS = [  # each sets the marker if it ever runs as script; none holds a "/" (file names cannot)
    f'<img src=x onerror="{MARK}">',
    f'"><svg onload="{MARK}">',
    f"'><body onload=\"{MARK}\">",
    f"<iframe srcdoc=\"<img src=x onerror='parent.{MARK}'>\">",
    f"javascript:{MARK}",
    f"<a href=\"javascript:{MARK}\">link",
    "{{constructor.constructor('" + MARK + "')()}}",
    f"<script>{MARK}<\\script>",
]


def tiny_video(path: Path) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 15, (96, 64))
    for i in range(12):
        frame = np.full((64, 96, 3), 80, np.uint8)
        frame[20:40, 5 * i: 5 * i + 20] = 220
        writer.write(frame)
    writer.release()
    return path


def browser_ready() -> tuple[str, Path]:
    node, driver = shutil.which("node"), ROOT / "app" / "server" / "web" / "node_modules" / "playwright-core"
    if node is None or not driver.exists() or not os.path.exists(os.environ.get("CHROMIUM", "/usr/bin/chromium")):
        pytest.fail("browser checks need node, `npm ci --prefix app/server/web` and Debian's chromium (make test installs them)")
    return node, ROOT / "tests" / "browser" / "security_probe.js"


def run_browser(tmp_path: Path, visits: list[dict], chromium_args: list[str] = ()) -> dict:
    node, probe = browser_ready()
    config = tmp_path / f"probe_{time.monotonic_ns()}.json"
    config.write_text(json.dumps({"visits": visits, "chromium_args": list(chromium_args)}))
    result = subprocess.run([node, str(probe), str(config)], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def raw_request(port: int, data: bytes, read_timeout: float = 10.0) -> tuple[bytes, float]:
    """Send ``data`` on a new connection; (the reply, seconds until it was complete or the server closed the connection).
    Reading stops at ``read_timeout``."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(data)
        s.settimeout(read_timeout)
        reply = b""
        try:
            while chunk := s.recv(65536):
                reply += chunk
                head, sep, body = reply.partition(b"\r\n\r\n")
                length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                if sep and length and len(body) >= int(length.group(1)):
                    break
        except (TimeoutError, ConnectionResetError):
            pass
    return reply, time.monotonic() - start


def status_of(reply: bytes) -> int | None:
    match = re.match(rb"HTTP/1\.[01] (\d{3})", reply)
    return int(match.group(1)) if match else None


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return tiny_video(tmp_path_factory.mktemp("video") / "clip.mp4")


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    """The default server (loopback, no token), plus one allowed host name and short read timeouts."""
    server = Server(tmp_path_factory.mktemp("open") / "data", "--workers", "0", "--allowed-host", "vidmimic.test", "--max-upload-mb", "1",
                    env={"VIDMIMIC_READ_TIMEOUT_S": "2"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    """A server with a token given in a file (so not on its command line)."""
    folder = tmp_path_factory.mktemp("token")
    (folder / "token").write_text(TOKEN + "\n")
    server = Server(folder / "data", "--workers", "0", "--token-file", str(folder / "token"), token=TOKEN)
    yield server
    server.stop()


def done_job(server: Server, video: Path, name: str, files: dict[str, str], evaluation: dict, error: str = "") -> str:
    """A job uploaded through the API, then made to look finished (row and report written as a worker would)."""
    created = server.upload(video, name=name)
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    out = server.data / "jobs" / job_id / "out"
    out.mkdir()
    for relative, text in files.items():
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        (out / relative).write_text(text)
    (out / "report.json").write_text(json.dumps({"evaluation": evaluation, "replay": {"fell": error}, "training_curve": []}))
    with sqlite3.connect(server.data / "jobs.sqlite") as db:
        db.execute("UPDATE jobs SET status = 'done', stage = 'done', error = ? WHERE id = ?", (error, job_id))
    return job_id


# -- injection -------------------------------------------------------------------------------------


def test_no_payload_runs_in_a_browser_and_the_pages_show_them_as_text(open_server, video, tmp_path):
    server = open_server
    for payload in PAYLOADS:  # the reported attack: the upload's file name becomes the job's name
        created = server.upload(video, name=f"{payload}.mp4")
        assert created.status_code == 201, created.text
    bad_field = server.upload(video, estimator=PAYLOADS[0])
    assert bad_field.status_code == 422 and bad_field.headers["content-type"] == "application/json"
    assert bad_field.headers["x-content-type-options"] == "nosniff"
    # a finished job whose metrics and file names (a .bvh and a .txt inside it) are payloads, and a failed one whose error is
    files = {f"export/{PAYLOADS[0]}.bvh": "HIERARCHY", f"{PAYLOADS[1]}.txt": "{}"}
    job_id = done_job(server, video, PAYLOADS[2] + ".mp4", files, {PAYLOADS[3]: PAYLOADS[4], "episodes": PAYLOADS[5]})
    failed_id = done_job(server, video, "failed.mp4", {}, {})
    with sqlite3.connect(server.data / "jobs.sqlite") as db:
        db.execute("UPDATE jobs SET status = 'failed', error = ? WHERE id = ?", (PAYLOADS[0], failed_id))
    names = [job["name"] for job in server.get("/api/jobs").json()]  # as stored (a client may escape quotes in a file name)
    assert sum("<" in name and "onerror=" in name for name in names) >= 2
    # the app's own report with a script planted in it, and generated HTML and SVG files: never run as the app's pages
    out = server.data / "jobs" / job_id / "out"
    (out / "report.html").write_text(f"<html><head><title>report</title></head><body><h1>report</h1><script>{MARK}</script>"
                                     f"<img src=x onerror=\"{MARK}\"></body></html>")
    (out / "page.html").write_text(f"<script>{MARK}</script>")
    (out / "picture.svg").write_text(f'<svg xmlns="http://www.w3.org/2000/svg" onload="{MARK}"><script>{MARK}</script></svg>')

    rows = f"document.querySelectorAll('#jobs tbody tr').length >= {len(names)}"
    results = run_browser(tmp_path, [
        {"name": "index", "url": server.url + "/", "wait": rows, "collect": "[...document.querySelectorAll('#jobs a')].map(a => a.textContent)"},
        {"name": "job", "url": f"{server.url}/jobs/{job_id}", "wait": "document.querySelectorAll('#downloads li').length >= 2",
         "collect": "({title: document.getElementById('title').textContent, metrics: [...document.querySelectorAll('#metrics td')].map(td => td.textContent), "
                    "downloads: [...document.querySelectorAll('#downloads a')].map(a => a.textContent)})"},
        {"name": "failed_job", "url": f"{server.url}/jobs/{failed_id}", "wait": "document.getElementById('status').textContent === 'failed'",
         "collect": "document.getElementById('error').textContent"},
        {"name": "estimator_field", "url": server.url + "/", "wait": "document.getElementById('message').textContent.includes('unknown estimator')",
         "actions": [{"do": "setInputFiles", "selector": "#file", "file": str(video)},
                     {"do": "evaluate", "script": f"const o = document.createElement('option'); o.value = {json.dumps(PAYLOADS[0])}; "
                                                  "document.getElementById('estimator').append(o); document.getElementById('estimator').value = o.value;"},
                     {"do": "click", "selector": "#send"}]},
        {"name": "report", "url": f"{server.url}/files/{job_id}/report.html", "wait": "document.querySelector('h1') !== null"},
        {"name": "html_file", "url": f"{server.url}/files/{job_id}/page.html"},
        {"name": "svg_file", "url": f"{server.url}/files/{job_id}/picture.svg"},
    ])
    for name, result in results.items():
        assert result["xss"] == 0 and result["title"] != "XSS-RAN", (name, result)
        assert "failure" not in result, (name, result["failure"])
    job = results["job"]["collected"]
    assert sorted(results["index"]["collected"]) == sorted(names)  # every name shown, as text
    assert job["title"] == server.get(f"/api/jobs/{job_id}").json()["name"]
    assert PAYLOADS[3] in job["metrics"] and PAYLOADS[4] in job["metrics"] and PAYLOADS[5] in job["metrics"]
    assert f"export/{PAYLOADS[0]}.bvh" in job["downloads"] and f"{PAYLOADS[1]}.txt" in job["downloads"]
    assert results["failed_job"]["collected"] == PAYLOADS[0]
    assert f"unknown estimator {PAYLOADS[0][:40]!r}" in results["estimator_field"]["text"]  # the form's error, shown as text
    assert results["report"]["text"].startswith("report") and results["report"]["csp"]  # rendered, its script refused
    assert results["html_file"]["download"] and results["svg_file"]["download"]  # saved, not shown as pages of the app


def test_pages_hold_no_inline_script_and_send_the_security_headers(open_server):
    for path in ("/", "/static/app/index.js", "/api/jobs"):
        reply = open_server.get(path)
        policy = reply.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy, policy
        assert reply.headers["x-content-type-options"] == "nosniff" and reply.headers["referrer-policy"] == "no-referrer"
    pages = (ROOT / "app" / "server" / "pages").glob("*.html")
    for page in pages:
        for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", page.read_text(), re.DOTALL):
            assert not body.strip() or 'type="importmap"' in attributes, page  # scripts are files; the static import map is allowed by its hash
        assert not re.search(r"\son[a-z]+=", page.read_text()), page  # no inline event handlers
    scripts = (ROOT / "app" / "server" / "pages" / "static").glob("*.js")
    for script in scripts:
        assert "innerHTML" not in script.read_text() and "insertAdjacentHTML" not in script.read_text(), script


# -- host and origin -------------------------------------------------------------------------------


def test_a_spoofed_host_gets_400_on_every_kind_of_route(open_server, tmp_path):
    server = open_server
    for path in ("/", "/api/jobs", "/static/app/index.js", "/files/000000000000/x", "/nowhere"):
        for host in ("attacker.example", f"attacker.example:{server.port}", "127.0.0.1.attacker.example", "localhost.:1@evil"):
            reply = server.get(path, headers={"Host": host})
            assert reply.status_code == 400, (path, host, reply.status_code)
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", "vidmimic.test"):
        assert server.get("/api/jobs", headers={"Host": host}).status_code == 200, host
    reply, _ = raw_request(server.port, b"GET /api/jobs HTTP/1.0\r\n\r\n")  # no Host at all
    assert status_of(reply) == 400
    # DNS rebinding as a browser sees it: a foreign name that resolves to the server
    result = run_browser(tmp_path, [{"name": "rebound", "url": f"http://rebound.example:{server.port}/",
                                     "collect": "fetch('/api/jobs').then(r => r.status)"}],
                         chromium_args=["--host-resolver-rules=MAP rebound.example 127.0.0.1"])["rebound"]
    assert result["status"] == 400 and result["collected"] == 400 and "does not answer for host" in result["text"]


class _Attacker(http.server.ThreadingHTTPServer):
    """Another origin (another port of the same machine) serving a page that posts to the app."""

    def __init__(self, folder: Path):
        super().__init__(("127.0.0.1", 0), functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder)))
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def test_cross_origin_posts_get_403_and_make_no_job(open_server, video, tmp_path):
    server = open_server
    before = {job["id"] for job in server.get("/api/jobs").json()}
    target = next(iter(before), "000000000000")
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {"Referer": "http://evil.example/page"},
                    {"Sec-Fetch-Site": "cross-site"}, {"Origin": f"http://127.0.0.1:{server.port + 1}"}):
        with video.open("rb") as f:
            reply = server.post("/api/jobs", files={"file": ("csrf.mp4", f)}, headers=headers)
        assert reply.status_code == 403, (headers, reply.text)
        assert server.post(f"/api/jobs/{target}/train-more", data={"minutes": "5"}, headers=headers).status_code == 403
        assert requests.delete(f"{server.url}/api/jobs/{target}", headers=headers, timeout=10).status_code == 403
    assert {job["id"] for job in server.get("/api/jobs").json()} == before
    # the same from a real page of another origin: a no-cors fetch with a video, and a plain form
    site = tmp_path / "attacker"
    site.mkdir()
    shutil.copy(video, site / "clip.mp4")
    (site / "fetch.html").write_text(f"""<!doctype html><title>attack</title><script>
(async () => {{
  const body = new FormData();
  body.append("file", await (await fetch("/clip.mp4")).blob(), "csrf-fetch.mp4");
  try {{ await fetch("{server.url}/api/jobs", {{method: "POST", mode: "no-cors", body}}); }} catch (e) {{}}
  document.title = "sent";
}})();</script>""")
    (site / "form.html").write_text(f"""<!doctype html><body onload="document.forms[0].submit()">
<form method="post" action="{server.url}/api/jobs" enctype="multipart/form-data"><input name="estimator" value="lifter"></form></body>""")
    attacker = _Attacker(site)
    try:
        results = run_browser(tmp_path, [{"name": "fetch", "url": attacker.url + "/fetch.html", "wait": "document.title === 'sent'"},
                                         {"name": "form", "url": attacker.url + "/form.html", "wait_url": server.url + "/api/jobs"}])
    finally:
        attacker.shutdown()
    assert results["fetch"]["title"] == "sent"
    assert "cross-origin requests may not change anything" in results["form"]["text"], results["form"]
    assert {job["id"] for job in server.get("/api/jobs").json()} == before
    with video.open("rb") as f:  # the app's own origin still may
        assert server.post("/api/jobs", files={"file": ("same.mp4", f)}, headers={"Origin": server.url}).status_code == 201


# -- the token -------------------------------------------------------------------------------------


def concrete(path: str, job_id: str) -> str:
    return path.replace("{job_id}", job_id).replace("{relative:path}", "export/sim.bvh")


def test_every_route_refuses_a_request_without_the_token(token_server, video):
    from starlette.routing import Mount

    from app.server.routes import create_app
    from app.server.settings import Settings

    server = token_server
    job_id = done_job(server, video, "walk.mp4", {"export/sim.bvh": "HIERARCHY"}, {"episodes": 1})
    app = create_app(Settings(data_dir=server.data.parent / "route_table", token=TOKEN))
    requests_to_try = []
    for route in app.routes:  # the app's own table: a new route is covered without editing this test
        if isinstance(route, Mount):
            requests_to_try.append(("GET", route.path + "/anything.js"))
        else:
            requests_to_try += [(method, concrete(route.path, job_id)) for method in sorted(route.methods - {"HEAD"})]
    requests_to_try += [("GET", "/docs"), ("GET", "/openapi.json"), ("GET", "/redoc"), ("GET", "/no/such/route")]
    assert len(requests_to_try) >= 14
    for method, path in requests_to_try:
        for headers, params in (({}, {}), ({"Authorization": "Bearer wrong"}, {}), ({"Authorization": f"Basic {TOKEN}"}, {}),
                                ({}, {"token": "wrong"}), ({"Cookie": f"vidmimic_session_{server.port}=forged"}, {}),
                                ({"Cookie": f"vidmimic_session_{server.port}={TOKEN}"}, {})):
            reply = requests.request(method, server.url + path, headers=headers, params=params, timeout=10, allow_redirects=False)
            assert reply.status_code == 401, (method, path, headers, params, reply.status_code)
        if method != "GET":  # a right token in a URL is only a page link's
            assert requests.request(method, server.url + path, params={"token": TOKEN}, timeout=10).status_code == 401, (method, path)
    assert server.get(f"/files/{job_id}/export/sim.bvh").text == "HIERARCHY"  # with it: fine
    for path in ("/docs", "/openapi.json", "/redoc"):
        assert server.get(path).status_code == 404  # off, token or not
    assert TOKEN not in Path(f"/proc/{server.proc.pid}/cmdline").read_bytes().decode(errors="replace")  # never on its command line


def test_the_token_is_checked_before_the_body_is_read(token_server):
    head = (f"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1:{token_server.port}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {3 << 20}\r\n\r\n").encode()
    reply, seconds = raw_request(token_server.port, head, read_timeout=5)  # headers only: a server that read the body first would wait
    assert status_of(reply) == 401 and seconds < 4, (reply[:200], seconds)


def test_a_token_in_a_link_becomes_a_session_cookie_and_leaves_the_address(token_server, video, tmp_path):
    server = token_server
    job_id = done_job(server, video, "walk.mp4", {"export/sim.bvh": "HIERARCHY"}, {"episodes": 1})
    first = requests.get(f"{server.url}/jobs/{job_id}", params={"token": TOKEN, "t": "1"}, allow_redirects=False, timeout=10)
    assert first.status_code == 303 and first.headers["location"] == f"/jobs/{job_id}?t=1"
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    session = cookie.split(";")[0]
    assert requests.get(server.url + "/api/jobs", headers={"Cookie": session}, timeout=10).status_code == 200
    assert requests.get(server.url + "/api/jobs", params={"token": "wrong"}, allow_redirects=False, timeout=10).status_code == 401
    reply, _ = raw_request(server.port, f"GET //evil.example/x?token={TOKEN} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
    assert status_of(reply) == 303 and b"\r\nlocation: /evil.example/x\r\n" in reply  # back to this server, never another
    # in a browser: the link with the token opens the page, the address loses it, no link carries it, the session ends on request
    results = run_browser(tmp_path, [
        {"name": "link", "url": f"{server.url}/?token={TOKEN}", "wait": "document.querySelectorAll('#jobs tbody tr').length >= 1",
         "collect": "({href: location.href, links: [...document.querySelectorAll('a')].map(a => a.href), cookie: document.cookie, "
                    "logout: !document.getElementById('logout').hidden})"},
        {"name": "job", "url": f"{server.url}/jobs/{job_id}", "wait": "document.querySelectorAll('#downloads li').length >= 1",
         "collect": "[...document.querySelectorAll('a')].map(a => a.href)"},
        {"name": "logout", "url": f"{server.url}/", "actions": [{"do": "evaluate", "script": "fetch('/api/session', {method: 'DELETE'})"}],
         "collect": "fetch('/api/jobs').then(r => r.status)"},
    ])
    link = results["link"]["collected"]
    assert link["href"] == server.url + "/" and link["cookie"] == "" and link["logout"]
    assert not any(TOKEN in href for href in link["links"] + results["job"]["collected"])
    assert results["logout"]["collected"] == 401
    assert requests.get(server.url + "/api/jobs", headers={"Cookie": session}, timeout=10).status_code == 200  # another browser's session lives on
    requests.delete(server.url + "/api/session", headers={"Cookie": session}, timeout=10)
    assert requests.get(server.url + "/api/jobs", headers={"Cookie": session}, timeout=10).status_code == 401


def test_the_token_is_compared_in_constant_time(monkeypatch):
    import hmac

    from app.server import security
    from app.server.settings import Settings

    compared = []
    real = hmac.compare_digest
    monkeypatch.setattr(security.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    guard = security.Guard(None, Settings(token=TOKEN), security.Sessions(1), "")
    assert guard._matches(TOKEN) and not guard._matches(TOKEN[:-1] + "X")
    assert compared == [(TOKEN.encode(), TOKEN.encode()), ((TOKEN[:-1] + "X").encode(), TOKEN.encode())]


# -- files -----------------------------------------------------------------------------------------


def test_files_cannot_be_reached_outside_their_job_and_are_served_safely(open_server, video, tmp_path):
    server = open_server
    job_id = done_job(server, video, "walk.mp4", {"export/sim.bvh": "HIERARCHY", "replay.webm": "webm", "report.html": "<h1>report</h1>"}, {"episodes": 1})
    out = server.data / "jobs" / job_id / "out"
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    (out / "link_out").symlink_to(secret)
    (out / "link_db").symlink_to(server.data / "jobs.sqlite")
    (out / "link_up").symlink_to(server.data / "jobs" / job_id / "upload.mp4")
    for path in ("../upload.mp4", "../../../jobs.sqlite", "%2e%2e/upload.mp4", "%2e%2e%2f%2e%2e%2fjobs.sqlite", "..%2f..%2fjobs.sqlite",
                 "/etc/passwd", "%2fetc%2fpasswd", "link_out", "link_db", "link_up", "export/sim.bvh%00.webm", "%00", "export/../../upload.mp4"):
        reply = requests.get(f"{server.url}/files/{job_id}/{path}", timeout=10)
        assert reply.status_code == 404, (path, reply.status_code)
    for job in ("..", "%2e%2e", "../jobs", job_id + "%00"):
        assert requests.get(f"{server.url}/files/{job}/export/sim.bvh", timeout=10).status_code == 404, job
    download = server.get(f"/files/{job_id}/export/sim.bvh")
    assert download.status_code == 200 and download.headers["content-disposition"].startswith("attachment")
    assert download.headers["content-type"] == "application/octet-stream" and "sandbox" in download.headers["content-security-policy"]
    shown = server.get(f"/files/{job_id}/replay.webm")
    assert shown.headers["content-type"] == "video/webm" and shown.headers["content-disposition"].startswith("inline")
    report = server.get(f"/files/{job_id}/report.html")
    assert report.headers["content-type"].startswith("text/html") and "script-src" not in report.headers["content-security-policy"]
    assert "default-src 'none'" in report.headers["content-security-policy"]


# -- sizes and time limits -------------------------------------------------------------------------


def test_oversize_headers_bodies_and_slow_clients_get_clear_answers(open_server, video):
    server = open_server
    before = sorted(p.name for p in (server.data / "jobs").iterdir())
    host = f"Host: 127.0.0.1:{server.port}\r\n".encode()
    reply, _ = raw_request(server.port, b"GET / HTTP/1.1\r\n" + host + b"X-Big: " + b"a" * (20 << 10) + b"\r\n\r\n")
    assert status_of(reply) == 431 and b"headers larger than 16 KB" in reply
    # the upload limit (1 MB here) from Content-Length, before the body is sent
    reply, seconds = raw_request(server.port, b"POST /api/jobs HTTP/1.1\r\n" + host + b"Content-Type: multipart/form-data; boundary=b\r\n"
                                 b"Content-Length: 3145728\r\n\r\n", read_timeout=5)
    assert status_of(reply) == 413 and b"upload larger than 1 MB" in reply and seconds < 1.9, (reply[:300], seconds)
    big = video.read_bytes() + bytes(3 << 20)
    reply = requests.post(server.url + "/api/jobs", files={"file": ("big.mp4", big)}, timeout=60)  # sent whole: the answer still arrives
    assert reply.status_code == 413 and "upload larger than 1 MB" in reply.json()["error"]
    reply = requests.post(server.url + "/api/jobs", files={"file": ("big.mp4", video.read_bytes() + bytes(int(1.5 * (1 << 20))))}, timeout=60)
    assert reply.status_code == 413  # within the declared allowance: stopped while streaming

    def chunks():  # no Content-Length at all: stopped while streaming
        yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.mp4\"\r\n\r\n"
        for _ in range(40):
            yield bytes(64 << 10)

    reply = requests.post(server.url + "/api/jobs", data=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"}, timeout=60)
    assert reply.status_code == 413
    reply = requests.post(f"{server.url}/api/jobs/000000000000/replay", data={"seconds": "1" * (100 << 10)}, timeout=10)
    assert reply.status_code == 413 and "larger than 64 KB" in reply.json()["error"]
    # slow clients: half-sent headers get 408, a stalled body is cut off, a silent connection closed (read timeout 2 s here)
    reply, seconds = raw_request(server.port, b"GET / HTTP/1.1\r\n" + host + b"X-Slow: 1", read_timeout=10)
    assert status_of(reply) == 408 and 1.5 < seconds < 6, (reply[:100], seconds)
    reply, seconds = raw_request(server.port, b"POST /api/jobs HTTP/1.1\r\n" + host + b"Content-Type: multipart/form-data; boundary=b\r\n"
                                 b"Content-Length: 5000\r\n\r\n--b\r\n", read_timeout=10)
    assert 1.5 < seconds < 6, seconds
    reply, seconds = raw_request(server.port, b"", read_timeout=10)
    assert reply == b"" and 1.5 < seconds < 6, seconds
    time.sleep(0.5)
    assert sorted(p.name for p in (server.data / "jobs").iterdir()) == before  # nothing half-made
    assert server.get("/api/jobs").status_code == 200  # still serving


def test_queue_and_event_stream_limits(tmp_path, video):
    server = Server(tmp_path / "data", "--workers", "0", "--max-queued-jobs", "2", "--max-event-streams", "2")
    try:
        ids = [server.upload(video).json()["id"] for _ in range(2)]
        third = server.upload(video)
        assert third.status_code == 429 and "2 jobs are already waiting" in third.json()["error"]
        assert sorted(p.name for p in (server.data / "jobs").iterdir()) == sorted(ids)  # the refused upload left nothing
        with sqlite3.connect(server.data / "jobs.sqlite") as db:
            db.execute("UPDATE jobs SET status = 'done' WHERE id = ?", (ids[0],))
        again = server.post(f"/api/jobs/{ids[0]}/train-more", data={"minutes": "1"})
        assert again.status_code == 200  # one waiting: room for it
        assert server.post(f"/api/jobs/{ids[0]}/train-more", data={"minutes": "1"}).status_code == 409  # waiting already
        streams = [requests.get(f"{server.url}/api/jobs/{ids[1]}/events", stream=True, timeout=10) for _ in range(2)]
        assert [s.status_code for s in streams] == [200, 200]
        refused = requests.get(f"{server.url}/api/jobs/{ids[1]}/events", timeout=10)
        assert refused.status_code == 429 and "at most 2 open progress streams" in refused.json()["error"]
        streams[0].close()
        deadline = time.time() + 10
        while (reply := requests.get(f"{server.url}/api/jobs/{ids[1]}/events", stream=True, timeout=10)).status_code == 429:
            assert time.time() < deadline, "a closed stream's slot never came back"
            time.sleep(0.5)
        reply.close()
        streams[1].close()
    finally:
        server.stop()
