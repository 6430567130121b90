"""``vidmimic tracker train``: the general motion tracker over a motion library."""

from __future__ import annotations

import argparse
import os

from app.arguments import config_option
from control.train_config import TRACKER_TRAIN_DEFAULTS

TRAINING_LOADS = (" Training loads the zip with stable-baselines3, which runs code from it (its pickles, like any pickle): "
                  "start only from your own or ones you trust.")


def _train(args: argparse.Namespace) -> int:
    from characters.errors import input_error
    from control import mpi

    if args.workers < 1:
        raise input_error(None, "--workers must be 1 or more")
    if args.workers > 1 and mpi.size() == 1 and not os.environ.get("VIDMIMIC_MPI_CHILD"):
        from app.arguments import command_line

        return mpi.relaunch_under_mpiexec(args.workers, command_line(), module="app.cli")
    from dataclasses import replace

    from control.tracker_train import train_tracker

    if args.resume_from:
        from control.tracker_ship import unship

        unship(args.resume_from, args.output)
        args.resume = True
    folders = args.library or []
    config = replace(TRACKER_TRAIN_DEFAULTS, minutes=args.minutes, seed=args.seed, timesteps=args.timesteps, envs=args.envs, n_steps=args.n_steps)
    train_tracker(folders, args.output, config, resume=args.resume, init=args.init, validate_minutes=args.validate_minutes)
    return 0


def _ship(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from characters.errors import input_error
    from control.tracker_ship import ship

    if not (Path(args.run_dir) / "checkpoint.zip").is_file():
        raise input_error(args.run_dir, "no checkpoint.zip: not a tracker run folder")
    print(json.dumps(ship(args.run_dir, args.output, args.command), indent=1))
    return 0


def add_parser(sub) -> None:
    """Register ``tracker`` and its subcommands on the main parser's subparsers."""
    top = sub.add_parser("tracker", help="the general motion tracker: one policy that follows any motion")
    commands = top.add_subparsers(dest="tracker_command", required=True)
    p = commands.add_parser(
        "train", help="train the tracker over a motion library (PPO, MPI workers, resumable)",
        description=(
            "Train one policy that follows any clip of the library: every motion file under the --library folders "
            "(.txt, .npz, .bvh in any convention `vidmimic convert` reads) is retargeted onto the character, split by "
            "CMU subject into training and validation (control/tracker_split.json), and clips the character cannot "
            "perform on flat ground are excluded (RUN_DIR/library.json says why). Every --validate-minutes the "
            "validation clips are played from start to end and their success rate goes to RUN_DIR/validation.csv."
        ),
    )
    p.add_argument("-o", "--output", required=True, metavar="RUN_DIR")
    p.add_argument("--library", nargs="+", metavar="DIR",
                   help="folders (or files) of motions (default: the pybullet DeepMimic clips and ../shared/data/mocap/{deepmimic,cmu,cmu_library}; "
                        "with --resume: the run's own)")
    p.add_argument("--workers", type=int, default=1, help="MPI ranks to launch (default 1: no MPI)")
    config_option(p, "--minutes", TRACKER_TRAIN_DEFAULTS, "minutes", note="this session's")
    config_option(p, "--timesteps", TRACKER_TRAIN_DEFAULTS, "timesteps", note="over all sessions")
    p.add_argument("--resume", action="store_true", help="continue RUN_DIR's checkpoint (re-reading its library folders)")
    p.add_argument("--resume-from", metavar="DIR", help="continue a shipped tracker (e.g. policies/tracker) in the new RUN_DIR." + TRAINING_LOADS)
    p.add_argument("--init", metavar="POLICY", help="start from this tracker policy.zip's weights (steps from 0)." + TRAINING_LOADS)
    config_option(p, "--envs", TRACKER_TRAIN_DEFAULTS, "envs")
    config_option(p, "--n-steps", TRACKER_TRAIN_DEFAULTS, "n_steps")
    config_option(p, "--seed", TRACKER_TRAIN_DEFAULTS, "seed")
    p.add_argument("--validate-minutes", type=float, default=15.0, help="minutes between validation passes")
    p.set_defaults(func=_train)

    p = commands.add_parser("ship", help="copy a tracker run's policy, resume checkpoint and learning curve into a folder (policies/tracker)",
                            description="Copy RUN_DIR's checkpoint as policy.zip (without the optimiser's moments) and resume.zip, with its "
                                        "logs. A checkpoint an older vidmimic wrote (pickled normalisation) is converted to today's format.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("-o", "--output", default="policies/tracker", help="destination folder (default policies/tracker)")
    p.add_argument("--command", default="vidmimic tracker train -o runs/tracker --workers 2", help="the training command, recorded in run.json")
    p.set_defaults(func=_ship)
