"""Per-clip training over MPI ranks, started from Python without the app.

:func:`train_on_ranks` is what ``vidmimic train`` and ``vidmimic run`` call. With more than one
worker it writes the job (motion, run folder, settings) to ``RUN_DIR/launch.json`` and starts
``python -m control.launch RUN_DIR/launch.json`` on every rank under the venv's ``mpiexec``;
each rank reads the file and calls :func:`control.train.train`. With one worker, or when already
running under ``mpiexec``, it calls :func:`control.train.train` directly.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from characters.errors import InputError
from control import mpi
from control.imitation_env import EnvConfig
from control.train import TrainConfig, config_from_json, train

LAUNCH_FILE = "launch.json"


class TrainingFailed(RuntimeError):
    """A rank exited with an error (it printed why); ``exit_code`` is mpiexec's."""

    def __init__(self, exit_code: int):
        super().__init__(f"training failed (exit code {exit_code}); see the messages above")
        self.exit_code = exit_code


def train_on_ranks(
    motion: str | Path, run_dir: str | Path, config: TrainConfig = TrainConfig(), env_config: EnvConfig = EnvConfig(), workers: int = 1,
    resume: bool = False, init: str | Path | None = None, train_overrides: dict | None = None, env_overrides: dict | None = None,
) -> Path:
    """Train on ``motion`` into ``run_dir`` over ``workers`` MPI ranks (see :func:`control.train.train`
    for the other arguments); returns ``run_dir/policy.zip``. Raises :class:`TrainingFailed` if a rank failed."""
    run_dir = Path(run_dir)
    if workers <= 1 or mpi.size() > 1 or os.environ.get("VIDMIMIC_MPI_CHILD"):
        train(motion, run_dir, config, env_config, resume=resume, init=init, train_overrides=train_overrides, env_overrides=env_overrides)
        return run_dir / "policy.zip"
    job = {
        "motion": str(motion), "run_dir": str(run_dir), "train": asdict(config), "env": asdict(env_config),
        "resume": resume, "init": None if init is None else str(init),
        "train_overrides": train_overrides or {}, "env_overrides": env_overrides or {},
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    spec = run_dir / LAUNCH_FILE
    part = spec.with_suffix(".json.part")
    part.write_text(json.dumps(job, indent=1))
    part.replace(spec)
    code = mpi.relaunch_under_mpiexec(workers, [str(spec)], module="control.launch")
    if code != 0:
        raise TrainingFailed(code)
    return run_dir / "policy.zip"


def main(argv: list[str] | None = None) -> int:
    """Every rank: run the job in the launch file named by the first argument."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m control.launch RUN_DIR/launch.json (written by control.launch.train_on_ranks)", file=sys.stderr)
        return 2
    job = json.loads(Path(argv[0]).read_text())
    config, env_config = config_from_json(job)
    try:
        train(job["motion"], job["run_dir"], config, env_config, resume=job["resume"], init=job["init"],
              train_overrides=job["train_overrides"] or None, env_overrides=job["env_overrides"] or None)
    except InputError as exc:
        print(f"vidmimic: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
