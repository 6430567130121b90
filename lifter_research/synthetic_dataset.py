"""Synthetic datasets on disk: shards of clips made by :func:`synthetic.synthetic_clip`.

A dataset folder holds ``shard_0000.npz`` ... (``clips_per_shard`` clips each, every array
stacked along a first clip axis) and ``dataset.json`` (seed, options, sources, held-out flag and, for
a subset of the held-out set, ``held_out_set``).
Clip ``i`` is drawn from ``numpy.random.default_rng([seed, i])``: any shard can be remade
alone, shards can be made by parallel processes, and an interrupted generation resumes at the
first missing shard.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np

from characters.errors import atomic_output
from lifter_research.mocap_library import ALL, MocapClip, load_library, motion_files
from lifter_research.synthetic import SyntheticOptions, clip_sources, synthetic_clip

Progress = Callable[[int, int], None]
OPTIONS_BEFORE_THEY_WERE_RECORDED = {"camera_distance": [2.5, 8.0], "camera_height": [0.3, 2.0]}
"""Camera ranges of datasets made before ``SyntheticOptions`` had them (a folder from then is not
finished with today's wider cameras)."""


def _make_shard(path: Path, clips: list[MocapClip], seed: int, first: int, count: int, options: SyntheticOptions) -> str:
    samples = [synthetic_clip(clips, np.random.default_rng([seed, first + i]), options) for i in range(count)]
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **{k: np.stack([s[k] for s in samples]) for k in samples[0]})
    return path.name


def generate_dataset(
    out_dir: str | Path, count: int, seed: int, options: SyntheticOptions = SyntheticOptions(), held_out: bool = False,
    mocap_folders: list[Path] | None = None, clips_per_shard: int = 50, workers: int = 1, progress: Progress | None = None,
    held_out_set: str = ALL,
) -> Path:
    """Make (or finish) a dataset of ``count`` clips in ``out_dir``; returns the folder. With
    ``held_out``, the clips come from the held-out subset ``held_out_set`` of ``heldout.json`` only."""
    files = motion_files(mocap_folders)
    clips = load_library(files, held_out, held_out_set)  # before the folder is made: a bad set name leaves nothing
    if not clips:
        raise ValueError("no mocap clips to draw from")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"count": count, "seed": seed, "options": asdict(options), "held_out": held_out, "clips_per_shard": clips_per_shard,
            "sources": [p.name for p in files]}
    if held_out and held_out_set != ALL:  # recorded only then: a folder made before the sets existed still matches
        meta["held_out_set"] = held_out_set
    meta_path = out / "dataset.json"
    if meta_path.exists():
        old = json.loads(meta_path.read_text())
        # Options added since the folder was made: their defaults then (camera ranges) or now.
        old["options"] = {**json.loads(json.dumps(asdict(SyntheticOptions()))), **OPTIONS_BEFORE_THEY_WERE_RECORDED, **old.get("options", {})}
        if {k: old.get(k) for k in meta} != json.loads(json.dumps(meta)):
            raise ValueError(f"{out} holds a different dataset ({meta_path}); choose another folder")
    else:
        meta_path.write_text(json.dumps(meta, indent=1))
    jobs = [(out / f"shard_{k:04d}.npz", first, min(clips_per_shard, count - first)) for k, first in enumerate(range(0, count, clips_per_shard))]
    todo = [job for job in jobs if not job[0].exists()]
    done = len(jobs) - len(todo)
    if progress:
        progress(done, len(jobs))
    if workers <= 1:
        for path, first, n in todo:
            _make_shard(path, clips, seed, first, n, options)
            done += 1
            if progress:
                progress(done, len(jobs))
    else:
        with ProcessPoolExecutor(workers) as pool:
            for _ in pool.map(_make_shard, *zip(*[(p, clips, seed, f, n, options) for p, f, n in todo])):
                done += 1
                if progress:
                    progress(done, len(jobs))
    return out


def load_dataset(folder: str | Path, max_clips: int | None = None) -> dict[str, np.ndarray]:
    """Every shard of ``folder`` concatenated: arrays with a first axis over clips."""
    shards = sorted(Path(folder).glob("shard_*.npz"))
    if not shards:
        raise FileNotFoundError(f"{folder}: no shard_*.npz (make it with `vidmimic estimator data`)")
    parts: dict[str, list[np.ndarray]] = {}
    total = 0
    for shard in shards:
        with np.load(shard) as data:
            for k in data.files:
                parts.setdefault(k, []).append(data[k])
            total += len(data["betas"])
        if max_clips is not None and total >= max_clips:
            break
    return {k: np.concatenate(v)[:max_clips] for k, v in parts.items()}


def dataset_sources(folder: str | Path, count: int) -> list[str] | None:
    """The mocap clip each of the first ``count`` clips of a dataset was made from
    (:func:`synthetic.clip_sources`), or None when its ``dataset.json`` is missing or names motion
    files that are not among the built-in sources here (a ``--mocap`` folder is not recorded)."""
    meta_path = Path(folder) / "dataset.json"
    if not meta_path.exists():
        return None
    meta = json.loads(meta_path.read_text())
    files = [p for p in motion_files() if p.name in set(meta["sources"])]
    if len(files) != len(meta["sources"]):
        return None
    speed = tuple(meta.get("options", {}).get("speed_range", SyntheticOptions().speed_range))
    clips = load_library(files, meta["held_out"], meta.get("held_out_set", ALL))
    return clip_sources(clips, meta["seed"], count, SyntheticOptions(speed_range=speed))
