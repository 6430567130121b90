"""The controller for one clip: the general tracker as it is, or fine-tuned on the clip.

:func:`fine_tune` continues the tracker's training on the clip alone (reference state
initialisation over the clip, the tracker's own settings), over MPI ranks when asked;
:func:`choose_controller` plays the clip from its first frame with each candidate and keeps
the one that follows it best: success first (no fall, mean body-position error never above
0.5 m), then the longer time followed, then the smaller error.

``python -m control.fine_tune MOTION RUN_DIR --init TRACKER --minutes M`` is what the MPI
ranks run; the app calls the functions.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

from control import mpi


def fine_tune(
    motion: str | Path, tracker: str | Path, run_dir: str | Path, minutes: float, workers: int = 1, seed: int = 0,
    timesteps: int = 200_000_000, assist: bool = False,
) -> Path:
    """Fine-tune ``tracker`` on ``motion`` for ``minutes`` into ``run_dir``; returns its policy.zip.

    A run folder that already holds a fine-tune of the same clip is resumed. ``assist`` adds
    the residual root force (see :class:`control.tracker_env.TrackerConfig`).
    """
    run_dir = Path(run_dir)
    resume = (run_dir / "checkpoint.zip").exists()
    argv = [str(motion), str(run_dir), "--init", str(tracker), "--minutes", str(minutes), "--seed", str(seed), "--timesteps", str(timesteps)]
    if resume:
        argv.append("--resume")
    if assist:
        argv.append("--assist")
    if workers > 1 and mpi.size() == 1 and not os.environ.get("VIDMIMIC_MPI_CHILD"):
        if mpi.relaunch_under_mpiexec(workers, argv, module="control.fine_tune") != 0:
            raise RuntimeError("fine-tuning failed; see the messages above")
    else:
        main(argv)
    return run_dir / "policy.zip"


def choose_controller(motion: str | Path, candidates: dict[str, str | Path]) -> tuple[str, dict[str, dict]]:
    """The name of the candidate policy that follows ``motion`` best from its first frame, and
    each candidate's figures (:func:`control.tracker_evaluate.evaluate_on_motion`)."""
    from control.tracker_evaluate import evaluate_on_motion

    figures = {name: evaluate_on_motion(path, motion, from_start=True) for name, path in candidates.items()}
    best = max(figures, key=lambda n: (figures[n]["success"], figures[n]["mean_episode_seconds"], -figures[n]["mean_body_pos_error_mm"]))
    return best, figures


def main(argv: list[str] | None = None) -> int:
    from control.tracker_train import TRACKER_TRAIN_DEFAULTS, train_tracker

    parser = argparse.ArgumentParser(prog="python -m control.fine_tune", description="fine-tune a tracker on one clip")
    parser.add_argument("motion")
    parser.add_argument("run_dir")
    parser.add_argument("--init", required=True)
    parser.add_argument("--minutes", type=float, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timesteps", type=int, default=200_000_000)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--assist", action="store_true")
    args = parser.parse_args(argv)
    config = replace(TRACKER_TRAIN_DEFAULTS, minutes=args.minutes, seed=args.seed, timesteps=args.timesteps)
    train_tracker([args.motion], args.run_dir, config, resume=args.resume, init=None if args.resume else args.init,
                  validate_minutes=1e9, every_clip=True, assist=args.assist)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
