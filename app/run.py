"""``vidmimic run``: video -> estimate -> retarget -> train -> replay -> evaluate -> export -> report.

Each stage writes into ``OUT/`` and records in ``OUT/stages.json`` a hash of its inputs
(file contents and settings). Running again skips every stage whose inputs are unchanged
and whose outputs exist; training resumes from its checkpoint when asked for more time.

Layout of ``OUT/``::

    estimate/       keypoints.npz, flow.npz, motion_smpl.npz, overlay.webm, side_view.webm
    motion.txt      the reference on the character (DeepMimic format)
    cycle.json      with --loop: the frames of the estimate that motion.txt loops (null: whole clip)
    train/          the training run (policy.zip, checkpoint.zip, progress.csv, tb/ ...): by default the shipped
                    general tracker fine-tuned on motion.txt; a per-clip imitation run with --from-scratch or an
                    imitation --init-policy
    controller.json which controller the job kept (the tracker or its fine-tune) and how each followed the clip
    replay.webm     simulated character (orange) with the reference as a ghost
    replay.json     how the replay went: seconds simulated, whether the character fell, metres moved
    sim_motion.txt  the simulated motion
    evaluation.json vidmimic evaluate's figures
    export/         sim.bvh, sim.glb, sim_smpl.npz, reference.bvh, reference.glb
    report.json, report.html
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from app.progress import ProgressBar
from app.report import write_report
from characters.places import POLICIES
from pose_estimation import DEFAULT_ESTIMATOR


@dataclass(frozen=True)
class RunOptions:
    """Settings of one ``vidmimic run`` job (the CLI's flags and the web form's fields)."""

    train_minutes: float = 30.0
    """Training budget in minutes: the tracker's fine-tune on the clip (0: the tracker as it is), or per-clip training."""
    train_timesteps: int = 10_000_000
    """Training budget in samples (whichever budget ends first)."""
    workers: int = 1
    """MPI ranks for training."""
    estimator: str = DEFAULT_ESTIMATOR
    """The 3D estimator, as for ``vidmimic estimate``."""
    max_frames: int | None = None
    """Only the first N frames of the video."""
    evaluation_episodes: int = 10
    """Episodes of the evaluation stage."""
    seed: int = 0
    """Seed of training and evaluation."""
    replay_seconds: float | None = None
    """Length of the replay (default: 10 s for cyclic clips, else the clip's)."""
    init_policy: str | None = None
    """Start from this policy.zip: a tracker is fine-tuned, an imitation policy warm-starts per-clip training."""
    loop: bool = False
    """Imitate the estimate's best repeating cycle (walks, runs) in a loop instead of the whole clip; the cycle
    starts at the phase that matches ``phase_policy``'s cyclic reference (default: ``init_policy``'s)."""
    symmetric: bool = False
    """With ``loop``: average the cycle with its mirror half a cycle later (``retargeting.gait_cycle.symmetric_cycle``)."""
    swing_clearance_m: float = 0.0
    """With ``loop``: lift each swinging foot to at least this mid-swing height in metres (0: off)."""
    pin_stance: bool = False
    """With ``loop``: hold each stance foot in place by leg IK (``retargeting.gait_cycle.pin_stance_feet``)."""
    phase_policy: str | None = None
    """With ``loop``: the policy whose cyclic reference sets the cycle's start (default: ``init_policy``)."""
    from_scratch: bool = False
    """Train a per-clip imitation policy from nothing instead of starting from the shipped tracker."""
    assist: bool = False
    """Fine-tune the tracker with a residual root force (not physics alone; labelled everywhere)."""


WALK_POLICY = POLICIES / "humanoid3d_walk" / "policy.zip"
"""The phase reference of walk cycles: policies/sample_walk's curriculum started from this policy's clip."""
WALK_SYMMETRIC = True
WALK_PIN_STANCE = False  # tried: a policy warm-started on the pinned cycle drifted ahead of it as before (docs/video.md)
WALK_SWING_CLEARANCE_M = 0.10  # DeepMimic's walk lifts its feet 11.7 cm; the estimate of the demo's sample video about 4-7 cm


WALK_ESTIMATOR = "mediapipe_ik"
"""The estimator a walk job uses unless one is named: policies/sample_walk was trained on the gait
cycle MediaPipe-IK's estimate gives; with the default estimator's cycle a walk job warm-started
from it fell within 2.5 s (2026-12-04, the web app's walk job)."""


def walk_cycle_options(options: RunOptions, estimator_named: bool = True) -> RunOptions:
    """``options`` set to imitate a walk as ``vidmimic demo`` does: the estimate's best gait cycle
    looped, made symmetric, given swing clearance, and started at the walk policy's phase (so a warm
    start from ``policies/sample_walk`` or ``policies/humanoid3d_walk`` begins in step); without
    ``estimator_named``, the estimator becomes :data:`WALK_ESTIMATOR`."""
    walk = replace(options, loop=True, symmetric=WALK_SYMMETRIC, swing_clearance_m=WALK_SWING_CLEARANCE_M, pin_stance=WALK_PIN_STANCE,
                   phase_policy=str(WALK_POLICY) if WALK_POLICY.exists() else None)
    return walk if estimator_named else replace(walk, estimator=WALK_ESTIMATOR)


def _hash(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            with part.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
    return digest.hexdigest()


ESTIMATE_FORMAT = 2
"""Part of the estimate stage's key: 2 marks the estimate as a video estimate in its npz (older job
folders estimate again, so their retarget step gets the video cleanup)."""

STAGES = ("estimate", "retarget", "train", "replay", "evaluate", "export")
StageHook = Callable[[str, int, int], None]  # (stage name, index, number of stages)


class Stages:
    """Bookkeeping of finished stages in ``OUT/stages.json``."""

    def __init__(self, out: Path, on_stage: StageHook | None = None):
        self.path = out / "stages.json"
        self.done: dict[str, str] = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.on_stage = on_stage

    def run(self, name: str, key: str, outputs: list[Path], work: Callable[[], None]) -> bool:
        """Run ``work`` unless ``name`` finished with the same ``key`` and its outputs exist; True if it ran."""
        if self.on_stage:
            self.on_stage(name, STAGES.index(name), len(STAGES))
        if self.done.get(name) == key and all(p.exists() for p in outputs):
            print(f"{name:<12} up to date", flush=True)
            return False
        work()
        self.done[name] = key
        tmp = self.path.with_suffix(".json.part")
        tmp.write_text(json.dumps(self.done, indent=1))
        tmp.replace(self.path)
        return True


def run_pipeline(video: str | Path, out_dir: str | Path, options: RunOptions = RunOptions(), on_stage: StageHook | None = None) -> dict:
    """Run every stage (see module docstring); returns the report dictionary."""
    from characters.character import humanoid
    from control.imitation_env import EnvConfig
    from control.launch import train_on_ranks
    from control.train import TrainConfig
    from pose_estimation.estimate import estimate
    from retargeting.cleanup import VIDEO_ESTIMATE_CLEANUP
    from retargeting.convert import as_character, load_motion
    from retargeting.deepmimic_file import write_deepmimic
    from retargeting.gait_cycle import loop_best_cycle, tidy_walk_cycle

    video, out = Path(video), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stages = Stages(out, on_stage)
    est = out / "estimate"
    character = humanoid()

    stages.run(
        "estimate", _hash(video, options.estimator, options.max_frames, ESTIMATE_FORMAT), [est / "motion_smpl.npz", est / "overlay.webm"],
        # As `vidmimic estimate` writes it: the retarget step levels the floor itself.
        lambda: estimate(video, est, options.estimator, max_frames=options.max_frames, progress=ProgressBar),
    )

    phase_policy = options.phase_policy or options.init_policy

    def retarget() -> None:
        # The same step as `vidmimic convert estimate/motion_smpl.npz motion.txt` (a video estimate gets the video cleanup).
        motion = as_character(load_motion(est / "motion_smpl.npz", character), character, cleanup=True)
        cycle = None
        if options.loop:
            motion, cycle = loop_best_cycle(motion, phase_reference=_policy_motion(phase_policy, character))
            if cycle is not None:
                motion = tidy_walk_cycle(motion, options.symmetric, options.swing_clearance_m, options.pin_stance)
            message = "no repeating cycle found; imitating the whole clip" if cycle is None else (
                f"looping frames {cycle.start}-{cycle.start + cycle.length} ({motion.duration:.2f} s, ends differ by {cycle.mismatch_deg:.1f} deg)")
            print(f"retarget     {message}", flush=True)
        (out / "cycle.json").write_text(json.dumps(None if cycle is None else asdict(cycle)))
        write_deepmimic(out / "motion.txt", motion)

    phase_key = _hash(Path(phase_policy)) if options.loop and phase_policy else None
    tidy = (options.symmetric, options.swing_clearance_m, options.pin_stance) if options.loop else None
    stages.run("retarget", _hash(est / "motion_smpl.npz", options.loop, asdict(VIDEO_ESTIMATE_CLEANUP), phase_key, tidy), [out / "motion.txt"], retarget)

    train_dir = out / "train"
    tracker = _tracker_to_start_from(options)
    if tracker is not None:
        policy = _tracker_controller(out, train_dir, tracker, options, stages)
        _replay_evaluate_export(out, policy, options, stages, tracking=True)
        return write_report(out, video, options, train_dir)

    def run_training() -> None:
        resume = (train_dir / "checkpoint.zip").exists() and stages.done.get("train_motion") == _hash(out / "motion.txt")
        # The same settings as `vidmimic train MOTION --workers W`: only the budget and the seed are the job's.
        defaults = TrainConfig()
        config = replace(defaults, timesteps=options.train_timesteps, minutes=options.train_minutes, seed=options.seed, envs=max(defaults.envs, options.workers))
        train_on_ranks(out / "motion.txt", train_dir, config, EnvConfig(), options.workers, resume=resume, init=None if resume else options.init_policy)
        stages.done["train_motion"] = _hash(out / "motion.txt")

    init_key = None if options.init_policy is None else _hash(Path(options.init_policy))
    stages.run("train", _hash(out / "motion.txt", options.train_minutes, options.train_timesteps, options.seed, init_key), [train_dir / "policy.zip"], run_training)
    _replay_evaluate_export(out, train_dir / "policy.zip", options, stages, tracking=False)
    return write_report(out, video, options, train_dir)


def _tracker_to_start_from(options: RunOptions) -> Path | None:
    """The tracker a job starts from: ``init_policy`` when it is one, else the shipped tracker
    (unless ``from_scratch`` or an imitation ``init_policy`` asks for per-clip training)."""
    from control.shipped import shipped_tracker
    from control.train import is_tracker

    if options.init_policy is not None:
        return Path(options.init_policy) if is_tracker(options.init_policy) else None
    return None if options.from_scratch else shipped_tracker()


def _tracker_controller(out: Path, train_dir: Path, tracker: Path, options: RunOptions, stages: Stages) -> Path:
    """Fine-tune ``tracker`` on ``motion.txt`` for the training budget, then keep whichever of the
    tracker and its fine-tune follows the clip better (``controller.json`` says which and why)."""
    from control.fine_tune import choose_controller, fine_tune

    motion = out / "motion.txt"

    def work() -> None:
        candidates = {"tracker": tracker}
        if options.train_minutes > 0:
            name = "fine-tuned with assistance" if options.assist else "fine-tuned"
            candidates[name] = fine_tune(motion, tracker, train_dir, options.train_minutes, options.workers, options.seed, options.train_timesteps,
                                         assist=options.assist)
        chosen, figures = choose_controller(motion, candidates)
        (out / "controller.json").write_text(json.dumps({"chosen": chosen, "policy": str(candidates[chosen]), "tracker": str(tracker), "candidates": figures}, indent=1))
        print(f"train        kept the {chosen} controller: " + "; ".join(
            f"{name} follows {f['mean_episode_seconds']:.1f} of {f['clip_seconds']:.1f} s ({'success' if f['success'] else 'fails'})" for name, f in figures.items()), flush=True)

    key = _hash(motion, options.train_minutes, options.train_timesteps, options.seed, _hash(tracker), options.assist)
    stages.run("train", key, [out / "controller.json"], work)
    return Path(json.loads((out / "controller.json").read_text())["policy"])


def _replay_evaluate_export(out: Path, policy: Path, options: RunOptions, stages: Stages, tracking: bool) -> None:
    """Replay (video and simulated motion), evaluation and exports of ``policy`` on ``motion.txt``."""
    import numpy as np

    from characters.character import humanoid
    from control.render import RenderOptions, render_motions
    from retargeting.amass_file import write_amass
    from retargeting.bvh_export import write_character_bvh
    from retargeting.deepmimic_file import read_deepmimic, write_deepmimic
    from retargeting.gltf_export import write_glb
    from retargeting.smpl_character import character_to_smpl

    character = humanoid()

    def run_replay() -> None:
        if tracking:
            from control.tracker_evaluate import reference_motion, track

            simulated, reference, outcome = track(policy, reference_motion(out / "motion.txt"), progress=ProgressBar("simulate"))
            outcome = {"seconds": outcome["seconds"], "fell": not outcome["success"]}
        else:
            from control.evaluate import replay

            simulated, reference, outcome = replay(policy, seconds=options.replay_seconds, progress=ProgressBar("simulate"))
        write_deepmimic(out / "sim_motion.txt", simulated)
        travel = float(np.linalg.norm((simulated.root_pos[-1] - simulated.root_pos[0])[[0, 2]]))
        (out / "replay.json").write_text(json.dumps({"seconds": round(outcome["seconds"], 3), "fell": bool(outcome["fell"]), "travel_m": round(travel, 2)}, indent=1))
        shown = [(simulated, (0.95, 0.55, 0.2, 1.0)), (reference, (0.55, 0.75, 1.0, 0.4))]
        render_motions(shown, out / "replay.webm", RenderOptions(), seconds=simulated.duration, progress=ProgressBar("render"))

    stages.run("replay", _hash(policy, options.replay_seconds, tracking), [out / "replay.webm", out / "sim_motion.txt", out / "replay.json"], run_replay)

    def run_evaluation() -> None:
        reference = read_deepmimic(out / "motion.txt", character)
        seconds = 10.0 if reference.loop == "wrap" else min(10.0, reference.duration)
        if tracking:
            from control.tracker_evaluate import evaluate_on_motion

            result = evaluate_on_motion(policy, out / "motion.txt", episodes=options.evaluation_episodes, seconds=seconds, seed=options.seed)
        else:
            from control.evaluate import evaluate

            result = evaluate(policy, episodes=options.evaluation_episodes, seconds=seconds, seed=options.seed)
        (out / "evaluation.json").write_text(json.dumps(result, indent=1))

    stages.run("evaluate", _hash(policy, options.evaluation_episodes, tracking), [out / "evaluation.json"], run_evaluation)

    def export() -> None:
        simulated = read_deepmimic(out / "sim_motion.txt", character)
        reference = read_deepmimic(out / "motion.txt", character)
        exp = out / "export"
        write_character_bvh(exp / "sim.bvh", simulated)
        write_glb(exp / "sim.glb", simulated)
        write_amass(exp / "sim_smpl.npz", character_to_smpl(simulated))
        write_character_bvh(exp / "reference.bvh", reference)
        write_glb(exp / "reference.glb", reference)

    stages.run("export", _hash(out / "sim_motion.txt", out / "motion.txt"), [out / "export" / "sim.glb"], export)


def _policy_motion(policy: str | None, character):
    """The reference motion inside a policy zip (None without a policy)."""
    if policy is None:
        return None
    import tempfile

    from control.train import policy_motion_text
    from retargeting.deepmimic_file import read_deepmimic

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "motion.txt"
        path.write_text(policy_motion_text(policy))
        return read_deepmimic(path, character)
