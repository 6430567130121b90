"""Run the general tracker on whole clips: PHC's success measure, and the simulated motion.

A clip succeeds when the tracker plays it from its first frame to its last without a fall
(a body other than the feet touching the ground) and without the mean body-position error
(world frame, all bodies) ever exceeding 0.5 m.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from characters import rotations as rot
from control.clip_table import ClipTable
from control.ground_contact import lift_out_of_ground
from control.tracker_env import TrackerConfig, TrackerEnv, tracker_config_from_json
from retargeting.character_motion import CharacterMotion

SUCCESS_ERROR_M = 0.5
Progress = Callable[[int, int], None]


@dataclass
class TrackerPolicy:
    """A tracker's network and observation normalisation, and its settings."""

    model: object
    """A :class:`control.policy_file.PolicyNetwork` read from a policy zip (it normalises by itself),
    or, during training, SB3's PPO model."""
    normalization: object | None
    """None for a PolicyNetwork; the training VecNormalize beside SB3's model."""
    config: TrackerConfig
    path: str | Path | None = None
    """The policy zip it was read from (named in errors)."""

    def check_fits(self, env: TrackerEnv) -> None:
        """An InputError unless ``env`` has the observation and action sizes of a network read from a zip."""
        if self.normalization is None:
            self.model.check_fits(env, self.path)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """``(N, A)`` deterministic actions for ``(N, O)`` observations."""
        if self.normalization is None:
            return self.model.act(obs)
        action, _ = self.model.predict(self.normalization.normalize_obs(obs), deterministic=True)
        return action


def evaluation_config(config: TrackerConfig, error_limit_m: float = SUCCESS_ERROR_M) -> TrackerConfig:
    """``config`` for whole-clip evaluation: from the first frame, no time limit, PHC's error limit."""
    env = replace(config.env, random_start=False, episode_seconds=float("inf"), early_termination=True)
    return replace(config, env=env, max_body_error_m=error_limit_m)


def follow_clips(
    policy: TrackerPolicy, clips: ClipTable | Sequence[CharacterMotion], names: Sequence[str] | None = None,
    lanes: int = 8, record: bool = False, progress: Progress | None = None,
) -> list[dict]:
    """Play every clip once from its first frame; one result dict per clip, in order.

    ``lanes`` environments step in lockstep so the policy runs on a batch. With ``record``,
    each result also holds ``"simulated"``: the character's motion at the control rate.
    """
    config = evaluation_config(policy.config)
    table = clips if isinstance(clips, ClipTable) else ClipTable(clips, rate_hz=config.env.control_hz)
    names = list(names) if names is not None else [f"clip_{c}" for c in range(table.num_clips)]
    pending = list(range(table.num_clips))
    envs = [TrackerEnv(table, config) for _ in range(min(lanes, table.num_clips))]
    results: dict[int, dict] = {}
    state: list[dict | None] = [None] * len(envs)
    obs = np.zeros((len(envs),) + envs[0].observation_space.shape, dtype=np.float32)
    try:
        policy.check_fits(envs[0])

        def start(lane: int) -> None:
            clip = pending.pop(0)
            obs[lane], _ = envs[lane].reset(options={"clip": clip, "start_step": 0})
            frames = [envs[lane].current_pose()] if record else None
            state[lane] = {"clip": clip, "errors": [], "frames": frames, "assist": []}

        for lane in range(len(envs)):
            start(lane)
        while any(s is not None for s in state):
            active = [k for k, s in enumerate(state) if s is not None]
            actions = policy.act(obs[active])
            for k, action in zip(active, actions):
                env, s = envs[k], state[k]
                obs[k], _, terminated, truncated, info = env.step(action)
                if "assist_n_per_kg" in info:
                    s["assist"].append(info["assist_n_per_kg"])
                if not info.get("exploded"):
                    s["errors"].append(env.body_position_error())
                    if record:
                        s["frames"].append(env.current_pose())
                if terminated or truncated:
                    results[s["clip"]] = _result(env, s, names[s["clip"]], bool(terminated), info, record)
                    state[k] = None
                    if progress:
                        progress(len(results), table.num_clips)
                    if pending:
                        start(k)
    finally:
        for env in envs:
            env.close()
    return [results[c] for c in range(table.num_clips)]


def _result(env: TrackerEnv, s: dict, name: str, failed: bool, info: dict, record: bool) -> dict:
    errors = np.asarray(s["errors"]) if s["errors"] else np.array([np.inf])
    out = {
        "clip": name,
        "success": not failed,
        "fell": bool(info.get("fell") or info.get("exploded")),
        "deviated": bool(info.get("deviated")),
        "seconds": round((env.step_index - env.start_step) * env.dt, 3),
        "duration_s": round(env.table.duration(s["clip"]), 3),
        "mean_body_pos_error_mm": round(float(1000 * errors.mean()), 1),
        "max_body_pos_error_mm": round(float(1000 * errors.max()), 1),
    }
    if env.tracker_config.assist:
        out["assist_mean_n_per_kg"] = round(float(np.mean(s["assist"])) if s["assist"] else 0.0, 3)
    if record and s["frames"]:
        root_pos, root_rot, joint_rot = (np.stack(v) for v in zip(*s["frames"]))
        n = len(root_pos)
        out["simulated"] = CharacterMotion(env.character, np.full(n, env.dt), root_pos, rot.make_continuous(root_rot), rot.make_continuous(joint_rot), "none")
    return out


def summarize(results: Sequence[dict]) -> dict:
    """Success rate and mean error over ``results`` (the error over every tracked step's clip mean)."""
    if not results:
        return {"clips": 0, "success_rate": float("nan"), "mean_body_pos_error_mm": float("nan")}
    return {
        "clips": len(results),
        "succeeded": int(sum(r["success"] for r in results)),
        "success_rate": round(float(np.mean([r["success"] for r in results])), 4),
        "mean_body_pos_error_mm": round(float(np.mean([r["mean_body_pos_error_mm"] for r in results])), 1),
    }


def load_tracker(path: str | Path) -> TrackerPolicy:
    """The tracker in a policy zip written by ``vidmimic tracker train``, read without unpickling
    anything (:func:`control.policy_file.load_network`)."""
    from characters.errors import input_error
    from control.policy_file import load_network, parse_config

    loaded = load_network(path)
    if loaded.config.get("kind") != "tracker":
        raise input_error(path, "not a tracker policy: it imitates one clip (use `vidmimic evaluate POLICY` without --motion)")
    _, tracker_config = parse_config(path, loaded.config, tracker_config_from_json)
    return TrackerPolicy(loaded.network, None, tracker_config, path)


def reference_motion(path: str | Path) -> CharacterMotion:
    """A motion file of any supported format as the character's reference, as the tracker plays it
    (retargeted and cleaned like ``vidmimic convert``; a cyclic clip unrolled to 10 s)."""
    from characters.character import humanoid
    from control.motion_library import convert_clip

    return convert_clip(Path(path), humanoid())


def evaluate_on_motion(policy_path: str | Path, motion_path: str | Path, from_start: bool = False, episodes: int = 20,
                       seconds: float = 10.0, seed: int = 0, progress: Progress | None = None) -> dict:
    """A tracker on one motion file: one episode over the whole clip (``from_start``), or
    ``episodes`` deterministic episodes of ``seconds`` from random start times.

    ``success`` is PHC's: every episode reached its end without a fall and without the mean
    body-position error exceeding 0.5 m.
    """
    policy = load_tracker(policy_path)
    motion = reference_motion(motion_path)
    if from_start:
        results = follow_clips(policy, [motion], [Path(motion_path).name], lanes=1, progress=progress)
    else:
        results = _random_starts(policy, motion, episodes, seconds, seed, progress)
    falls = sum(r["fell"] for r in results)
    out = {
        "policy": str(policy_path),
        "motion": str(motion_path),
        "from_start": from_start,
        "episodes": len(results),
        "success": all(r["success"] for r in results),
        "success_rate": round(float(np.mean([r["success"] for r in results])), 4),
        "falls": int(falls),
        "deviations": int(sum(r["deviated"] for r in results)),
        "mean_episode_seconds": round(float(np.mean([r["seconds"] for r in results])), 3),
        "mean_body_pos_error_mm": round(float(np.mean([r["mean_body_pos_error_mm"] for r in results])), 1),
        "clip_seconds": round(motion.duration, 3),
        "assisted": policy.config.assist,
    }
    if policy.config.assist:
        # Assistance is reported, never counted as a physics-only success.
        out["assist_mean_n_per_kg"] = round(float(np.mean([r["assist_mean_n_per_kg"] for r in results])), 3)
    return out


def _random_starts(policy: TrackerPolicy, motion: CharacterMotion, episodes: int, seconds: float, seed: int, progress: Progress | None) -> list[dict]:
    config = evaluation_config(policy.config)
    config = replace(config, env=replace(config.env, episode_seconds=seconds))
    env = TrackerEnv([motion], config)
    rng = np.random.default_rng(seed)
    last_start = max(int(env.table.length[0]) - 2, 0)
    out = []
    try:
        policy.check_fits(env)
        for episode in range(episodes):
            obs, _ = env.reset(options={"clip": 0, "start_step": int(rng.integers(0, last_start + 1))})
            s = {"clip": 0, "errors": [], "frames": None, "assist": []}
            while True:
                obs, _, terminated, truncated, info = env.step(policy.act(obs[None])[0])
                if "assist_n_per_kg" in info:
                    s["assist"].append(info["assist_n_per_kg"])
                if not info.get("exploded"):
                    s["errors"].append(env.body_position_error())
                if terminated or truncated:
                    out.append(_result(env, s, "clip", bool(terminated), info, False))
                    break
            if progress:
                progress(episode + 1, episodes)
    finally:
        env.close()
    return out


def track(policy_path: str | Path, motion: CharacterMotion, progress: Progress | None = None) -> tuple[CharacterMotion, CharacterMotion, dict]:
    """Play ``motion`` once with the tracker from its first frame; returns the simulated motion,
    the reference over the same span, and the episode's figures (as :func:`follow_clips`)."""
    policy = load_tracker(policy_path)
    steps = int(round(motion.duration * policy.config.env.control_hz))
    result = follow_clips(policy, [motion], ["motion"], lanes=1, record=True,
                          progress=None if progress is None else (lambda done, total: progress(steps, steps)))[0]
    simulated, lift = lift_out_of_ground(result.pop("simulated"))  # soft contacts sink the feet; see control.ground_contact
    result["ground_lift_mm_median"] = round(1000 * float(np.median(lift)), 1)
    n = simulated.num_frames
    dt = 1.0 / policy.config.env.control_hz
    ref_root, ref_rot, ref_joints = motion.sample(np.arange(n) * dt)
    shown = CharacterMotion(motion.character, np.full(n, dt), ref_root, ref_rot, ref_joints, "none")
    return simulated, shown, result
