"""The ``vidmimic`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app import arguments
from app.arguments import config_option, require_file
from characters.errors import InputError
from control.train_config import TrainConfig
from pose_estimation import DEFAULT_ESTIMATOR, check_estimator

UNTRUSTED = (" Training loads the zip with stable-baselines3, which runs code from it (its pickles, like any pickle): "
             "start only from your own policies or ones you trust.")
READ_SAFELY = (" Read without unpickling anything (weights, npz, JSON), so it runs no code from the zip; SB3's own loader "
               "would, like any pickle. A zip from an older vidmimic needs `vidmimic policy upgrade ZIP` first (which unpickles it).")
# Mirrors control.train.TrainConfig (kept here so `--help` does not import torch).


def _convert(args: argparse.Namespace) -> int:
    from retargeting.convert import ConvertOptions, convert

    options = ConvertOptions(
        fps=args.fps, cleanup=not args.no_cleanup, loop=args.loop, bvh_skeleton=args.bvh_skeleton, joint_map=args.joint_map,
        smpl_model=args.smpl_model,
    )
    convert(args.input, args.output, options)
    print(f"wrote {args.output}")
    return 0


def _blend(args: argparse.Namespace) -> int:
    from characters.character import humanoid
    from characters.errors import input_error
    from retargeting.deepmimic_file import read_deepmimic, write_deepmimic
    from retargeting.gait_cycle import blend_cycles

    if not 0.0 <= args.alpha <= 1.0:
        raise input_error(None, "--alpha must be between 0 and 1")
    try:
        motion = blend_cycles(read_deepmimic(args.a, humanoid()), read_deepmimic(args.b, humanoid()), args.alpha)
    except ValueError as exc:
        raise input_error(None, str(exc)) from None
    write_deepmimic(args.output, motion)
    print(f"wrote {args.output}")
    return 0


def _preview(args: argparse.Namespace) -> int:
    from app.progress import ProgressBar
    from characters.character import humanoid
    from control.render import RenderOptions, render_motions
    from retargeting.convert import as_character, load_motion

    motion = as_character(load_motion(args.motion, humanoid(), args.joint_map), humanoid(), cleanup=True)
    options = RenderOptions(width=args.width, height=args.height, yaw_deg=args.yaw)
    render_motions([(motion, (0.25, 0.5, 0.9, 1.0))], args.output, options, seconds=args.seconds, progress=ProgressBar("render"))
    print(f"wrote {args.output}")
    return 0


def _train(args: argparse.Namespace) -> int:
    if args.init is not None:
        require_file(args.init)
    from characters.errors import input_error

    if args.resume and (args.max_root_deviation is not None or args.learning_rate is not None):
        raise input_error(args.output, "--resume continues the run exactly; --max-root-deviation and --learning-rate apply to new or warm-started runs")
    if args.max_root_deviation is not None and args.max_root_deviation < 0:
        raise input_error(None, "--max-root-deviation must be 0 (never) or a distance in metres")
    from control.imitation_env import EnvConfig
    from control.launch import TrainingFailed, train_on_ranks

    defaults = TrainConfig()
    config = TrainConfig(
        timesteps=args.timesteps, minutes=args.minutes, seed=args.seed,
        envs=args.envs or max(defaults.envs, args.workers), n_steps=args.n_steps or defaults.n_steps,
        checkpoint_minutes=args.checkpoint_minutes,
        log_std_init=defaults.log_std_init if args.log_std_init is None else args.log_std_init,
        gamma=args.gamma or defaults.gamma,
    )
    train_overrides = {} if args.learning_rate is None else {"learning_rate": args.learning_rate}
    env_overrides = {} if args.max_root_deviation is None else {"max_root_deviation_m": args.max_root_deviation}
    try:
        train_on_ranks(args.motion, args.output, config, EnvConfig(), args.workers, resume=args.resume, init=args.init,
                       train_overrides=train_overrides, env_overrides=env_overrides)
    except TrainingFailed as failed:  # a rank has said why
        return failed.exit_code
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from app.progress import ProgressBar
    from control.evaluate import evaluate

    require_file(args.policy)
    progress = None if args.json else ProgressBar("evaluate")
    if args.motion is not None or args.from_start:
        from characters.errors import input_error
        from control.tracker_evaluate import evaluate_on_motion

        if args.motion is None:
            raise input_error(None, "--from-start needs --motion FILE")
        require_file(args.motion)
        result = evaluate_on_motion(args.policy, args.motion, from_start=args.from_start, episodes=args.episodes, seconds=args.seconds,
                                    seed=args.seed, progress=progress)
    else:
        result = evaluate(args.policy, episodes=args.episodes, seconds=args.seconds, seed=args.seed, progress=progress, per_episode=args.per_episode)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from app.progress import ProgressBar
    from characters.errors import input_error
    from control.evaluate import replay
    from control.render import RenderOptions, render_motions
    from retargeting.deepmimic_file import write_deepmimic

    require_file(args.policy)
    if args.gui and not os.environ.get("DISPLAY"):
        raise input_error(None, "--gui needs a display (DISPLAY is not set); drop --gui to render headless")
    simulated, reference, info = replay(args.policy, seconds=args.seconds, progress=ProgressBar("simulate"))
    out = Path(args.output)
    motion_out = Path(args.motion_out) if args.motion_out else out.with_suffix(".txt")
    write_deepmimic(motion_out, simulated)
    shown = [(simulated, (0.95, 0.55, 0.2, 1.0)), (reference, (0.55, 0.75, 1.0, 0.4))]
    if args.gui:
        from control.render import play_in_gui

        play_in_gui(shown)
    render_motions(shown, out, RenderOptions(), seconds=simulated.duration, progress=ProgressBar("render"))
    print(f"wrote {out} and {motion_out} ({info['seconds']:.1f} s simulated{', fell' if info['fell'] else ''})")
    return 0


def _track(args: argparse.Namespace) -> int:
    from app.progress import ProgressBar
    from control.render import RenderOptions, render_motions
    from control.shipped import TRACKER
    from control.tracker_evaluate import reference_motion, track
    from retargeting.deepmimic_file import write_deepmimic

    args.policy = args.policy or str(TRACKER)
    require_file(args.policy)
    require_file(args.motion)
    motion = reference_motion(args.motion)
    simulated, reference, info = track(args.policy, motion, progress=ProgressBar("simulate"))
    out = Path(args.output)
    motion_out = Path(args.motion_out) if args.motion_out else out.with_suffix(".txt")
    write_deepmimic(motion_out, simulated)
    shown = [(simulated, (0.95, 0.55, 0.2, 1.0)), (reference, (0.55, 0.75, 1.0, 0.4))]
    render_motions(shown, out, RenderOptions(), seconds=simulated.duration, progress=ProgressBar("render"))
    verdict = "followed to the end" if info["success"] else ("fell" if info["fell"] else "strayed over 0.5 m")
    print(f"wrote {out} and {motion_out}: {info['seconds']:.1f} of {info['duration_s']:.1f} s, {verdict}, "
          f"mean body-position error {info['mean_body_pos_error_mm']:.0f} mm")
    return 0


def _estimate(args: argparse.Namespace) -> int:
    from app.progress import ProgressBar
    from characters.errors import input_error
    from pose_estimation.estimate import estimate

    box = None
    if args.person_box:
        try:
            box = [float(v) for v in args.person_box.split(",")]
            assert len(box) == 4 and box[2] > box[0] and box[3] > box[1]
        except (ValueError, AssertionError):
            raise input_error(None, "--person-box must be x0,y0,x1,y1 in pixels of the first frame, with x1 > x0 and y1 > y0") from None
    summary = estimate(args.video, args.output, args.estimator, box, args.max_frames, progress=ProgressBar, upright=args.upright)
    print(json.dumps(summary, indent=1))
    return 0


def _run(args: argparse.Namespace) -> int:
    from app.run import RunOptions, run_pipeline, walk_cycle_options
    from characters.errors import input_error

    estimator = check_estimator(args.estimator or RunOptions().estimator)
    if args.walk and (args.loop or args.symmetric or args.swing_clearance or args.pin_stance or args.phase_policy):
        raise input_error(None, "--walk sets the loop options itself; give either --walk or --loop with its options")
    options = RunOptions(train_minutes=args.train_minutes, train_timesteps=args.train_timesteps, workers=args.workers, estimator=estimator, max_frames=args.max_frames, seed=args.seed, init_policy=args.init_policy, loop=args.loop, phase_policy=args.phase_policy,
                         symmetric=args.symmetric, swing_clearance_m=args.swing_clearance, pin_stance=args.pin_stance, from_scratch=args.from_scratch,
                         assist=args.assist)
    if args.assist and args.from_scratch:
        raise input_error(None, "--assist fine-tunes the tracker; it does not apply to --from-scratch")
    if args.from_scratch and args.init_policy:
        raise input_error(None, "--from-scratch trains a new policy; it cannot also start from --init-policy")
    if (args.symmetric or args.swing_clearance or args.pin_stance or args.phase_policy) and not args.loop:
        raise input_error(None, "--symmetric, --pin-stance, --swing-clearance and --phase-policy act on a gait cycle: add --loop")
    if not 0.0 <= args.swing_clearance <= 0.3:
        raise input_error(None, f"--swing-clearance must be between 0 and 0.3 m, got {args.swing_clearance}")
    for policy in (args.init_policy, args.phase_policy):
        if policy is not None:
            require_file(policy)
    if args.walk:
        options = walk_cycle_options(options, estimator_named=args.estimator is not None)
    report = run_pipeline(args.video, args.output, options)
    print(json.dumps(report["evaluation"], indent=1))
    print(f"report: {args.output}/report.html")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from app.server.serve import serve
    from app.server.settings import Settings
    from characters.errors import input_error

    if args.init_policy is not None:
        require_file(args.init_policy)
    try:
        settings = Settings.from_env(host=args.host, port=args.port, token=args.token, token_file=args.token_file, allowed_hosts=args.allowed_host,
                                     workers=args.workers, data_dir=args.data, database=args.database, max_upload_mb=args.max_upload_mb,
                                     max_queued_jobs=args.max_queued_jobs, max_event_streams=args.max_event_streams,
                                     train_minutes=args.train_minutes, init_policy=args.init_policy, estimator=args.estimator)
        settings.check()
    except ValueError as exc:
        raise input_error(None, str(exc)) from None
    check_estimator(settings.estimator)
    print(f"vidmimic serving on http://{settings.host}:{settings.port}/ (data in {settings.data_dir})", flush=True)
    serve(settings)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from app.demo import run_demo

    summary = run_demo(args.output, train_minutes=args.train_minutes, workers=args.workers)
    print(json.dumps(summary, indent=1))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vidmimic", description="Turn a video of a person into a physically simulated character.")
    parser.add_argument("--verbose", action="store_true",
                        help="also show third-party log lines (TensorFlow Lite, absl, OpenCV's FFmpeg, pybullet's banner), hidden by default")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "convert",
        help="convert a motion file, retargeting between SMPL and the character when needed",
        description=(
            "Convert INPUT to OUTPUT; formats come from the extensions. In: .txt (DeepMimic character motion), "
            ".npz (AMASS-style SMPL, Z up), .bvh (mocap, mapped onto SMPL by joint names: CMU, Mixamo, SMPL, humanoid3d, "
            "or --joint-map). Out: .txt, .npz, .bvh (the input's skeleton unless --bvh-skeleton), .glb (the character, animated). "
            "SMPL is retargeted onto the character (with ground, contact and foot-skate cleanup) whenever the output is a "
            "character format, and the character back to SMPL for .npz."
        ),
    )
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--fps", type=float, help="resample the output to this frame rate (slerp)")
    p.add_argument("--no-cleanup", action="store_true", help="retarget without smoothing, grounding and foot-skate cleanup")
    p.add_argument("--loop", choices=["wrap", "none"], help='DeepMimic "Loop" of a .txt output')
    p.add_argument("--bvh-skeleton", choices=["character", "smpl"], help="skeleton of a .bvh output")
    p.add_argument("--joint-map", metavar="JSON", help="map of SMPL joint -> BVH joint names for a .bvh input")
    p.add_argument("--smpl-model", metavar="FILE", help="your SMPL model (.pkl/.npz): exact skeleton for the .npz input's betas")
    p.set_defaults(func=_convert)

    p = sub.add_parser("blend", help="a cyclic motion part of the way from cycle A to cycle B (a curriculum for warm starts)")
    p.add_argument("a", help="cyclic DeepMimic .txt (its timing is kept)")
    p.add_argument("b", help="cyclic DeepMimic .txt, phase-aligned with A (e.g. `vidmimic run --loop --init-policy` on A's policy)")
    p.add_argument("--alpha", type=float, required=True, help="0 gives A, 1 gives B on A's timing")
    p.add_argument("-o", "--output", required=True, help="output .txt")
    p.set_defaults(func=_blend)

    p = sub.add_parser("preview", help="render a motion file onto the character (mp4, or png for one frame)")
    p.add_argument("motion", help=".txt, .npz or .bvh motion")
    p.add_argument("-o", "--output", required=True, help="output .mp4 or .png")
    p.add_argument("--seconds", type=float, help="length of the video (default: the clip's)")
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=360)
    p.add_argument("--yaw", type=float, default=90.0, help="camera azimuth in degrees about +Y from +X")
    p.add_argument("--joint-map", metavar="JSON", help="joint map for a .bvh input")
    p.set_defaults(func=_preview)

    p = sub.add_parser(
        "train",
        help="train an imitation policy with PPO (MPI rollout workers)",
        description=(
            "Train a PPO policy that makes the simulated character imitate MOTION (.txt, .npz or .bvh). "
            "--workers N starts N MPI ranks with the mpiexec installed beside this Python; running under "
            "`mpiexec -n N vidmimic train ...` works too, and `mpiexec -f HOSTFILE -n N vidmimic train ...` spreads "
            "ranks over machines. Stops at --timesteps or --minutes, whichever first, and always leaves RUN_DIR/policy.zip."
        ),
    )
    p.add_argument("motion")
    p.add_argument("-o", "--output", required=True, metavar="RUN_DIR")
    p.add_argument("--workers", type=int, default=1, help="MPI ranks to launch (default 1: no MPI)")
    trained = TrainConfig()
    config_option(p, "--timesteps", trained, "timesteps")
    config_option(p, "--minutes", trained, "minutes")
    p.add_argument("--resume", action="store_true", help="continue RUN_DIR's checkpoint exactly")
    p.add_argument("--init", metavar="POLICY", help="warm-start from another policy.zip (its weights, normalisation and settings; steps from 0)." + UNTRUSTED)
    config_option(p, "--seed", trained, "seed")
    config_option(p, "--envs", trained, "envs", unset=True, note="at least one per rank")
    config_option(p, "--n-steps", trained, "n_steps", unset=True)
    config_option(p, "--checkpoint-minutes", trained, "checkpoint_minutes")
    config_option(p, "--learning-rate", trained, "learning_rate", unset=True, note="with --init, the init policy's unless given")
    p.add_argument("--max-root-deviation", type=float, metavar="M",
                   help="end an episode when the root strays M metres from the reference's (default 1; 0: never; with --init, the init policy's unless given)")
    config_option(p, "--log-std-init", trained, "log_std_init", unset=True)
    config_option(p, "--gamma", trained, "gamma", unset=True)
    p.set_defaults(func=_train)

    p = sub.add_parser("evaluate", help="score a trained policy: falls, tracking errors, reward")
    p.add_argument("policy", help="policy.zip written by vidmimic train or vidmimic tracker train." + READ_SAFELY)
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--seconds", type=float, default=10.0, help="length of each episode")
    p.add_argument("--seed", type=int, default=0, help="seed of the random start phases")
    p.add_argument("--per-episode", action="store_true", help="also list each episode's start phase, seconds and whether it fell")
    p.add_argument("--motion", metavar="FILE",
                   help="a tracker policy on this motion (.txt, .npz, .bvh, or a video's motion.txt) instead of a clip of its own; "
                        "success = no fall and the mean body-position error never above 0.5 m")
    p.add_argument("--from-start", action="store_true", help="with --motion: one episode from the clip's first frame to its last")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_evaluate)

    p = sub.add_parser("replay", help="simulate a policy and render it with the reference as a ghost")
    p.add_argument("policy", help="policy.zip written by vidmimic train or vidmimic tracker train." + READ_SAFELY)
    p.add_argument("-o", "--output", required=True, help="video (.mp4) or still (.png)")
    p.add_argument("--seconds", type=float, help="simulated time (default 10 s for cyclic clips, else the clip)")
    p.add_argument("--motion-out", help="where to save the simulated motion (default: OUTPUT with .txt)")
    p.add_argument("--gui", action="store_true", help="also play it in PyBullet's window (needs a display)")
    p.set_defaults(func=_replay)

    p = sub.add_parser("track", help="play any motion with the general tracker (no training) and render it with the reference as a ghost")
    p.add_argument("motion", help=".txt, .npz or .bvh motion (e.g. a video's motion.txt)")
    p.add_argument("-o", "--output", required=True, help="video (.mp4 or .webm) or still (.png)")
    p.add_argument("--policy", help="tracker policy.zip (default: the shipped policies/tracker/policy.zip)." + READ_SAFELY)
    p.add_argument("--motion-out", help="where to save the simulated motion (default: OUTPUT with .txt; export it with convert)")
    p.set_defaults(func=_track)

    p = sub.add_parser("estimate", help="video -> 2D keypoints, optical flow, SMPL motion, overlay and side-view videos")
    p.add_argument("video", help="mp4, mov, avi or webm")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--estimator", default=DEFAULT_ESTIMATOR,
                   help=f"3D estimator: fused (the lifter and MediaPipe-IK averaged), lifter (the motion-based network) or mediapipe_ik (the baseline); default {DEFAULT_ESTIMATOR}")
    p.add_argument("--person-box", metavar="X0,Y0,X1,Y1", help="follow this person (a box in the first frame, px) instead of the most prominent one")
    p.add_argument("--max-frames", type=int, help="only the first N frames")
    p.add_argument("--upright", action="store_true",
                   help="write the motion stood upright by its legs (default: in the camera's frame as estimated, leaning by the camera's pitch and roll; "
                        "`vidmimic convert` and `run` level the floor when they put it on the character, so leave it off for them)")
    p.set_defaults(func=_estimate)

    from app.run import RunOptions

    p = sub.add_parser("run", help="video -> simulated character: estimate, retarget, train, replay, evaluate, export, report")
    p.add_argument("video")
    p.add_argument("-o", "--output", required=True, help="output folder (re-running skips finished stages)")
    job = RunOptions()
    config_option(p, "--train-minutes", job, "train_minutes")
    config_option(p, "--train-timesteps", job, "train_timesteps")
    config_option(p, "--workers", job, "workers")
    config_option(p, "--estimator", job, "estimator", unset=True, note="with --walk, mediapipe_ik unless given")
    p.add_argument("--max-frames", type=int, help="only the first N frames of the video")
    config_option(p, "--seed", job, "seed")
    p.add_argument("--init-policy", metavar="POLICY",
                   help="start from this policy.zip: a tracker is fine-tuned on the clip, an imitation policy warm-starts per-clip training "
                        "(default: the shipped tracker, policies/tracker/policy.zip)." + UNTRUSTED)
    p.add_argument("--from-scratch", action="store_true", help="train a per-clip imitation policy from nothing instead of starting from the tracker")
    p.add_argument("--assist", action="store_true",
                   help="ASSISTANCE, not physics alone: fine-tune with a residual force on the character's root (residual force control) for "
                        "motions physics cannot yet follow (fast dances, acrobatics, noisy estimates); its mean magnitude is reported")
    p.add_argument("--walk", action="store_true",
                   help="the demo's settings for a walk: --loop --symmetric --swing-clearance 0.10, phase from policies/humanoid3d_walk")
    p.add_argument("--loop", action="store_true",
                   help="imitate the estimate's best repeating cycle (a walk's gait cycle) in a loop instead of the whole clip once")
    p.add_argument("--symmetric", action="store_true",
                   help="with --loop: average the cycle with its mirror image half a cycle later (single-view estimates see the far leg worse)")
    p.add_argument("--phase-policy", metavar="POLICY",
                   help="with --loop: start the cycle at the phase of this policy's cyclic reference (default: --init-policy's)")
    p.add_argument("--pin-stance", action="store_true",
                   help="with --loop: hold each stance foot in place by leg IK (estimated feet glide, so the stride does not match the root's speed)")
    config_option(p, "--swing-clearance", job, "swing_clearance_m", metavar="M")
    p.set_defaults(func=_run)

    p = sub.add_parser("serve", help="the web app: upload videos, follow jobs, view and download results")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (beyond loopback a --token is required)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--token", help="clients must send it (Authorization: Bearer TOKEN, or ?token=TOKEN once in a browser); "
                                   "visible in ps: prefer --token-file or VIDMIMIC_TOKEN")
    p.add_argument("--token-file", type=Path, help="read the token from this file's first line (or VIDMIMIC_TOKEN_FILE)")
    p.add_argument("--allowed-host", action="append", metavar="NAME",
                   help="a host name clients may use besides the address served (repeatable; '*': any, behind a proxy that checks it)")
    p.add_argument("--workers", type=int, default=1, help="jobs processed at the same time")
    p.add_argument("--max-queued-jobs", type=int, help="waiting jobs beyond which uploads get 429 (default 20)")
    p.add_argument("--max-event-streams", type=int, help="open progress streams per client address (default 10)")
    p.add_argument("--data", type=Path, help="data folder (default ./vidmimic_data or VIDMIMIC_DATA_DIR)")
    p.add_argument("--database", type=Path, help="SQLite file (default DATA/jobs.sqlite)")
    p.add_argument("--max-upload-mb", type=float)
    p.add_argument("--train-minutes", type=float, help="default training budget per job")
    p.add_argument("--init-policy", metavar="POLICY", help="start every job from this policy.zip (default: the shipped tracker)." + UNTRUSTED)
    p.add_argument("--estimator", help=f"the 3D estimator of jobs whose upload names none, as for estimate (default {DEFAULT_ESTIMATOR} or VIDMIMIC_ESTIMATOR)")
    p.set_defaults(func=_serve)

    from app.estimator_cli import add_parser as add_estimator_parser

    add_estimator_parser(sub)

    from app.tracker_cli import add_parser as add_tracker_parser

    add_tracker_parser(sub)

    from app.policy_cli import add_parser as add_policy_parser

    add_policy_parser(sub)

    p = sub.add_parser(
        "demo", help="the built-in demo: `run` on a generated sample video, training warm-started from the shipped sample policy",
    )
    p.add_argument("-o", "--output", default="demo_out", help="output folder (default: demo_out)")
    p.add_argument("--train-minutes", type=float, default=2.0, help="training budget on top of the shipped policy")
    p.add_argument("--workers", type=int, help="MPI ranks for training (default: 2 if there are 2 cores)")
    p.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments.argv_override = argv
    args = build_parser().parse_args(argv)
    if argv is None:  # the program itself, not a caller in the same process (tests): quiet its fd 2 and its children's
        from app.quiet import install

        install(verbose=args.verbose)
    try:
        return args.func(args)
    except InputError as exc:
        print(f"vidmimic: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
