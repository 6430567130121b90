"""``vidmimic estimator data | train | evaluate``: the lifter's synthetic data, training and scores."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from characters.places import LIFTER_WEIGHTS, POSE2SIM_SINGLE, SHARED_VIDEOS

DEFAULT_WEIGHTS = LIFTER_WEIGHTS / "lifter.pt"
HARNESS = POSE2SIM_SINGLE


def _check_data_options(args: argparse.Namespace) -> None:
    """One-line errors for augmentation and camera options out of their range."""
    from characters.errors import input_error

    for flag, value in (("--part-swap", args.part_swap), ("--limb-poses", args.limb_poses), ("--torso-bends", args.torso_bends),
                        ("--body-turns", args.body_turns)):
        if not 0.0 <= value <= 1.0:
            raise input_error(None, f"{flag} {value}: a probability, from 0 to 1")
    if args.joint_noise < 0.0:
        raise input_error(None, f"--joint-noise {args.joint_noise}: an angle in rad, 0 or more")
    for flag, bounds in (("--camera-distance", args.camera_distance), ("--camera-height", args.camera_height)):
        if bounds and not 0.0 < bounds[0] <= bounds[1]:
            raise input_error(None, f"{flag} {bounds[0]} {bounds[1]}: MIN MAX in m, 0 < MIN <= MAX")


def _data(args: argparse.Namespace) -> int:
    from app.progress import ProgressBar
    from lifter_research.synthetic import SyntheticOptions
    from lifter_research.synthetic_dataset import generate_dataset

    _check_data_options(args)
    cameras = {k: tuple(v) for k, v in (("camera_distance", args.camera_distance), ("camera_height", args.camera_height)) if v}
    options = SyntheticOptions(frames=args.frames, moving_background=not args.static_background, occluders=not args.no_occluders,
                               total_occlusion=not args.no_total_occlusion, part_swap=args.part_swap, joint_noise=args.joint_noise,
                               limb_poses=args.limb_poses, torso_bends=args.torso_bends, body_turns=args.body_turns, **cameras)
    try:
        generate_dataset(args.output, args.clips, args.seed, options, held_out=args.held_out is not None, mocap_folders=args.mocap,
                         workers=args.workers, progress=ProgressBar("shards"), held_out_set=args.held_out or "all")
    except ValueError as exc:
        from characters.errors import input_error

        raise input_error(None, str(exc)) from None
    print(f"wrote {args.output}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from app.progress import ProgressBar
    from characters.errors import input_error
    from lifter_research.lifter import LifterConfig
    from lifter_research.lifter_options import TrainOptions
    from lifter_research.lifter_train import train_lifter

    for folder in args.data:
        if not Path(folder, "dataset.json").exists():
            raise input_error(folder, "not a synthetic dataset (make one with `vidmimic estimator data`)")
    if args.init and args.resume:
        raise input_error(None, "--init starts a new run from weights; --resume continues a run: give one of them")
    if args.init:
        from app.arguments import require_file

        require_file(str(args.init))
    if min(args.channels) < 1 or args.features < 1 or args.lstm < 1:
        raise input_error(None, "--channels, --features and --lstm must be positive sizes")
    config = LifterConfig(inputs=args.inputs, window=args.window, confidence_model=args.confidence_model,
                          channels=tuple(args.channels), features=args.features, lstm=args.lstm)
    techniques = {name: getattr(args, name) for name in TrainOptions().technique_flags()}
    needing = [flag for flag in ("sim_real_mix", "refiner", "dann") if getattr(args, flag)]
    if needing and not args.real_videos:
        names = ", ".join("--" + n.replace("_", "-") for n in needing)
        raise input_error(None, f"{names} need --real-videos DIR (real, unlabelled videos; {SHARED_VIDEOS} is absent): "
                                "give a folder or turn them off (--no-…)")
    options = TrainOptions(minutes=args.minutes, steps=args.steps, batch=args.batch, learning_rate=args.learning_rate, seed=args.seed, max_clips=args.max_clips,
                           real_videos=str(args.real_videos) if args.real_videos else None, real_max_frames=args.real_max_frames,
                           refiner_steps=args.refiner_steps, weight_camera_frame_3d=args.weight_camera_frame_3d, mocap_folders=tuple(str(m) for m in args.mocap or ()), **techniques)
    command = "vidmimic " + " ".join(shlex.quote(a) for a in (args.argv or sys.argv[1:]))
    try:
        summary = train_lifter(args.data, args.output, config, options, resume=args.resume, progress=ProgressBar("train"), command=command,
                               init=args.init)
    except ValueError as exc:
        raise input_error(None, str(exc)) from None
    print(json.dumps({k: summary[k] for k in ("steps", "samples", "wall_clock_minutes")}, indent=1))
    print(f"weights: {Path(args.output) / 'lifter.pt'}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from app.arguments import require_file
    from lifter_research.lifter_evaluate import evaluate_synthetic
    from lifter_research.lifter_train import load_lifter
    from lifter_research.paired_bootstrap import paired_block_bootstrap

    require_file(str(args.weights))
    if args.against:
        require_file(str(args.against))
    for folder in args.real_people or []:
        if not (folder / "calibration" / "Calib.qca.txt").is_file() or not list((folder / "videos").glob("*.mp4")):
            from characters.errors import input_error

            raise input_error(folder, "not a calibrated recording (calibration/Calib.qca.txt and videos/*.mp4; "
                                      "fetch one with python -m lifter_research.scripts.fetch_pose2sim_multi)")
    result: dict = {"weights": str(args.weights), **({"against": str(args.against)} if args.against else {})}
    if args.data:
        clip_errors: list = []
        result["synthetic"] = evaluate_synthetic(load_lifter(args.weights), args.data, args.max_clips, clip_errors=clip_errors)
        if args.against:
            against_errors: list = []
            result["synthetic_against"] = evaluate_synthetic(load_lifter(args.against), args.data, args.max_clips, clip_errors=against_errors)
            result["synthetic_lifter_minus_against"] = paired_block_bootstrap(np.array([clip_errors]), np.array([against_errors]), block=1)
    if args.real or args.real_people:
        result.update(_evaluate_real(args))
    print(json.dumps(result, indent=1))
    return 0


def _evaluate_real(args: argparse.Namespace) -> dict:
    """``real``: the single-person harness as before; ``real_people``: every person of each
    multi-person recording, and ``pooled`` over them and ``real``."""
    from characters.errors import input_error
    from lifter_research.multi_person import person_harness_views
    from lifter_research.real_harness import compare_recordings, harness_views
    from pose_estimation.estimate import mediapipe_ik
    from pose_estimation.fusion import fused_estimator
    from pose_estimation.lifter_estimator import lifter_estimator

    lifter, baseline = _per_front_cache(lifter_estimator(args.weights)), _per_front_cache(mediapipe_ik)
    estimators = {"lifter": lifter, "mediapipe_ik": baseline, "fused": fused_estimator(lifter, baseline)}
    pairs = [("lifter", "mediapipe_ik"), ("fused", "mediapipe_ik"), ("fused", "lifter")]
    if args.against:
        estimators["against"] = lifter_estimator(args.against)
        pairs.append(("lifter", "against"))
    recordings = {"real": harness_views(args.real)} if args.real else {}
    for folder in args.real_people or []:
        people = person_harness_views(folder)
        if not people:
            raise input_error(folder, "no person is seen in every view")
        recordings.update({f"{folder.name}_person{views.report['person']}": views for views in people})
    scores = compare_recordings(recordings, estimators, pairs)
    out = {"real": scores.pop("real")} if args.real else {}
    if args.real_people:
        out["real_people"] = scores
    return out


def _per_front_cache(estimator: Callable) -> Callable:
    """``estimator``, run once per view: ``fused`` reuses the lifter's and MediaPipe-IK's
    estimates of a view instead of running both again (the same motions)."""
    done: dict[int, tuple] = {}

    def cached(front):
        if id(front) not in done:
            done[id(front)] = (front, estimator(front))  # the front is kept so its id is not reused
        return done[id(front)][1]

    return cached


def add_parser(sub) -> None:
    """Register ``estimator`` and its subcommands on the main parser's subparsers."""
    from pose_estimation.lifter_config import LifterConfig

    top = sub.add_parser("estimator", help="the motion-based lifter: synthetic data, training, evaluation")
    commands = top.add_subparsers(dest="estimator_command", required=True)

    p = commands.add_parser("data", help="make (or finish) a synthetic dataset of clips")
    p.add_argument("output", type=Path, help="dataset folder (re-running finishes missing shards)")
    p.add_argument("--clips", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--frames", type=int, default=64, help="frames per clip")
    p.add_argument("--held-out", nargs="?", const="all", metavar="SET",
                   help="draw from the held-out mocap clips only (the test set): all of them, or one set of lifter_research/heldout.json "
                        "(original: the four motions held out before the CMU library; library: its held-out CMU subjects)")
    p.add_argument("--mocap", type=Path, action="append", help="another folder of BVH / AMASS npz / DeepMimic txt (repeatable)")
    p.add_argument("--static-background", action="store_true", help="a tripod: the background does not move")
    p.add_argument("--no-occluders", action="store_true", help="no objects in front of the person")
    p.add_argument("--no-total-occlusion", action="store_true", help="no chunks of frames without the person")
    p.add_argument("--part-swap", type=float, default=0.0, help="probability that the upper body, the arms, one arm, the legs or one leg come from a second clip")
    p.add_argument("--joint-noise", type=float, default=0.0, help="rad, slowly varying random turn of every body joint (0: none)")
    p.add_argument("--limb-poses", type=float, default=0.0,
                   help="probability that arms and legs move toward random anatomically possible poses (an arm overhead, a leg to the side)")
    p.add_argument("--torso-bends", type=float, default=0.0, help="probability that the torso bends forward, sideways and twists on top of the clip's spine")
    p.add_argument("--body-turns", type=float, default=0.0, help="probability that the whole body spins about the vertical at a smoothly varying rate (up to 1.5 turns/s)")
    p.add_argument("--camera-distance", type=float, nargs=2, metavar=("MIN", "MAX"), help="m, horizontal distance to the person, uniform (default 2 8)")
    p.add_argument("--camera-height", type=float, nargs=2, metavar=("MIN", "MAX"), help="m above the floor, uniform (default 0.3 2.8)")
    p.add_argument("--workers", type=int, default=1, help="processes")
    p.set_defaults(func=_data)

    p = commands.add_parser("train", help="train the lifter on a synthetic dataset within a time budget")
    p.add_argument("data", type=Path, nargs="+", help="dataset folder(s); several are pooled")
    p.add_argument("-o", "--output", type=Path, required=True, help="run folder (lifter.pt, checkpoint.pt, progress.csv, train.json)")
    p.add_argument("--inputs", default="flow+keypoints", choices=["flow+keypoints", "keypoints", "flow"])
    p.add_argument("--window", type=int, default=31, help="frames per clip the network sees")
    default = LifterConfig()
    p.add_argument("--channels", type=int, nargs="+", default=list(default.channels), metavar="WIDTH",
                   help=f"per-frame CNN widths, one per stride-2 layer (default: {' '.join(map(str, default.channels))})")
    p.add_argument("--features", type=int, default=default.features, help="per-frame feature size before the LSTM")
    p.add_argument("--lstm", type=int, default=default.lstm, help="LSTM units per direction")
    p.add_argument("--confidence-model", default="uniform", choices=["uniform", "mediapipe"],
                   help="synthetic keypoint confidences as generated (uniform, 0.75-1 when visible) or mapped to MediaPipe's distribution")
    p.add_argument("--minutes", type=float, default=20.0, help="wall-clock budget; the learning-rate schedule spans it")
    p.add_argument("--steps", type=int, help="step budget (then the schedule follows steps; --minutes still caps the time)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-clips", type=int, help="use only the first N clips")
    p.add_argument("--resume", action="store_true", help="continue the run folder's checkpoint")
    p.add_argument("--weight-camera-frame-3d", type=float, default=0.0,
                   help="weight of the pelvis-centred 3D joint error in the camera frame, which teaches the body's orientation (0: off)")
    p.add_argument("--init", type=Path, help="start from these lifter weights (the same network, any window: a fine-tune with a fresh schedule)")
    from lifter_research.lifter_options import TrainOptions

    plain, on_off = TrainOptions().technique_flags(), argparse.BooleanOptionalAction
    g = p.add_argument_group("sim-to-real and motion-prior techniques (on by default: the mixture, which helped in the ablation of "
                             "docs/estimator.md; the teacher helped there but not in longer runs)")
    g.add_argument("--real-videos", type=Path, default=SHARED_VIDEOS if SHARED_VIDEOS.is_dir() else None,
                   help="folder of real, unlabelled videos (default: ../shared/data/video when present); never the evaluation recording")
    g.add_argument("--real-max-frames", type=int, help="use only the first N frames of each real video")
    g.add_argument("--sim-real-mix", action=on_off, default=plain["sim_real_mix"], help="SimPose: real clips in every batch with 2D-only losses (reprojection, temporal)")
    g.add_argument("--adversarial-teacher", action=on_off, default=plain["adversarial_teacher"], help="Hoffmann et al.: a teacher picks groups of synthetic clips the lifter finds hard")
    g.add_argument("--refiner", action=on_off, default=plain["refiner"], help="SimGAN: refine synthetic keypoint tracks towards real detector output first")
    g.add_argument("--refiner-steps", type=int, default=300, help="refiner pre-training steps")
    g.add_argument("--dann", action=on_off, default=plain["dann"], help="DANN: domain classifier on per-frame features through gradient reversal")
    g.add_argument("--motion-discriminator", action=on_off, default=plain["motion_discriminator"], help="VIBE: sequence discriminator on estimated poses against mocap")
    g.add_argument("--mocap", type=Path, action="append", help="more mocap for the motion discriminator (BVH / AMASS npz / txt folder; repeatable)")
    p.set_defaults(func=_train, argv=None)

    p = commands.add_parser("evaluate", help="score lifter weights on held-out synthetic clips and/or the real harness")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--data", type=Path, help="held-out synthetic dataset folder")
    p.add_argument("--max-clips", type=int)
    p.add_argument("--real", type=Path, nargs="?", const=HARNESS, help="the calibrated multi-view recording (default: the shared one)")
    p.add_argument("--real-people", type=Path, action="append", metavar="DIR",
                   help="a calibrated multi-view recording of several people (repeatable; python -m lifter_research.scripts.fetch_pose2sim_multi "
                        "fetches one): every person seen in all views is scored, and pooled with --real")
    p.add_argument("--against", type=Path, metavar="WEIGHTS",
                   help="other lifter weights, scored on the same clips and frames, with the paired difference and its bootstrap 95 %% interval")
    p.set_defaults(func=_evaluate)
