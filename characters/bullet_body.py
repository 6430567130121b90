"""A :class:`Character` loaded into a PyBullet world: the one place that maps its bodies to links.

Code above this (environments, renderers, tests) calls these methods and never indexes
PyBullet joints itself. World is Y up (see ``characters.rotations``).
"""

from __future__ import annotations

import numpy as np
import pybullet
import pybullet_data
from pybullet_utils.bullet_client import BulletClient

from characters import rotations as rot
from characters.character import Character

# The ground plane shipped with pybullet is Z up; this turns it to Y up.
Z_UP_TO_Y_UP = tuple(rot.about_axis(np.array([1.0, 0.0, 0.0]), -np.pi / 2))


def connect(gui: bool = False) -> BulletClient:
    """A new PyBullet client (DIRECT unless ``gui``) with Y-up gravity and a ground plane at y = 0."""
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
