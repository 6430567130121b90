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
    """Required from clients (Authorization: Bearer ..., or ?token=...) when set; mandatory off loopback."""
    workers: int = 1
    """Jobs run at the same time, each in its own process."""
    max_upload_mb: float = 200.0
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

    def check(self) -> None:
        """Refuse to listen beyond loopback without a token."""
        try:
            loopback = ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            loopback = self.host == "localhost"
        if not loopback and not self.token:
            raise ValueError(f"binding to {self.host} needs --token (or VIDMIMIC_TOKEN): the server would be open to the network")

    @staticmethod
    def from_env(**overrides) -> "Settings":
        env = {
            "data_dir": os.environ.get("VIDMIMIC_DATA_DIR"),
            "database": os.environ.get("VIDMIMIC_DATABASE"),
            "token": os.environ.get("VIDMIMIC_TOKEN"),
            "train_timesteps": os.environ.get("VIDMIMIC_TRAIN_TIMESTEPS"),
            "init_policy": os.environ.get("VIDMIMIC_INIT_POLICY"),
            "estimator": os.environ.get("VIDMIMIC_ESTIMATOR"),
        }
        kinds = {"data_dir": Path, "database": Path, "train_timesteps": int}
        values = {k: kinds.get(k, str)(v) for k, v in env.items() if v}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return Settings(**values)
