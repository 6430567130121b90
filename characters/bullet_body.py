"""A :class:`Character` loaded into a PyBullet world: the one place that maps its bodies to links.

Code above this (environments, renderers, tests) calls these methods and never indexes
PyBullet joints itself. World is Y up (see ``characters.rotations``).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping

import numpy as np
import pybullet
import pybullet_data
from pybullet_utils.bullet_client import BulletClient

from characters import rotations as rot
from characters.character import Character

# The ground plane shipped with pybullet is Z up; this turns it to Y up.
Z_UP_TO_Y_UP = tuple(rot.about_axis(np.array([1.0, 0.0, 0.0]), -np.pi / 2))


@contextlib.contextmanager
def quiet_stdout():
    """Silence PyBullet's C-level prints (``argv[0]=``, URDF warnings) that would corrupt JSON output."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def connect(gui: bool = False) -> BulletClient:
    """A new PyBullet client (DIRECT unless ``gui``) with Y-up gravity and a ground plane at y = 0."""
    with quiet_stdout():
        client = BulletClient(connection_mode=pybullet.GUI if gui else pybullet.DIRECT)
        client.setAdditionalSearchPath(pybullet_data.getDataPath())
        client.setGravity(0, -9.8, 0)
        client.loadURDF("plane_implicit.urdf", [0, 0, 0], Z_UP_TO_Y_UP, useMaximalCoordinates=True)
    return client


class BulletBody:
    """One instance of ``character`` in ``client``."""

    def __init__(self, client: BulletClient, character: Character, fixed_base: bool = False, self_collision: bool = False):
        self.client = client
        self.character = character
        flags = client.URDF_MAINTAIN_LINK_ORDER | (client.URDF_USE_SELF_COLLISION if self_collision else 0)
        with quiet_stdout():
            self.id = client.loadURDF(str(character.urdf_path), [0, 0, 0], globalScaling=character.scale, useFixedBase=fixed_base, flags=flags)
        # PyBullet link index of each character body (body 0 is the root).
        self.links = np.arange(character.num_bodies) + character.urdf_root_link
        self.motion_links = [int(self.links[b]) for b in character.motion_joints]
        self._spherical = [character.joint_types[b] == "spherical" for b in character.motion_joints]
        self._hinge_axes = [character.hinge_axes[b] for b in character.motion_joints]

    def set_pose(self, root_pos: np.ndarray, root_rot: np.ndarray, joint_rot: np.ndarray) -> None:
        """Teleport to one pose: ``root_pos (3,)``, ``root_rot (4,)``, ``joint_rot (M, 4)``; zero velocities."""
        self.client.resetBasePositionAndOrientation(self.id, root_pos.tolist(), root_rot.tolist())
        targets = [
            q.tolist() if spherical else [float(rot.angle_about(q, axis))]
            for q, spherical, axis in zip(joint_rot, self._spherical, self._hinge_axes)
        ]
        self.client.resetJointStatesMultiDof(self.id, self.motion_links, targets)

    def body_positions(self) -> np.ndarray:
        """``(B, 3)`` m, world positions of the body (link) frames."""
        states = self.client.getLinkStates(self.id, [int(i) for i in self.links if i >= 0], computeForwardKinematics=True)
        frames = [s[4] for s in states]
        if self.links[0] < 0:
            frames.insert(0, self.client.getBasePositionAndOrientation(self.id)[0])
        return np.array(frames)

    def set_color(self, rgba: tuple[float, float, float, float]) -> None:
        """Colour every link (and the base) of this body."""
        for link in range(-1, self.client.getNumJoints(self.id)):
            self.client.changeVisualShape(self.id, link, rgbaColor=list(rgba))

    def set_outfit(self, colours: Mapping[str, tuple[float, float, float, float]]) -> None:
        """Colour bodies by name (``character.body_names``); bodies not named keep their colour."""
        for name, rgba in colours.items():
            link = int(self.links[self.character.body_names.index(name)])
            self.client.changeVisualShape(self.id, link, rgbaColor=list(rgba))


class SimBody(BulletBody):
    """A simulated (floating-base) character driven by PyBullet's stable PD controller."""

    def __init__(self, client: BulletClient, character: Character):
        super().__init__(client, character, fixed_base=False, self_collision=False)
        for link in range(-1, client.getNumJoints(self.id)):
            client.changeDynamics(self.id, link, lateralFriction=0.9, linearDamping=0.0, angularDamping=0.0)
        # The URDF's default velocity motors would fight the PD controller (bullet3 #2510).
        zero = [[0.0, 0.0, 0.0] if s else [0.0] for s in self._spherical]
        client.setJointMotorControlMultiDofArray(self.id, self.motion_links, client.POSITION_CONTROL, targetPositions=[[0, 0, 0, 1] if s else [0.0] for s in self._spherical], forces=zero, positionGains=[0.0] * len(zero), velocityGains=[0.0] * len(zero))
        joints = list(character.motion_joints)
        self._kp = [float(character.kp[b]) for b in joints]
        self._kd = [float(character.kd[b]) for b in joints]
        self._max_force = [[float(character.torque_limit[b])] * (3 if s else 1) for b, s in zip(joints, self._spherical)]
        self._zero_vel = [[0.0, 0.0, 0.0] if s else [0.0] for s in self._spherical]
        self._state_links = [int(i) for i in self.links if i >= 0]
        self.allowed_contacts = {int(self.links[b]) for b in character.contact_bodies}

    def set_pd_targets(self, targets: list[list[float]]) -> None:
        """Stable-PD targets per motion joint: a quaternion (x,y,z,w) or ``[angle]``, for the next step only."""
        # Raw pybullet call with the client id: BulletClient's wrapper costs a few us per call.
        pybullet.setJointMotorControlMultiDofArray(
            self.id, self.motion_links, pybullet.STABLE_PD_CONTROL,
            targetPositions=targets, targetVelocities=self._zero_vel, forces=self._max_force,
            positionGains=self._kp, velocityGains=self._kd, physicsClientId=self.client._client,
        )

    def set_state(self, root_pos, root_rot, joint_rot, root_lin_vel, root_ang_vel, joint_vel) -> None:
        """Teleport with velocities: root ``(3,)``, ``(4,)``, joints ``(M, 4)``; velocities m/s and rad/s
        (root world frame; joints ``(M, 3)`` relative angular velocity in the child frame)."""
        self.client.resetBasePositionAndOrientation(self.id, root_pos.tolist(), root_rot.tolist())
        self.client.resetBaseVelocity(self.id, root_lin_vel.tolist(), root_ang_vel.tolist())
        targets, velocities = [], []
        for q, w, spherical, axis in zip(joint_rot, joint_vel, self._spherical, self._hinge_axes):
            if spherical:
                targets.append(q.tolist())
                velocities.append(w.tolist())
            else:
                targets.append([float(rot.angle_about(q, axis))])
                velocities.append([float(w @ axis)])
        self.client.resetJointStatesMultiDof(self.id, self.motion_links, targets, velocities)

    def read_state(self) -> tuple[np.ndarray, ...]:
        """``(B, 3)`` body frame origins, ``(B, 4)`` rotations, ``(B, 3)`` COM positions,
        ``(B, 3)`` COM linear velocities and ``(B, 3)`` angular velocities (world)."""
        cid = self.client._client  # raw pybullet calls: BulletClient's wrapper costs a few us each
        # computeForwardKinematics=0 would return stale link velocities.
        states = pybullet.getLinkStates(self.id, self._state_links, computeLinkVelocity=1, computeForwardKinematics=1, physicsClientId=cid)
        rows = [s[0] + s[1] + s[4] + s[6] + s[7] for s in states]
        if self.links[0] < 0:  # body 0 is the URDF base, which getLinkStates does not report
            base_pos, base_rot = pybullet.getBasePositionAndOrientation(self.id, physicsClientId=cid)
            base_lin, base_ang = pybullet.getBaseVelocity(self.id, physicsClientId=cid)
            rows.insert(0, base_pos + base_rot + base_pos + base_lin + base_ang)
        table = np.array(rows)
        return table[:, 7:10], table[:, 3:7], table[:, 0:3], table[:, 10:13], table[:, 13:16]

    def push_root(self, force: list[float], torque: list[float], at: list[float]) -> None:
        """Apply an external ``force`` (N) at world point ``at`` and a ``torque`` (N·m) to the root
        body, both in the world frame, for the next physics step only (PyBullet clears them)."""
        cid, link = self.client._client, int(self.links[0])
        pybullet.applyExternalForce(self.id, link, force, at, pybullet.WORLD_FRAME, physicsClientId=cid)
        pybullet.applyExternalTorque(self.id, link, torque, pybullet.WORLD_FRAME, physicsClientId=cid)

    def illegal_contact(self, ground_id: int) -> bool:
        """True if any body other than the allowed contact bodies touches ``ground_id``."""
        points = pybullet.getContactPoints(bodyA=self.id, bodyB=ground_id, physicsClientId=self.client._client)
        return any(pt[3] not in self.allowed_contacts for pt in points)
