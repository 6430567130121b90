"""Server settings, from the command line or ``VIDMIMIC_*`` environment variables."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from pose_estimation import DEFAULT_ESTIMATOR


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("vidmimic_data")
    """Jobs live in DATA_DIR/jobs/<id>/ (upload, then every stage's files); the job table in DATA_DIR/jobs.sqlite."""
    database: Path | None = None
    """SQLite file (default DATA_DIR/jobs.sqlite)."""
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    """Required from clients when set (Authorization: Bearer ..., or once in a page link's ?token=...,
    exchanged for a session cookie); mandatory off loopback."""
    token_file: Path | None = None
    """Read the token from this file (first line), so that it never appears in ``ps``."""
    allowed_hosts: tuple[str, ...] = ()
    """Host names clients may use besides the address the server listens on (``*``: any, e.g. behind a proxy
    that checks them itself)."""
    workers: int = 1
    """Jobs run at the same time, each in its own process (0: jobs are accepted and wait)."""
    max_upload_mb: float = 200.0
    max_queued_jobs: int = 20
    """Uploads (and train-more / replay requests) beyond this many waiting jobs get 429."""
    max_event_streams: int = 10
    """Open job-progress streams per client address; more get 429."""
    max_header_kb: int = 16
    """Request line and headers larger than this get 431."""
    read_timeout_s: float = 30.0  # s
    """A connection that sends nothing for this long while its request (headers or body) is incomplete is closed."""
    train_minutes: float = 10.0
    train_timesteps: int = 10_000_000
    init_policy: str | None = None
    """Warm-start every job's training from this policy.zip (e.g. policies/sample_walk/policy.zip for walks)."""
    estimator: str = DEFAULT_ESTIMATOR
    """The 3D estimator of jobs whose upload names none (``vidmimic estimate --estimator``).
    policies/sample_walk was trained on the cycle ``mediapipe_ik`` gives on the demo's video, as
    ``vidmimic demo`` runs it."""

    @property
    def db_path(self) -> Path:
        return self.database or self.data_dir / "jobs.sqlite"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * (1 << 20))

    def check(self) -> None:
        """Refuse to listen beyond loopback without a token, and limits that make no sense."""
        if not self.token and not is_loopback(self.host):
            raise ValueError(f"binding to {self.host} needs a token (VIDMIMIC_TOKEN, --token-file or --token): the server would be open to the network")
        if self.workers < 0 or self.max_queued_jobs < 1 or self.max_event_streams < 1 or self.max_upload_mb <= 0:
            raise ValueError("--workers must be >= 0; --max-queued-jobs, --max-event-streams and --max-upload-mb positive")

    @staticmethod
    def from_env(**overrides) -> Settings:
        """Settings from ``VIDMIMIC_*`` variables, then ``overrides`` (the command line) where not None.

        The token comes from ``--token``, else ``--token-file`` / ``VIDMIMIC_TOKEN_FILE``, else ``VIDMIMIC_TOKEN``.
        """
        env = {
            "data_dir": os.environ.get("VIDMIMIC_DATA_DIR"),
            "database": os.environ.get("VIDMIMIC_DATABASE"),
            "token": os.environ.get("VIDMIMIC_TOKEN"),
            "token_file": os.environ.get("VIDMIMIC_TOKEN_FILE"),
            "allowed_hosts": os.environ.get("VIDMIMIC_ALLOWED_HOSTS"),
            "train_timesteps": os.environ.get("VIDMIMIC_TRAIN_TIMESTEPS"),
            "init_policy": os.environ.get("VIDMIMIC_INIT_POLICY"),
            "estimator": os.environ.get("VIDMIMIC_ESTIMATOR"),
            "max_queued_jobs": os.environ.get("VIDMIMIC_MAX_QUEUED_JOBS"),
            "max_event_streams": os.environ.get("VIDMIMIC_MAX_EVENT_STREAMS"),
            "max_header_kb": os.environ.get("VIDMIMIC_MAX_HEADER_KB"),
            "read_timeout_s": os.environ.get("VIDMIMIC_READ_TIMEOUT_S"),
        }
        kinds = {"data_dir": Path, "database": Path, "token_file": Path, "train_timesteps": int, "max_queued_jobs": int, "max_event_streams": int,
                 "max_header_kb": int, "read_timeout_s": float, "allowed_hosts": lambda v: tuple(h.strip() for h in v.split(",") if h.strip())}
        values = {k: kinds.get(k, str)(v) for k, v in env.items() if v}
        values.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(values.get("allowed_hosts"), list):
            values["allowed_hosts"] = tuple(values["allowed_hosts"])
        if overrides.get("token") is None and values.get("token_file") is not None:
            values["token"] = read_token_file(Path(values["token_file"]))
        return Settings(**values)


def read_token_file(path: Path) -> str:
    """The token on the first line of ``path``."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the token file ({exc.strerror})") from None
    token = lines[0].strip() if lines else ""
    if not token:
        raise ValueError(f"{path}: the token file is empty")
    return token


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"
