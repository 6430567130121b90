"""Who may talk to the server, checked before a request's body is read.

:class:`Guard` is a pure ASGI middleware in front of every route. In order, a request:

1. must name an allowed ``Host`` (the address the server listens on, loopback names, or the
   configured allow-list), else 400 -- a page on another site cannot reach a local server
   through DNS rebinding;
2. if it changes anything (``POST``, ``DELETE``, ...), must not come from another origin
   (``Origin``, ``Referer`` or ``Sec-Fetch-Site``), else 403 -- a cross-site form cannot queue jobs;
3. when the server has a token, must carry it: an ``Authorization: Bearer`` header (compared in
   constant time) or a session cookie (``HttpOnly``, ``SameSite=Strict``). A token in a page
   link's query string is accepted once and exchanged for that cookie, with a redirect to the
   same address without it; else 401;
4. must declare a body no larger than the route accepts (``Content-Length``), else 413.

Every response then carries a ``Content-Security-Policy`` (no inline script, nothing from
other origins), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and
framing and cross-origin isolation headers, unless the route set its own policy.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from app.server.settings import Settings, is_loopback
from app.server.uploads import FORM_ALLOWANCE

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_SECONDS = 7 * 24 * 3600  # s; a browser session opened by the token lasts a week, or until ended (DELETE /api/session)
SMALL_BODY = 64 << 10  # bytes: the largest body of any other request (the small forms)
UPLOAD_ROUTE = ("POST", "/api/jobs")


def page_policy(script_hashes: tuple[str, ...] = ()) -> str:
    """The pages' Content-Security-Policy: scripts only from the app's own files (and inline blocks
    whose SHA-256 is listed: the static import map), nothing from other origins, no framing."""
    scripts = " ".join(["'self'", *(f"'sha256-{h}'" for h in script_hashes)])
    return ("default-src 'self'; script-src " + scripts + "; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
            "connect-src 'self' blob:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def inline_script_hash(text: str) -> str:
    """The CSP hash (base64 SHA-256) of an inline ``<script>``'s text."""
    import base64

    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


class Sessions:
    """Browser sessions opened with the token. Only hashes of their ids are kept, in memory: a
    restart ends them all, ``end`` one."""

    def __init__(self, port: int):
        self.cookie = f"vidmimic_session_{port}"  # cookies are not told apart by port: one name per server
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(session_id: str) -> str:
        return hashlib.sha256(session_id.encode()).hexdigest()

    def open(self) -> str:
        session_id = secrets.token_urlsafe(32)
        now = time.time()
        with self._lock:
            self._expiry = {k: t for k, t in self._expiry.items() if t > now}
            self._expiry[self._key(session_id)] = now + SESSION_SECONDS
        return session_id

    def valid(self, session_id: str | None) -> bool:
        if not session_id:
            return False
        with self._lock:
            return self._expiry.get(self._key(session_id), 0.0) > time.time()

    def end(self, session_id: str | None) -> None:
        if session_id:
            with self._lock:
                self._expiry.pop(self._key(session_id), None)

    def set_cookie(self, session_id: str) -> str:
        return f"{self.cookie}={session_id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}"

    def clear_cookie(self) -> str:
        return f"{self.cookie}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"

    def from_headers(self, headers: dict[str, str]) -> str | None:
        from http.cookies import SimpleCookie

        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(headers.get("cookie", ""))
        except Exception:  # noqa: BLE001 - a malformed Cookie header is no session
            return None
        morsel = jar.get(self.cookie)
        return morsel.value if morsel else None


def hostname(host_header: str) -> str | None:
    """The name in a ``Host`` header (``name``, ``name:port``, ``[v6]:port``), lower-case; None if malformed."""
    host = host_header.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        rest = host[end + 1:] if end > 0 else "?"
        if end < 0 or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
        return host[1:end]
    name, colon, port = host.partition(":")
    if colon and not port.isdigit():
        return None
    name = name.rstrip(".")
    return name or None


class HostPolicy:
    """Which ``Host`` names the server answers: the address it listens on and loopback names, every
    IP literal and this machine's names when it listens on all addresses, and ``allowed_hosts``."""

    def __init__(self, settings: Settings):
        extra = {h.lower().rstrip(".") for h in settings.allowed_hosts}
        self.anything = "*" in extra
        bound = settings.host.strip("[]").lower()
        self.any_ip = bound in ("0.0.0.0", "::", "")
        names = set(extra)
        if self.any_ip or is_loopback(bound):
            names |= {"localhost", "127.0.0.1", "::1"}
        if self.any_ip:
            names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        else:
            names.add(bound)
        self.names = frozenset(names)

    def allows(self, host_header: str | None) -> bool:
        if self.anything:
            return True
        name = hostname(host_header or "")
        if name is None:
            return False
        if name in self.names:
            return True
        if self.any_ip:
            try:
                ipaddress.ip_address(name)
                return True
            except ValueError:
                return False
        return False


def same_origin(headers: dict[str, str]) -> bool:
    """Whether a state-changing request comes from the app's own pages (or from no browser at all:
    browsers send ``Origin`` with every POST and DELETE)."""
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    source = headers.get("origin") or headers.get("referer")
    if source is None:
        return True
    if source.strip().lower() == "null":
        return False
    return urlsplit(source.strip()).netloc.lower() == headers.get("host", "").strip().lower()


class Guard:
    """The ASGI middleware described in the module docstring."""

    def __init__(self, app: Callable, settings: Settings, sessions: Sessions, policy: str):
        self.app = app
        self.settings = settings
        self.sessions = sessions
        self.policy = policy
        self.hosts = HostPolicy(settings)
        self.token = settings.token.encode() if settings.token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await self.app(scope, receive, send)
        if scope["type"] != "http":  # the app has no websockets
            return await send({"type": "websocket.close", "code": 1008})
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method, path = scope["method"], scope["path"]
        if not self.hosts.allows(headers.get("host")):
            return await self._answer(send, 400, f"this server does not answer for host {headers.get('host', '')!r}; "
                                                 "use the address it listens on (or add the name with --allowed-host)")
        if method not in SAFE_METHODS and not same_origin(headers):
            return await self._answer(send, 403, "cross-origin requests may not change anything here")
        if self.token is not None and await self._authenticate(scope, headers, send):
            return
        limit = self.settings.max_upload_bytes + FORM_ALLOWANCE if (method, path.rstrip("/")) == UPLOAD_ROUTE else SMALL_BODY
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                return await self._answer(send, 400, "malformed Content-Length")
            if int(declared) > limit:
                return await self._answer(send, 413, self._too_large(limit))
        elif "chunked" in headers.get("transfer-encoding", "").lower() and limit == SMALL_BODY:
            return await self._answer(send, 411, "this request needs a Content-Length")

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._secured(list(message.get("headers", [])), path)
            await send(message)

        await self.app(scope, receive, send_secured)

    def _too_large(self, limit: int) -> str:
        if limit == SMALL_BODY:
            return f"request body larger than {SMALL_BODY >> 10} KB"
        return f"upload larger than {self.settings.max_upload_mb:g} MB"

    async def _authenticate(self, scope: Scope, headers: dict[str, str], send: Send) -> bool:
        """True if the answer (401, or the token-for-cookie redirect) was sent; False if the request may go on."""
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        url_tokens = [v for k, v in query if k == "token"]
        if url_tokens:
            if scope["method"] not in ("GET", "HEAD") or not self._matches(url_tokens[0]):
                await self._answer(send, 401, "a valid token is required (in a page link's ?token=, once, or an Authorization: Bearer header)")
                return True
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            path = scope.get("raw_path") or scope["path"].encode("utf-8")  # as sent (still percent-encoded)
            path = b"/" + path.lstrip(b"/\\")  # always this server: "//host" would send the browser elsewhere
            location = path.decode("latin-1") + ("?" + rest if rest else "")
            await self._answer(send, 303, "token accepted; continue without it in the address", [
                (b"location", location.encode("latin-1")), (b"set-cookie", self.sessions.set_cookie(self.sessions.open()).encode())])
            return True
        authorization = headers.get("authorization", "")
        if authorization:
            scheme, _, given = authorization.partition(" ")
            if scheme.lower() == "bearer" and self._matches(given.strip()):
                return False
        elif self.sessions.valid(self.sessions.from_headers(headers)):
            return False
        await self._answer(send, 401, "a valid token is required: open the server's address with ?token=TOKEN once, "
                                      "or send an Authorization: Bearer TOKEN header")
        return True

    def _matches(self, given: str) -> bool:
        assert self.token is not None
        return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self.token)

    def _secured(self, headers: list[tuple[bytes, bytes]], path: str) -> list[tuple[bytes, bytes]]:
        present = {k.lower() for k, _ in headers}
        extra = [
            (b"content-security-policy", self.policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]
        if path.startswith("/api/"):
            extra.append((b"cache-control", b"no-store"))
        return headers + [(k, v) for k, v in extra if k not in present]

    async def _answer(self, send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
        body = json.dumps({"error": message}).encode()
        base = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": self._secured(base + list(headers), "/api/")})
        await send({"type": "http.response.body", "body": body})
