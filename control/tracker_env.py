"""``vidmimic/Track-v0``: the general motion tracker's environment.

The physics, stable PD, action (residual PD targets on the reference), reward and fall
detection are ``vidmimic/Imitate-v0``'s. What differs is what the policy sees and what it
follows: no phase, but the upcoming reference frames of whichever clip the episode plays,
expressed relative to the character, so one policy can follow any clip at any place and heading.

Observation, all vectors in the character's heading frame (its root yaw removed), ``B`` bodies:

* own state (``1 + 15 B``): root centre-of-mass height; every body's centre of mass relative
  to the root's (3), its rotation (first two matrix columns, 6), linear (3) and angular (3)
  velocity;
* for each of ``future_steps`` control steps ahead (``9 B + 1`` each): reference minus
  simulated body centre of mass (3), the reference body rotation relative to the simulated
  one (6), and the reference root height;
* for the next step (``6 B``): reference minus simulated linear and angular body velocities.

Episodes draw a clip (clips it failed on more often, as PHC's hard-negative mining) and a
start time (reference state initialisation). An episode ends on a fall (a body other than the
feet touches the ground), when the mean body-position error passes ``max_body_error_m``,
at the clip's end, or after ``episode_seconds``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import pybullet

from control.clip_table import ClipTable
from control.imitation_env import EnvConfig, ImitationEnv, shared_derived
from retargeting.character_motion import CharacterMotion


@dataclass(frozen=True)
class TrackerConfig:
    """Tracker settings; the physics, action and reward are ``env``'s."""

    env: EnvConfig = field(default_factory=lambda: EnvConfig(episode_seconds=10.0, max_root_deviation_m=0.0))
    future_steps: tuple[int, ...] = (1, 2, 4, 8, 16)
    """Reference frames shown to the policy, in control steps ahead (30 Hz: 33 ms to 0.53 s)."""
    max_body_error_m: float = 0.5
    """End a training episode when the mean body-position error (world) passes this. At 0.3 m,
    78 % of the early training episodes ended on this limit before any fall (docs/tracker.md)."""
    sampling_floor: float = 0.1
    """Weight of a clip that never fails, against up to 1 + this for one that always fails."""
    failure_memory: float = 0.05
    """Step of the running failure rate per finished episode of a clip."""
    assist: bool = False
    """Assistance (residual force control, Yuan & Kitani 2020): six more actions push the root
    with an external force and torque. Not physics alone: results with it never count as success figures."""
    assist_force: float = 10.0
    """N per kg of body mass per unit of action (up to about 1 g along each axis)."""
    assist_torque: float = 1.0
    """N·m per kg of body mass per unit of action."""


class ClipSampler:
    """Failure-weighted clip choice, shared by the environments of one process.

    Each clip keeps a running failure rate ``f`` (episodes ending in a fall or deviation);
    clip ``c`` is drawn with probability proportional to ``floor + f_c``. Unknown clips start
    at ``f = 1`` so every clip is tried early.
    """

    def __init__(self, num_clips: int, floor: float = 0.1, memory: float = 0.05):
        self.failure = np.ones(num_clips)
        self.episodes = np.zeros(num_clips, dtype=np.int64)
        self.floor = floor
        self.memory = memory

    def probabilities(self) -> np.ndarray:
        w = self.floor + self.failure
        return w / w.sum()

    def draw(self, rng: np.random.Generator) -> int:
        return int(rng.choice(len(self.failure), p=self.probabilities()))

    def record(self, clip: int, failed: bool) -> None:
        self.failure[clip] += self.memory * (float(failed) - self.failure[clip])
        self.episodes[clip] += 1


class TrackerEnv(ImitationEnv):
    """Follow any clip of a :class:`ClipTable` (see module docstring)."""

    def __init__(
        self, clips: ClipTable | Sequence[CharacterMotion], config: TrackerConfig = TrackerConfig(),
        sampler: ClipSampler | None = None,
    ):
        table = clips if isinstance(clips, ClipTable) else ClipTable(clips, rate_hz=config.env.control_hz)
        assert abs(table.rate - config.env.control_hz) < 1e-9, "the clip table must be sampled at the control rate"
        self.tracker_config = config
        self.table = table
        self.motion = None
        self._setup(table.character, config.env, table)
        self.sampler = sampler or ClipSampler(table.num_clips, config.sampling_floor, config.failure_memory)
        self._offsets = np.asarray(config.future_steps, dtype=int)
        self._ref_body_mats = shared_derived(table, "body_mats", lambda: _to_matrix32(table.body_rot))
        b = self.character.num_bodies
        obs_dim = 1 + 15 * b + len(self._offsets) * (9 * b + 1) + 6 * b
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(obs_dim,), dtype=np.float32)
        self._pd_actions = int(self.action_space.shape[0])
        if config.assist:
            self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(self._pd_actions + 6,), dtype=np.float32)
        mass = self.character.total_mass
        self._assist_scale = np.array([config.assist_force * mass] * 3 + [config.assist_torque * mass] * 3)
        self.clip = 0
        self.step_index = 0
        self.start_step = 0

    # ---- observation ---------------------------------------------------------------------
    def _observation(self) -> np.ndarray:
        frames, rots, com, lin, ang = self._state
        mats = self._mats
        heading = self._heading_matrix(mats[0])
        table = self.table
        b = len(rots)
        own_rot = np.matmul(heading, mats)[..., :2].reshape(-1)
        own_vec = (np.concatenate([com - com[0], lin, ang]) @ heading.T).reshape(3, b * 3)
        rows = table.rows_ahead(self.clip, self.step_index, self._offsets)
        ref_com = table.com_pos[rows]  # (K, B, 3)
        pos_diff = (ref_com - com) @ heading.T
        rel_rot = np.matmul(np.swapaxes(mats, -1, -2), self._ref_body_mats[rows])[..., :2]  # (K, B, 3, 2)
        future = np.concatenate([pos_diff.reshape(len(rows), -1), rel_rot.reshape(len(rows), -1), ref_com[:, 0, 1:2]], axis=1)
        vel_diff = (np.concatenate([table.body_lin_vel[rows[0]] - lin, table.body_ang_vel[rows[0]] - ang]) @ heading.T).reshape(-1)
        return np.concatenate([[com[0, 1]], own_vec[0], own_rot, own_vec[1], own_vec[2], future.reshape(-1), vel_diff]).astype(np.float32)

    # ---- errors --------------------------------------------------------------------------
    def row(self) -> int:
        """Table row the character is tracking now."""
        return int(self.table.start[self.clip] + min(self.step_index, self.table.length[self.clip] - 1))

    def body_position_error(self) -> float:
        """m, mean distance between simulated and reference body frames (world, PHC's measure)."""
        return float(np.linalg.norm(self._state[0] - self.table.body_pos[self.row()], axis=1).mean())

    def tracking_errors(self) -> dict[str, float]:
        frames = self._state[0]
        r = self.row()
        ref_pos = self.table.body_pos[r]
        local = np.linalg.norm((frames - frames[0]) - (ref_pos - ref_pos[0]), axis=1)
        return {
            "body_pos_error_mm": 1000.0 * self.body_position_error(),
            "local_body_pos_error_mm": float(1000.0 * local.mean()),
            "root_drift_m": float(np.linalg.norm(frames[0] - ref_pos[0])),
        }

    def current_pose(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        frames, rots = self._state[0], self._state[1]
        local = self._local_rotations(rots)
        return frames[0].copy(), local[0], local[1:]

    # ---- gym API -------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        gym.Env.reset(self, seed=seed)
        options = options or {}
        self.clip = int(options["clip"]) if "clip" in options else self.sampler.draw(self.np_random)
        length = int(self.table.length[self.clip])
        if "start_step" in options:
            start = int(options["start_step"])
        elif self.config.random_start:
            start = int(self.np_random.integers(0, max(length - 2, 1)))
        else:
            start = 0
        self.step_index = self.start_step = min(max(start, 0), length - 1)
        r = self.row()
        t = self.table
        self.sim.set_state(t.root_pos[r], t.root_rot[r], t.joint_rot[r], t.root_lin_vel[r], t.body_ang_vel[r, 0], t.joint_vel[r])
        self.time = self.step_index * self.dt
        self._read_state()
        return self._observation(), {"clip": self.clip, "start_step": self.step_index}

    def step(self, action: np.ndarray):
        self.step_index += 1
        self.time = self.step_index * self.dt
        r = self.row()
        action = np.minimum(np.maximum(action, -1.0), 1.0)
        targets = self._pd_targets_at(action[: self._pd_actions], r)
        wrench = action[self._pd_actions:] * self._assist_scale[: len(action) - self._pd_actions]
        for _ in range(self.substeps):
            self.sim.set_pd_targets(targets)
            if len(wrench):
                self.sim.push_root(wrench[:3].tolist(), wrench[3:].tolist(), self._state[2][0].tolist())
            pybullet.stepSimulation(physicsClientId=self._client_id)
        self._read_state()
        obs = self._observation()
        info: dict = {"clip": self.clip}
        if len(wrench):
            info["assist_n_per_kg"] = float(np.linalg.norm(wrench[:3])) / self.character.total_mass
        if not np.isfinite(obs).all() or abs(self._state[3]).max() > 100.0:
            info["exploded"] = True
            self.sampler.record(self.clip, failed=True)
            return np.zeros_like(obs), 0.0, True, False, info
        reward, terms = self._reward(r, np.zeros(3))
        info["reward_terms"] = terms
        terminated = False
        if self.config.early_termination and self.sim.illegal_contact(self.ground):
            terminated = info["fell"] = True
        elif self.tracker_config.max_body_error_m > 0 and self.body_position_error() > self.tracker_config.max_body_error_m:
            terminated = info["deviated"] = True
        at_end = self.step_index >= self.table.length[self.clip] - 1
        elapsed = (self.step_index - self.start_step) * self.dt
        truncated = not terminated and (at_end or elapsed >= self.config.episode_seconds - 1e-9)
        if terminated or truncated:
            self.sampler.record(self.clip, failed=terminated)
            info["clip_end"] = bool(at_end and not terminated)
        return obs, (0.0 if terminated else reward), terminated, truncated, info


def _to_matrix32(q: np.ndarray) -> np.ndarray:
    from characters import rotations as rot

    return rot.to_matrix(q).astype(np.float32)


def tracker_config_from_json(data: dict):
    """``(TrainConfig, TrackerConfig)`` of a tracker run or policy from its config.json contents."""
    from control.rewards import RewardSpec
    from control.train import TrainConfig

    train = TrainConfig(**{k: (tuple(v) if k == "net_arch" else v) for k, v in data["train"].items()})
    tracker = dict(data["tracker"])
    env = dict(tracker.pop("env"))
    env["reward"] = RewardSpec(**env["reward"])
    tracker["future_steps"] = tuple(tracker["future_steps"])
    return train, TrackerConfig(env=EnvConfig(**env), **tracker)
