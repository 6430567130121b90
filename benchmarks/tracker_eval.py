"""The general tracker's figures, as JSON: library clips, real videos, and the speed-up over per-clip training.

    python benchmarks/tracker_eval.py [--policy policies/tracker/policy.zip] [--sections library videos speedup]
        [--work runs/tracker_eval] [--fine-tune-minutes 5 15] [--speedup-clips 3] [--speedup-cap-minutes 40]

Sections (each prints its part of one JSON object):

* ``library``: every usable clip of the default library played from its first frame to its
  last by the tracker (PHC's success: no fall, mean body-position error never above 0.5 m),
  per clip and pooled for the training and the validation split (and the validation walks
  and runs).
* ``videos``: the real recordings in ../shared/data (the four pose2sim views, the Sports2D
  video) and the demo's generated sample video, each through ``vidmimic run`` (estimate,
  retarget, then the tracker fine-tuned on the clip on 2 MPI ranks): zero-shot and after each
  ``--fine-tune-minutes`` budget (0: zero-shot only).
* ``speedup``: for the first ``--speedup-clips`` validation clips, the wall-clock until the
  first policy whose 10-s replay from the clip's start does not fall, training per-clip PPO
  from scratch against fine-tuning the tracker, in turns of ``--check-minutes``, in the same run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from characters.places import SHARED_DATA as SHARED

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = {
    **{f"pose2sim_cam0{k}": SHARED / "multiview" / "pose2sim_single" / "videos" / f"cam0{k}.mp4" for k in range(1, 5)},
    "sports2d": SHARED / "video" / "sports2d_demo.mp4",
}


def library_section(policy: Path, work: Path) -> dict:
    from characters.character import humanoid
    from control.motion_library import (
        build_library,
        default_folders,
        load_clips,
        usable,
    )
    from control.tracker_evaluate import follow_clips, load_tracker, summarize
    from control.tracker_train import validation_kinds

    clips = build_library(default_folders(), work / "clips", humanoid())
    tracker = load_tracker(policy)
    peer = ReferencePD(tracker.config, tracker.model.action_size)
    out: dict = {"excluded": {c.name: c.excluded for c in clips if c.excluded}}
    for split in ("train", "validation"):
        chosen = usable(clips, split)
        motions = load_clips(chosen, work / "clips")
        results = follow_clips(tracker, motions, [c.name for c in chosen])
        out[split] = {"pooled": summarize(results), "clips": results}
        if split == "validation":
            out[split]["walks_and_runs"] = summarize([r for r, c in zip(results, chosen) if validation_kinds(c) == "walk_run"])
        # The peer in the same run: what the PD controller alone does with the reference's pose as its target.
        baseline = follow_clips(peer, motions, [c.name for c in chosen])
        out[split]["median_seconds_followed"] = {"tracker": _median_seconds(results), "reference_pd": _median_seconds(baseline)}
        out[split]["reference_pd"] = summarize(baseline)
    return out


class ReferencePD:
    """The zero policy of the tracker's residual action: the stable-PD controller aims at the
    reference's next pose and nothing balances the character (the peer the tracker must beat)."""

    def __init__(self, config, width: int):
        self.config = config
        self.width = width

    def check_fits(self, env) -> None:
        pass

    def act(self, obs: np.ndarray) -> np.ndarray:
        return np.zeros((len(obs), self.width), dtype=np.float32)


def _median_seconds(results: list[dict]) -> float:
    return round(float(np.median([r["seconds"] for r in results])), 3)


def _vidmimic(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "app.cli", *args], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def videos_section(policy: Path, work: Path, budgets: list[float]) -> dict:
    from app.sample_video import write_sample_video

    videos = dict(VIDEOS)
    sample = work / "sample_walk.webm"
    if not sample.exists():
        write_sample_video(sample)
    videos["demo_sample"] = sample
    out: dict = {}
    for name, video in videos.items():
        if not video.exists():
            out[name] = {"skipped": f"{video} is absent"}
            continue
        figures: dict = {}
        for minutes in budgets:
            job = work / "videos" / f"{name}_{minutes:g}min"
            began = time.monotonic()
            _vidmimic("run", str(video), "-o", str(job), "--init-policy", str(policy), "--train-minutes", str(minutes), "--workers", "2")
            controller = json.loads((job / "controller.json").read_text())
            figures.setdefault("zero_shot", _figures(controller["candidates"]["tracker"]))
            if minutes > 0:
                figures[f"fine_tuned_{minutes:g}min"] = {**_figures(controller["candidates"]["fine-tuned"]), "job_wall_clock_s": round(time.monotonic() - began, 1)}
        out[name] = figures
    for key in ["zero_shot"] + [f"fine_tuned_{m:g}min" for m in budgets if m > 0]:
        rows = [v[key] for v in out.values() if key in v]
        if rows:
            out.setdefault("pooled", {})[key] = {"videos": len(rows), "success_rate": round(sum(r["success"] for r in rows) / len(rows), 4)}
    return out


def _figures(result: dict) -> dict:
    return {k: result[k] for k in ("success", "falls", "mean_episode_seconds", "clip_seconds", "mean_body_pos_error_mm")}


def speedup_section(policy: Path, work: Path, clips: int, check_minutes: float, cap_minutes: float) -> dict:
    from characters.character import humanoid
    from control.fine_tune import fine_tune
    from control.motion_library import (
        build_library,
        cached_path,
        clip_motion,
        default_folders,
        usable,
    )
    from control.tracker_evaluate import evaluate_on_motion
    from retargeting.deepmimic_file import write_deepmimic

    library = usable(build_library(default_folders(), work / "clips", humanoid()), "validation")
    out: dict = {}
    for clip in library[:clips]:
        motion = clip_motion(cached_path(work / "clips", clip), humanoid())
        seconds = min(10.0, motion.duration)
        clip_file = work / "speedup" / f"{clip.name.replace('/', '_')}.txt"
        write_deepmimic(clip_file, motion)
        row: dict = {"replay_seconds": round(seconds, 2)}
        for mode in ("scratch", "tracker"):
            run = work / "speedup" / f"{clip_file.stem}_{mode}"
            spent, standing = 0.0, False
            while spent < cap_minutes and not standing:
                began = time.monotonic()
                if mode == "scratch":
                    args = ["train", str(clip_file), "-o", str(run), "--workers", "2", "--minutes", str(check_minutes)]
                    _vidmimic(*(args + (["--resume"] if (run / "checkpoint.zip").exists() else [])))
                    result = _replay_stands(run / "policy.zip", seconds)
                else:
                    fine_tune(clip_file, policy, run, check_minutes, workers=2)
                    result = evaluate_on_motion(run / "policy.zip", clip_file, from_start=True)
                    result = result["mean_episode_seconds"] >= seconds - 1e-6 or result["success"]
                spent += (time.monotonic() - began) / 60.0
                standing = bool(result)
            row[mode] = {"minutes": round(spent, 2), "stands": standing}
        if row["scratch"]["stands"] and row["tracker"]["stands"]:
            row["speedup"] = round(row["scratch"]["minutes"] / max(row["tracker"]["minutes"], 1e-9), 2)
        out[clip.name] = row
    return out


def _replay_stands(policy: Path, seconds: float) -> bool:
    from control.evaluate import replay

    _, _, info = replay(policy, seconds=seconds)
    return not info["fell"] and info["seconds"] >= seconds - 1e-6


def main() -> None:
    from control.shipped import TRACKER

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", type=Path, default=TRACKER)
    parser.add_argument("--sections", nargs="+", default=["library"], choices=["library", "videos", "speedup"])
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "tracker_eval")
    parser.add_argument("--fine-tune-minutes", type=float, nargs="+", default=[5.0, 15.0])
    parser.add_argument("--speedup-clips", type=int, default=3)
    parser.add_argument("--check-minutes", type=float, default=2.0)
    parser.add_argument("--speedup-cap-minutes", type=float, default=40.0)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    result: dict = {"policy": str(args.policy), "date": time.strftime("%Y-%m-%d")}
    if "library" in args.sections:
        result["library"] = library_section(args.policy, args.work)
    if "videos" in args.sections:
        result["videos"] = videos_section(args.policy, args.work, args.fine_tune_minutes)
    if "speedup" in args.sections:
        result["speedup"] = speedup_section(args.policy, args.work, args.speedup_clips, args.check_minutes, args.speedup_cap_minutes)
    result["wall_clock_s"] = round(time.monotonic() - began, 1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
