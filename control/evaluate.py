"""Run a trained policy: evaluation figures (``vidmimic evaluate``) and replay (``vidmimic replay``)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from characters import rotations as rot
from characters.character import humanoid
from control.ground_contact import lift_out_of_ground
from control.imitation_env import EnvConfig, ImitationEnv
from control.policy_file import PolicyNetwork, load_network, parse_config
from control.train import config_from_json
from retargeting.character_motion import CharacterMotion
from retargeting.deepmimic_file import read_deepmimic

Progress = Callable[[int, int], None]


@dataclass
class LoadedPolicy:
    network: PolicyNetwork
    motion: CharacterMotion
    env_config: EnvConfig

    def act(self, obs: np.ndarray) -> np.ndarray:
        """``(A,)`` deterministic action for one ``(O,)`` observation."""
        return self.network.act(obs)


def load_policy(path: str | Path) -> LoadedPolicy:
    """A policy zip written by ``vidmimic train`` (network, normalisation, motion, config), read
    without unpickling anything (:func:`control.policy_file.load_network`)."""
    from characters.errors import InputError, input_error

    loaded = load_network(path)
    if loaded.motion_text is None:
        raise input_error(path, "a general tracker has no clip of its own: give it one with `vidmimic evaluate POLICY --motion FILE` or `vidmimic track`")
    _, env_config = parse_config(path, loaded.config, config_from_json)
    with tempfile.TemporaryDirectory() as tmp:
        motion_path = Path(tmp) / "motion.txt"
        motion_path.write_text(loaded.motion_text)
        try:
            motion = read_deepmimic(motion_path, humanoid())
        except InputError as exc:
            raise input_error(path, f"its vidmimic/motion.txt is unusable ({str(exc).removeprefix(f'{motion_path}: ')})") from None
    return LoadedPolicy(loaded.network, motion, env_config)


def evaluate(policy_path: str | Path, episodes: int = 20, seconds: float = 10.0, seed: int = 0, progress: Progress | None = None,
             per_episode: bool = False) -> dict:
    """Deterministic rollouts from random reference phases; figures averaged over all steps.

    A fall is an episode ended by a body other than the feet touching the ground (or by the
    simulation exploding) before ``seconds``. Root drift is the distance between the
    simulated and reference roots at the end of each episode. With ``per_episode``, the result
    also lists each episode's start phase (0-1 of the clip), seconds and whether it fell.
    """
    policy = load_policy(policy_path)
    config = replace(policy.env_config, episode_seconds=seconds, max_root_deviation_m=0.0, early_termination=True)
    env = ImitationEnv(policy.motion, config)
    rng = np.random.default_rng(seed)
    falls = explosions = 0
    lengths, pose, body, drift, rewards, details = [], [], [], [], [], []
    try:
        policy.network.check_fits(env, policy_path)
        for episode in range(episodes):
            obs, _ = env.reset(seed=int(rng.integers(1 << 31)))
            start_phase = float(env.reference.phase(env.time))
            steps = 0
            while True:
                obs, reward, terminated, truncated, info = env.step(policy.act(obs))
                steps += 1
                rewards.append(reward)
                if not info.get("exploded"):
                    errors = env.tracking_errors()
                    pose.append(errors["pose_error_deg"])
                    body.append(errors["body_pos_error_mm"])
                if terminated or truncated:
                    falls += int(terminated)
                    details.append({"start_phase": round(start_phase, 3), "seconds": round(steps * env.dt, 2), "fell": bool(terminated)})
                    explosions += int(bool(info.get("exploded")))
                    drift.append(env.tracking_errors()["root_drift_m"] if not info.get("exploded") else float("nan"))
                    break
            lengths.append(steps * env.dt)
            if progress:
                progress(episode + 1, episodes)
    finally:
        env.close()
    result = {
        "policy": str(policy_path),
        "episodes": episodes,
        "seconds": seconds,
        "falls": falls,
        "explosions": explosions,
        "mean_episode_seconds": float(np.mean(lengths)),
        "mean_pose_error_deg": float(np.mean(pose)),
        "mean_body_pos_error_mm": float(np.mean(body)),
        "mean_root_drift_m": float(np.nanmean(drift)),
        "mean_reward": float(np.mean(rewards)),
    }
    if per_episode:
        result["per_episode"] = details
    return result


def replay(policy_path: str | Path, seconds: float | None = None, progress: Progress | None = None) -> tuple[CharacterMotion, CharacterMotion, dict]:
    """Run the policy from the clip's start; returns the simulated motion, the reference over
    the same span, and the episode's figures. The simulated motion is sampled at the control rate."""
    policy = load_policy(policy_path)
    reference = policy.motion
    if seconds is None:
        seconds = 10.0 if reference.loop == "wrap" else reference.duration
    config = replace(policy.env_config, episode_seconds=seconds, max_root_deviation_m=0.0, random_start=False)
    env = ImitationEnv(reference, config)
    frames: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    fell = False
    try:
        policy.network.check_fits(env, policy_path)
        obs, _ = env.reset(options={"start_time": 0.0})
        total = int(round(seconds * config.control_hz))

        frames.append(env.current_pose())
        for step in range(total):
            obs, _, terminated, truncated, info = env.step(policy.act(obs))
            if info.get("exploded"):
                fell = True
                break
            frames.append(env.current_pose())
            if progress:
                progress(step + 1, total)
            if terminated or truncated:
                fell = bool(terminated)
                break
    finally:
        env.close()
    root_pos, root_rot, joint_rot = (np.stack(v) for v in zip(*frames))
    n = len(frames)
    dt = 1.0 / config.control_hz
    simulated = CharacterMotion(reference.character, np.full(n, dt), root_pos, rot.make_continuous(root_rot), rot.make_continuous(joint_rot), "none")
    simulated, lift = lift_out_of_ground(simulated)  # soft contacts sink the feet; see control.ground_contact
    ref_root, ref_rot, ref_joints = reference.sample(np.arange(n) * dt)
    shown_reference = CharacterMotion(reference.character, np.full(n, dt), ref_root, ref_rot, ref_joints, "none")
    return simulated, shown_reference, {"seconds": (n - 1) * dt, "fell": fell, "ground_lift_mm_median": round(1000 * float(np.median(lift)), 1)}
