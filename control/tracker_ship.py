"""Ship a tracker run into the repository, and continue training from what was shipped.

``policies/tracker/`` holds what inference needs and what a new machine needs to resume::

    policy.zip       the policy (weights, observation normalisation, settings; the optimiser's
                     state left out, so it is small)
    resume.zip       the full checkpoint (with the optimiser's state) to continue training
    config.json      the run's settings and library folders
    progress.csv     one row per PPO iteration, over every session
    validation.csv   the learning curve: validation success against samples and hours
    run.json         samples, hours, the latest validation figures and the commands
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

RUN_FILES = ("config.json", "progress.csv", "validation.csv", "library.json")


def inference_zip(checkpoint: Path, out: Path) -> None:
    """``checkpoint`` with the optimiser's state emptied (SB3 still loads it; Adam restarts its moments).

    A checkpoint written by an older vidmimic (pickled normalisation) is converted to today's
    format: it is the run's own file, so unpickling it here is as safe as resuming it.
    """
    from control.policy_file import rewrite

    rewrite(checkpoint, out, allow_legacy=True, empty_optimizer=True)


def ship(run_dir: str | Path, dest: str | Path, command: str) -> dict:
    """Copy a tracker run's policy, resume checkpoint and logs into ``dest``; returns run.json's contents."""
    from control.policy_file import rewrite
    from control.tracker_train import _run_hours

    run_dir, dest = Path(run_dir), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    checkpoint = run_dir / "checkpoint.zip"
    inference_zip(checkpoint, dest / "policy.zip")
    rewrite(checkpoint, dest / "resume.zip", allow_legacy=True)  # today's format, whatever version wrote the run
    for name in RUN_FILES:
        if (run_dir / name).exists():
            shutil.copyfile(run_dir / name, dest / name)
    _portable_library(dest / "config.json")
    with (run_dir / "progress.csv").open(newline="") as f:
        samples = int(list(csv.DictReader(f))[-1]["steps"])
    validation = None
    if (run_dir / "validation.csv").exists():
        with (run_dir / "validation.csv").open(newline="") as f:
            rows = list(csv.DictReader(f))
        validation = rows[-1] if rows else None
    info = {
        "command": command,
        "resume": "vidmimic tracker train -o runs/tracker --resume-from policies/tracker --workers 2 --minutes 170",
        "samples": samples,
        "training_hours": round(_run_hours(run_dir), 3),
        "latest_validation": validation,
    }
    (dest / "run.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


def unship(src: str | Path, run_dir: str | Path) -> None:
    """Lay out ``run_dir`` from a shipped tracker folder so ``--resume`` continues it."""
    from characters.errors import input_error

    src, run_dir = Path(src), Path(run_dir)
    if not (src / "resume.zip").is_file():
        raise input_error(src, "no resume.zip: not a shipped tracker folder")
    if (run_dir / "checkpoint.zip").exists():
        raise input_error(run_dir, "holds a run already: resume it with --resume alone")
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / "resume.zip", run_dir / "checkpoint.zip")
    for name in RUN_FILES:
        if (src / name).exists():
            shutil.copyfile(src / name, run_dir / name)


def _portable_library(config_file: Path) -> None:
    """Write the default library as ``<default>`` rather than this machine's paths."""
    from control.motion_library import default_folders
    from control.tracker_train import DEFAULT_LIBRARY

    config = json.loads(config_file.read_text())
    if [str(Path(f).resolve()) for f in config["library"]] == [str(f.resolve()) for f in default_folders()]:
        config["library"] = [DEFAULT_LIBRARY]
        config_file.write_text(json.dumps(config, indent=1))
