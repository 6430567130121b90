"""``vidmimic tracker train``: PPO for the general motion tracker over a motion library.

Run folder layout (beside what :func:`control.train.learn` writes: checkpoint.zip,
policy.zip, snapshots/, progress.csv, tb/)::

    RUN_DIR/config.json       kind "tracker", library folders, TrainConfig and TrackerConfig
    RUN_DIR/library.json      the manifest: every clip, its split, and why it is excluded if it is
    RUN_DIR/clips/            the clips retargeted onto the character (DeepMimic files, by SHA-256)
    RUN_DIR/validation.csv    the learning curve: validation success against samples and hours

A resumed run re-reads its folders, so clips added since join the training; cached clips are
not converted again. Only rank 0 converts and writes; the other ranks read the cache.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, replace
from pathlib import Path

from control import mpi
from control.train import Progress, append_csv_row, learn
from control.train_config import TRACKER_TRAIN_DEFAULTS, TrainConfig

DEFAULT_LIBRARY = "<default>"
"""Stands for :func:`control.motion_library.default_folders` in a run's config (paths differ between machines)."""


def resolve_folders(folders: list[str]) -> list[Path]:
    """The library folders of a run's config, with ``<default>`` expanded."""
    from control.motion_library import default_folders

    out: list[Path] = []
    for folder in folders:
        out += default_folders() if folder == DEFAULT_LIBRARY else [Path(folder)]
    return out


def validation_kinds(clip) -> str:
    """``walk_run`` for walks and runs (the acceptance's own group), else ``other``."""
    c = (clip.category or "").lower()
    return "walk_run" if c.startswith(("walk", "run")) else "other"


def train_tracker(
    folders: list[str], run_dir: str | Path, config: TrainConfig = TRACKER_TRAIN_DEFAULTS, tracker_config=None,
    resume: bool = False, init: str | Path | None = None, validate_minutes: float = 15.0, progress: Progress | None = None,
    every_clip: bool = False, assist: bool = False,
) -> Path | None:
    """Train (every MPI rank calls this); returns the policy path on rank 0.

    With ``init`` (a tracker's policy zip) the run starts from its weights, normalisation and
    settings; ``config`` then only gives the budget and the seed. ``every_clip`` trains on
    every clip as given, without the validation split and the exclusion rule (a fine-tune on
    a user's own clip). ``assist`` adds the residual root force (six more actions, started at 0).
    """
    from characters.character import humanoid
    from characters.errors import input_error
    from control.clip_table import ClipTable
    from control.motion_library import (
        build_library,
        load_clips,
        read_manifest,
        usable,
        write_manifest,
    )
    from control.tracker_env import (
        ClipSampler,
        TrackerConfig,
        TrackerEnv,
        tracker_config_from_json,
    )

    run_dir = Path(run_dir)
    config_file = run_dir / "config.json"
    manifest_file = run_dir / "library.json"
    cache = run_dir / "clips"
    if mpi.is_root():
        if resume:
            if not (run_dir / "checkpoint.zip").exists():
                raise input_error(run_dir, "nothing to resume: no checkpoint.zip")
            stored = json.loads(config_file.read_text())
            stored_train, tracker_config = tracker_config_from_json(stored)
            config = replace(stored_train, timesteps=config.timesteps, minutes=config.minutes)
            folders = folders or stored["library"]
            run_config = {**stored, "library": folders}
        else:
            if (run_dir / "checkpoint.zip").exists():
                raise input_error(run_dir, "holds a run already: pass --resume to continue it, or choose another folder")
            tracker_config = tracker_config or TrackerConfig(assist=assist)
            run_config = {"kind": "tracker", "library": [str(f) for f in folders] or [DEFAULT_LIBRARY], "every_clip": every_clip}
            if init is not None:
                from control.policy_file import parse_config, read_config

                init_train, tracker_config = parse_config(init, read_config(init), tracker_config_from_json)
                tracker_config = replace(tracker_config, assist=tracker_config.assist or assist)
                config = replace(init_train, timesteps=config.timesteps, minutes=config.minutes, seed=config.seed)
                run_config["init"] = str(init)
        run_dir.mkdir(parents=True, exist_ok=True)
        every_clip = bool(run_config.get("every_clip", every_clip))
        clips = build_library(resolve_folders(run_config["library"]), cache, humanoid(), **({"validation_subjects": set(), "rule": None} if every_clip else {}))
        write_manifest(manifest_file, clips)
        run_config.update({"train": asdict(config), "tracker": asdict(tracker_config), "train_clips": [c.name for c in usable(clips, "train")]})
        config_file.write_text(json.dumps(run_config, indent=1))
        if not usable(clips, "train"):
            raise input_error(None, "the library has no usable training clip")
        print(f"library: {len(usable(clips, 'train'))} training clips, {len(usable(clips, 'validation'))} validation clips, "
              f"{sum(bool(c.excluded) for c in clips)} excluded (see {manifest_file})", flush=True)
    else:
        run_config = {}
    if mpi.size() > 1:
        config, tracker_config = mpi.comm().bcast((config, tracker_config), root=0)
        mpi.comm().barrier()
    clips = read_manifest(manifest_file)
    train_clips = usable(clips, "train")
    table = ClipTable(load_clips(train_clips, cache), rate_hz=tracker_config.env.control_hz)
    sampler = ClipSampler(table.num_clips, tracker_config.sampling_floor, tracker_config.failure_memory)

    def make_env(index: int) -> TrackerEnv:
        env = TrackerEnv(table, tracker_config, sampler)
        env.reset(seed=config.seed * 1000 + index)
        return env

    periodic = None
    if mpi.is_root():
        validation = usable(clips, "validation")
        if validation:
            periodic = _validator(run_dir, validation, load_clips(validation, cache), tracker_config)
    return learn(
        run_dir, make_env, config, resume=resume, init=init, motion_text=None, run_config=run_config, progress=progress,
        periodic=periodic, periodic_minutes=validate_minutes,
    )


def _validator(run_dir: Path, clips, motions, tracker_config):
    """A callback that plays every validation clip and appends the figures to validation.csv."""
    from control.clip_table import ClipTable
    from control.tracker_evaluate import TrackerPolicy, follow_clips, summarize

    table = ClipTable(motions, rate_hz=tracker_config.env.control_hz)
    names = [c.name for c in clips]
    kinds = [validation_kinds(c) for c in clips]
    path = run_dir / "validation.csv"

    def validate(model, normalization) -> None:
        began = time.monotonic()
        results = follow_clips(TrackerPolicy(model, normalization, tracker_config), table, names)
        overall = summarize(results)
        walk_run = summarize([r for r, k in zip(results, kinds) if k == "walk_run"])
        hours = _run_hours(run_dir)
        row = {
            "steps": model.num_timesteps, "hours": round(hours, 3), "success_rate": overall["success_rate"],
            "walk_run_success_rate": walk_run["success_rate"], "mean_body_pos_error_mm": overall["mean_body_pos_error_mm"],
            "clips": overall["clips"], "eval_s": round(time.monotonic() - began, 1),
        }
        append_csv_row(path, row)
        model.logger.record("validation/success_rate", overall["success_rate"])
        model.logger.record("validation/walk_run_success_rate", walk_run["success_rate"])
        model.logger.record("validation/mean_body_pos_error_mm", overall["mean_body_pos_error_mm"])
        (run_dir / "validation_latest.json").write_text(json.dumps({"row": row, "clips": results}, indent=1))
        print(f"validation: {overall['succeeded']}/{overall['clips']} clips succeed ({100 * overall['success_rate']:.0f}%), "
              f"walks and runs {100 * walk_run['success_rate']:.0f}%, mean body error {overall['mean_body_pos_error_mm']:.0f} mm", flush=True)

    return validate


def _run_hours(run_dir: Path) -> float:
    """Training wall-clock so far (h), summed over sessions from progress.csv's per-session clocks."""
    path = run_dir / "progress.csv"
    if not path.exists():
        return 0.0
    total, last = 0.0, 0.0
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            wall = float(row["wall_s"])
            if wall < last:  # a new session started its clock at 0
                total += last
            last = wall
    return (total + last) / 3600.0
