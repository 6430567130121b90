"""``vidmimic/Imitate-v0``: imitate a reference motion with a PD-controlled character in PyBullet.

Per control step (30 Hz by default): the action becomes stable-PD targets (residual on the
reference pose by default: exp-map offsets for spherical joints, angle offsets for hinges),
PyBullet steps ``physics_hz / control_hz`` times with its C++ ``STABLE_PD_CONTROL``, then the
state is read once and observation, reward and termination are computed with vectorised
numpy against a pre-tabulated reference (:mod:`control.reference`).

Observation (DeepMimic's state, in the root's heading frame): phase (and its sine and
cosine), root height, every body's centre-of-mass position relative to the root's, its
rotation (first two columns of the matrix), linear and angular velocity.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import pybullet

from characters import rotations as rot
from characters.bullet_body import SimBody, connect
from characters.character import Character, humanoid
from control.reference import ReferenceTable, relative_joint_velocity
from control.rewards import RewardSpec, imitation_reward, reward_from_errors
from retargeting.character_motion import CharacterMotion
from retargeting.convert import as_character, load_motion

_Y = np.array([0.0, 1.0, 0.0])


@dataclass(frozen=True)
class EnvConfig:
    """Environment settings; times in seconds, rates in Hz, angles in radians."""

    control_hz: float = 30.0
    """Policy rate: PD targets change this often."""
    physics_hz: float = 120.0
    """Simulation rate; a multiple of ``control_hz``. Chosen by ``benchmarks/pd_rate.py``."""
    contact_erp: float = 0.9
    """Contact error reduction per physics step. PyBullet's default (0.2) lets the stiff PD legs
    push the feet several cm into the ground at 120 Hz, so the shins touch down and end the
    episode; 0.9 halves those endings (``benchmarks/pd_rate.py``)."""
    episode_seconds: float = 20.0
    """Longest episode (cyclic clips keep going; others end with the clip)."""
    residual_actions: bool = True
    """Targets = reference pose + action (else the action is the absolute target)."""
    action_scale: float = 0.5
    """rad per unit of action."""
    random_start: bool = True
    """Reference state initialisation at a uniformly random phase."""
    early_termination: bool = True
    """End the episode when a body other than the feet touches the ground."""
    max_root_deviation_m: float = 1.0
    """Also end it when the root is this far from the reference root (0 disables)."""
    reward: RewardSpec = RewardSpec()


def shared_derived(reference, name: str, make):
    """An array derived from ``reference``'s columns, computed once and shared by every
    environment of the process that reads the same reference (a library is large)."""
    cache = reference.__dict__.setdefault("_derived", {})
    if name not in cache:
        cache[name] = make()
    return cache[name]


class ImitationEnv(gym.Env):
    """Imitation of one reference motion (see module docstring)."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, motion: str | Path | CharacterMotion, config: EnvConfig = EnvConfig(), character: Character | None = None):
        character = character or (motion.character if isinstance(motion, CharacterMotion) else humanoid())
        if not isinstance(motion, CharacterMotion):
            motion = as_character(load_motion(motion, character), character, cleanup=True)
        self.motion = motion
        self._setup(character, config, ReferenceTable(motion))
        obs_dim = 3 + 1 + character.num_bodies * 15
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(obs_dim,), dtype=np.float32)

    def _setup(self, character: Character, config: EnvConfig, reference) -> None:
        """Physics world, character and the per-row tables of ``reference`` (a
        :class:`ReferenceTable` or anything with its columns, e.g. a ``ClipTable``)."""
        substeps = config.physics_hz / config.control_hz
        assert abs(substeps - round(substeps)) < 1e-9 and substeps >= 1, "physics_hz must be a multiple of control_hz"
        self.config = config
        self.character = character
        self.reference = reference
        self.substeps = int(round(substeps))
        self.dt = 1.0 / config.control_hz
        self.client = connect()
        self.client.setTimeStep(1.0 / config.physics_hz)
        self.client.setPhysicsEngineParameter(numSubSteps=1, contactERP=config.contact_erp)
        self.ground = 0  # the plane is the first body connect() loads
        self.sim = SimBody(self.client, character)
        self._client_id = self.client._client

        joints = list(character.motion_joints)
        skel = character.skeleton
        self._joints = joints
        self._parents = skel.parents
        self._rest = skel.rest_rotations
        self._spherical = np.array([character.joint_types[b] == "spherical" for b in joints])
        self._hinge_axes = character.hinge_axes[joints]
        widths = np.where(self._spherical, 3, 1)
        slices = np.concatenate([[0], np.cumsum(widths)])
        self._sphere_joints = np.flatnonzero(self._spherical).tolist()
        self._hinge_joints = np.flatnonzero(~self._spherical).tolist()
        self._sphere_action = np.concatenate([np.arange(slices[k], slices[k + 1]) for k in self._sphere_joints])
        self._hinge_action = np.array([slices[k] for k in self._hinge_joints], dtype=int)
        self._ref_spheres = reference.joint_rot[:, self._sphere_joints]
        self._ref_sphere_left = shared_derived(reference, "sphere_left", lambda: rot.left_multiplication_matrices(self._ref_spheres))
        # PD targets are assembled in one flat array, then cut into PyBullet's per-joint lists.
        target_widths = np.where(self._spherical, 4, 1)
        target_starts = np.concatenate([[0], np.cumsum(target_widths)])
        self._target_flat = np.empty(int(target_starts[-1]))
        self._target_sphere_slots = np.concatenate([np.arange(target_starts[k], target_starts[k] + 4) for k in self._sphere_joints])
        self._target_hinge_slots = target_starts[self._hinge_joints]
        self._target_slices = list(zip(target_starts[:-1].tolist(), target_starts[1:].tolist()))
        hinge_rot = reference.joint_rot[:, self._hinge_joints]
        self._hinge_angles = shared_derived(
            reference, "hinge_angles",
            lambda: np.stack([rot.angle_about(hinge_rot[:, i], self._hinge_axes[k]) for i, k in enumerate(self._hinge_joints)], axis=1),
        )
        self._ee = list(character.end_effectors)
        self._mass = character.masses / character.total_mass
        self._forward = character.forward
        self._forward_yaw = math.atan2(-self._forward[2], self._forward[0])
        # The pose reward in matrix form (the root's world rotation, then each joint's local one).
        self._joint_parents = skel.parents[joints]
        rest = skel.rest_rotations[joints]
        self._rest_t = None if np.allclose(rest, rot.identity()) else np.swapaxes(rot.to_matrix(rest), -1, -2)
        self._ref_ee = shared_derived(reference, "ee", lambda: reference.body_pos[:, self._ee] - reference.root_pos[:, None])
        self._ref_local_mats = shared_derived(
            reference, "local_mats", lambda: rot.to_matrix(np.concatenate([reference.root_rot[:, None], reference.joint_rot], axis=1))
        )

        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(int(widths.sum()),), dtype=np.float32)
        self.time = 0.0
        self.start_time = 0.0
        self._state: tuple[np.ndarray, ...] | None = None

    # ---- actions -------------------------------------------------------------------------
    def pd_targets(self, action: np.ndarray, t: float) -> list[list[float]]:
        """Stable-PD targets for ``action (A,)`` at reference time ``t``."""
        return self._pd_targets_at(action, self.reference.index_and_shift(t)[0])

    def _pd_targets_at(self, action: np.ndarray, row: int) -> list[list[float]]:
        scaled = np.asarray(action, dtype=float) * self.config.action_scale
        offsets = rot.from_axis_angle(scaled[self._sphere_action].reshape(-1, 3))
        hinge = scaled[self._hinge_action]
        flat = self._target_flat
        if self.config.residual_actions:
            flat[self._target_sphere_slots] = np.matmul(self._ref_sphere_left[row], offsets[:, :, None]).reshape(-1)
            flat[self._target_hinge_slots] = hinge + self._hinge_angles[row]
        else:
            flat[self._target_sphere_slots] = offsets.reshape(-1)
            flat[self._target_hinge_slots] = hinge
        values = flat.tolist()
        return [values[a:b] for a, b in self._target_slices]

    # ---- state ---------------------------------------------------------------------------
    def _local_rotations(self, body_rot: np.ndarray) -> np.ndarray:
        """``(1 + M, 4)``: root world rotation then each motion joint's local rotation."""
        parents = self._parents[self._joints]
        local = rot.multiply(rot.conjugate(rot.multiply(body_rot[parents], self._rest[self._joints])), body_rot[self._joints])
        return np.concatenate([body_rot[:1], local])

    def _heading_matrix(self, root_matrix: np.ndarray) -> np.ndarray:
        """``(3, 3)`` rotation about +Y that undoes the root's yaw (rotation matrices: fewer numpy calls)."""
        f = root_matrix @ self._forward
        yaw = math.atan2(-f[2], f[0]) - self._forward_yaw
        c, s = math.cos(yaw), math.sin(yaw)
        # Rotation by -yaw about +Y.
        return np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]])

    def _observation(self) -> np.ndarray:
        frames, rots, com, lin, ang = self._state
        mats = self._mats
        heading = self._heading_matrix(mats[0])
        rel_rot = np.matmul(heading, mats)[..., :2].reshape(-1)
        vectors = np.concatenate([com - com[0], lin, ang]) @ heading.T
        b = len(rots)
        phase = self.reference.phase(self.time)
        head = np.array([phase, math.sin(2 * math.pi * phase), math.cos(2 * math.pi * phase), com[0, 1]])
        return np.concatenate([head, vectors[:b].reshape(-1), rel_rot, vectors[b:].reshape(-1)]).astype(np.float32)

    def _reward(self, i: int, shift: np.ndarray) -> tuple[float, dict[str, float]]:
        """Reward against reference grid row ``i`` (cycle offset ``shift``), matrix form of :mod:`control.rewards`."""
        frames, rots, com, lin, ang = self._state
        mats = self._mats
        ref = self.reference
        # Local rotation matrices of root + motion joints, and their angle to the reference's.
        joints_local = np.matmul(np.swapaxes(mats[self._joint_parents], -1, -2), mats[self._joints])
        if self._rest_t is not None:
            joints_local = np.matmul(self._rest_t, joints_local)
        local = np.concatenate([mats[:1], joints_local])
        # cos of each angle from the trace of R_ref^T R; squared sums as dot products (fewer numpy calls).
        cos = (np.einsum("jab,jab->j", self._ref_local_mats[i], local) - 1.0) * 0.5
        angles = np.arccos(np.minimum(np.maximum(cos, -1.0), 1.0))
        pose_err = float(angles @ angles)
        rel = ang[self._joints] - ang[self._joint_parents]
        vel_diff = (ref.joint_vel[i] - np.einsum("jab,ja->jb", mats[self._joints], rel)).ravel()  # R^T rel, per joint
        vel_err = float(vel_diff @ vel_diff)
        ee_diff = (self._ref_ee[i] - (frames[self._ee] - frames[0])).ravel()
        ee_err = float(ee_diff @ ee_diff)
        com_diff = ref.com[i] + shift - self._mass @ com
        com_err = float(com_diff @ com_diff)
        return reward_from_errors(pose_err, vel_err, ee_err, com_err, self.config.reward)

    def reward_reference_check(self) -> tuple[float, dict[str, float]]:
        """The same reward computed by :func:`control.rewards.imitation_reward` (quaternion form), for tests."""
        frames, rots, com, lin, ang = self._state
        ref = self.reference.pose(self.time)
        sim_local = self._local_rotations(rots)
        ref_local = np.concatenate([ref.root_rot[None], ref.joint_rot])
        sim_vel = relative_joint_velocity(rots, ang, self._parents, self._joints)
        sim_ee = frames[self._ee] - frames[0]
        ref_ee = ref.body_pos[self._ee] - ref.root_pos
        return imitation_reward(ref_local, sim_local, ref.joint_vel, sim_vel, ref_ee, sim_ee, ref.com, self._mass @ com, self.config.reward)

    def current_pose(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The simulated character now as motion-frame values: root position ``(3,)``,
        root rotation ``(4,)`` and local joint rotations ``(M, 4)``."""
        frames, rots = self._state[0], self._state[1]
        local = self._local_rotations(rots)
        return frames[0].copy(), local[0], local[1:]

    def tracking_errors(self) -> dict[str, float]:
        """Errors of the current state against the reference: mean joint angle (deg),
        mean root-relative body position error (mm) and root distance (m)."""
        frames, rots, com, lin, ang = self._state
        ref = self.reference.pose(self.time)
        angle = rot.geodesic_angle(self._local_rotations(rots)[1:], ref.joint_rot)
        body = np.linalg.norm((frames - frames[0]) - (ref.body_pos - ref.root_pos), axis=1)
        return {
            "pose_error_deg": float(np.degrees(angle.mean())),
            "body_pos_error_mm": float(1000 * body.mean()),
            "root_drift_m": float(np.linalg.norm(frames[0] - ref.root_pos)),
        }

    def _read_state(self) -> None:
        self._state = self.sim.read_state()
        self._mats = rot.to_matrix(self._state[1])

    # ---- gym API -------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        start = 0.0
        if self.config.random_start:
            span = self.reference.duration if self.reference.wrap else max(self.reference.duration - 2 * self.dt, 0.0)
            start = float(self.np_random.uniform(0.0, span))
        if options and "start_time" in options:
            start = float(options["start_time"])
        ref = self.reference.pose(start)
        self.sim.set_state(ref.root_pos, ref.root_rot, ref.joint_rot, ref.root_lin_vel, ref.body_ang_vel[0], ref.joint_vel)
        self.time = self.start_time = start
        self._read_state()
        return self._observation(), {"start_time": start}

    def step(self, action: np.ndarray):
        next_time = self.time + self.dt
        row, shift = self.reference.index_and_shift(next_time)
        targets = self._pd_targets_at(np.minimum(np.maximum(action, -1.0), 1.0), row)
        for _ in range(self.substeps):
            # PyBullet's STABLE_PD_CONTROL acts for one stepSimulation only: set it every substep.
            self.sim.set_pd_targets(targets)
            pybullet.stepSimulation(physicsClientId=self._client_id)
        self.time = next_time
        self._read_state()
        obs = self._observation()
        info: dict = {}
        if not np.isfinite(obs).all() or abs(self._state[3]).max() > 100.0:
            # The simulation blew up: end cleanly, never hand NaN to the learner.
            info["exploded"] = True
            return np.zeros_like(obs), 0.0, True, False, info
        reward, terms = self._reward(row, shift)
        info["reward_terms"] = terms
        terminated = False
        if self.config.early_termination and self.sim.illegal_contact(self.ground):
            terminated = True
            info["fell"] = True
        elif self.config.max_root_deviation_m > 0:
            deviation = self._state[0][0] - (self.reference.root_pos[row] + shift)
            if deviation @ deviation > self.config.max_root_deviation_m**2:
                terminated = True
                info["deviated"] = True
        elapsed = self.time - self.start_time
        truncated = not terminated and (
            elapsed >= self.config.episode_seconds - 1e-9 or (not self.reference.wrap and self.time >= self.reference.duration - 1e-9)
        )
        return obs, (0.0 if terminated else reward), terminated, truncated, info

    def close(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client = None

    def config_dict(self) -> dict:
        return asdict(self.config)
