"""A simulated character: its bodies, joints, PD gains, limits, and what touches the ground.

A character is a URDF plus a small JSON spec (see ``characters/humanoid3d.json``). Adding a
second character means writing such a spec for its URDF; control and retargeting code read
everything from :class:`Character` and never name a body themselves.

Spec keys:
    ``urdf``: path, absolute, relative to the spec, or ``pybullet_data:<relative path>``.
    ``scale``: URDF length scale (PyBullet ``globalScaling``).
    ``forward``, ``up``: the character's rest-pose facing and up directions (world axes).
    ``joints``: per joint ``{"kp": N·m/rad, "kd": N·m·s/rad (default kp/10),
    "torque_limit": N·m}``; every spherical or revolute joint needs one.
    ``motion_joints``: the order of joints in a motion frame (DeepMimic file layout);
    default: URDF order.
    ``end_effectors``, ``contact_bodies``: body names (hands and feet; the bodies allowed to
    touch the ground).
    ``smpl_map``: per body ``[smpl_joint, "facing" | "bone"]`` for retargeting; "bone" aligns
    the rest direction towards the first mapped child body, "facing" only the body frame.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from characters import rotations as rot
from characters.errors import input_error
from characters.skeleton import Skeleton
from characters.urdf import Shape, read_urdf

_MASSLESS_KG = 1e-3


@dataclass(frozen=True, eq=False)  # identity equality: hashable, cacheable
class Character:
    """Bodies in URDF order, the root (floating base) first.

    Array attributes have one row per body ``B``; joint quantities of the root and of
    fixed joints are zero.
    """

    name: str
    urdf_path: Path
    scale: float
    skeleton: Skeleton
    joint_types: tuple[str, ...]  # "root", "spherical", "revolute" or "fixed" per body
    hinge_axes: np.ndarray  # (B, 3) unit axis of revolute joints in the joint frame
    joint_lower: np.ndarray  # (B,) rad, revolute limits
    joint_upper: np.ndarray  # (B,) rad
    kp: np.ndarray  # (B,) N·m/rad
    kd: np.ndarray  # (B,) N·m·s/rad
    torque_limit: np.ndarray  # (B,) N·m
    masses: np.ndarray  # (B,) kg
    com_offsets: np.ndarray  # (B, 3) m, centre of mass in the body frame
    shapes: tuple[tuple[Shape, ...], ...]  # collision primitives per body
    motion_joints: tuple[int, ...]  # body indices of a motion frame's joints, in file order
    end_effectors: tuple[int, ...]
    contact_bodies: tuple[int, ...]
    forward: np.ndarray  # (3,) rest-pose facing direction
    up: np.ndarray  # (3,)
    smpl_map: dict[str, tuple[str, str]]
    urdf_root_link: int  # PyBullet link index of body 0 (-1 when body 0 is the URDF base)

    @property
    def body_names(self) -> tuple[str, ...]:
        return self.skeleton.names

    @property
    def num_bodies(self) -> int:
        return len(self.skeleton)

    @property
    def lateral(self) -> np.ndarray:
        """``(3,)`` the character's right-hand side direction in the rest pose (forward x up)."""
        return np.cross(self.forward, self.up)

    def body(self, name: str) -> int:
        return self.skeleton.index(name)

    @functools.cached_property
    def motion_frame_layout(self) -> tuple[tuple[int, int], ...]:
        """``(body index, width)`` per motion joint: width 4 for spherical (quaternion), 1 for revolute."""
        return tuple((b, 4 if self.joint_types[b] == "spherical" else 1) for b in self.motion_joints)

    @functools.cached_property
    def mirror_bodies(self) -> np.ndarray:
        """``(B,)`` index of each body's left/right counterpart (itself on the midline)."""
        names = self.body_names
        swap = {"left": "right", "right": "left"}
        out = []
        for n in names:
            parts = n.split("_", 1)
            twin = f"{swap[parts[0]]}_{parts[1]}" if parts[0] in swap else n
            out.append(names.index(twin) if twin in names else names.index(n))
        return np.array(out)

    @property
    def total_mass(self) -> float:
        return float(self.masses.sum())

    def forward_kinematics(self, root_pos: np.ndarray, root_rot: np.ndarray, joint_rot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World body frames of whole clips, no physics step.

        Args:
            root_pos: ``(T, 3)`` m; root_rot: ``(T, 4)``; joint_rot: ``(T, M, 4)`` local
                rotations of the ``M`` motion joints (hinges as rotations about their axis).
        Returns:
            positions ``(T, B, 3)`` m and rotations ``(T, B, 4)`` of every body frame.
        """
        local = rot.identity((root_pos.shape[0], self.num_bodies))
        local[:, 0] = root_rot
        local[:, list(self.motion_joints)] = joint_rot
        return self.skeleton.forward_kinematics(root_pos, local)

    def center_of_mass(self, body_pos: np.ndarray, body_rot: np.ndarray) -> np.ndarray:
        """``(T, 3)`` m, whole-body centre of mass from body frames ``(T, B, 3)`` and ``(T, B, 4)``."""
        com = body_pos + rot.rotate(body_rot, np.broadcast_to(self.com_offsets, body_pos.shape))
        return np.einsum("b,tbk->tk", self.masses, com) / self.total_mass

    def lowest_heights(self, body_pos: np.ndarray, body_rot: np.ndarray, bodies: tuple[int, ...]) -> np.ndarray:
        """``(T, len(bodies))`` m, height (world Y) of the lowest collision point of each body."""
        out = np.full(body_pos.shape[:1] + (len(bodies),), np.inf)
        for k, b in enumerate(bodies):
            for shape in self.shapes[b]:
                points, radius = _shape_support_points(shape)
                world = body_pos[:, None, b] + rot.rotate(body_rot[:, None, b], np.broadcast_to(points, body_pos.shape[:1] + points.shape))
                out[:, k] = np.minimum(out[:, k], world[..., 1].min(axis=1) - radius)
            if not self.shapes[b]:
                out[:, k] = body_pos[:, b, 1]
        return out


def _shape_support_points(shape: Shape) -> tuple[np.ndarray, float]:
    """Points in the body frame whose lowest one, minus the returned radius, is the shape's lowest point."""
    if shape.kind == "box":
        half = np.array(shape.size) / 2.0
        corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]) * half
        return shape.position + rot.rotate(shape.rotation, corners), 0.0
    if shape.kind == "sphere":
        return shape.position[None], shape.size[0]
    radius, length = shape.size
    ends = np.array([[0, 0, -length / 2], [0, 0, length / 2]])
    if shape.kind == "cylinder":  # a cylinder's rim: sample its two end circles
        angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
        ring = np.stack([radius * np.cos(angles), radius * np.sin(angles), np.zeros(16)], -1)
        ends = np.concatenate([ring + ends[0], ring + ends[1]])
        radius = 0.0
    return shape.position + rot.rotate(shape.rotation, ends), radius


def resolve_urdf(spec_path: Path, urdf: str) -> Path:
    """Turn a spec's ``urdf`` entry into a path (``pybullet_data:`` prefix = inside the pybullet wheel)."""
    if urdf.startswith("pybullet_data:"):
        import pybullet_data

        return Path(pybullet_data.getDataPath()) / urdf.split(":", 1)[1]
    path = Path(urdf)
    return path if path.is_absolute() else spec_path.parent / path


def load_character(spec_path: str | Path) -> Character:
    """Build a :class:`Character` from a JSON spec (format in the module docstring)."""
    spec_path = Path(spec_path)
    try:
        spec = json.loads(spec_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise input_error(spec_path, f"cannot read character spec ({exc})") from None
    scale = float(spec.get("scale", 1.0))
    urdf_path = resolve_urdf(spec_path, spec["urdf"])
    links, joints = read_urdf(urdf_path, scale)
    link_by_name = {link.name: link for link in links}
    child_names = {j.child for j in joints}
    base = next(link.name for link in links if link.name not in child_names)

    # A massless, shapeless base welded to one child (the DeepMimic humanoid's "base") is
    # folded away so the character's root is the first real body.
    root_name, urdf_root_link, body_joints = base, -1, list(joints)
    base_joints = [j for j in joints if j.parent == base]
    if (
        link_by_name[base].mass < _MASSLESS_KG and not link_by_name[base].shapes and len(base_joints) == 1
        and base_joints[0].kind == "fixed" and np.allclose(base_joints[0].position, 0) and np.allclose(base_joints[0].rotation, rot.identity())
    ):
        root_name, urdf_root_link = base_joints[0].child, joints.index(base_joints[0])
        body_joints.remove(base_joints[0])

    names = [root_name] + [j.child for j in body_joints]
    parents = [-1] + [names.index(j.parent) for j in body_joints]
    offsets = np.array([np.zeros(3)] + [j.position for j in body_joints])
    rest_rot = np.array([rot.identity()] + [j.rotation for j in body_joints])
    types = ["root"] + [{"continuous": "revolute"}.get(j.kind, j.kind) for j in body_joints]
    unknown = sorted({t for t in types[1:] if t not in ("spherical", "revolute", "fixed")})
    if unknown:
        raise input_error(urdf_path, f"unsupported joint types {unknown}")
    n = len(names)
    gains = spec.get("joints", {})
    kp, kd, limit = np.zeros(n), np.zeros(n), np.zeros(n)
    for b, t in enumerate(types):
        if t in ("spherical", "revolute"):
            if names[b] not in gains:
                raise input_error(spec_path, f"joint {names[b]!r} has no PD gains")
            kp[b] = gains[names[b]]["kp"]
            kd[b] = gains[names[b]].get("kd", kp[b] / 10.0)
            limit[b] = gains[names[b]]["torque_limit"]
    order = spec.get("motion_joints", [nm for nm, t in zip(names, types) if t in ("spherical", "revolute")])

    def indices(key: str) -> tuple[int, ...]:
        missing = [nm for nm in spec.get(key, []) if nm not in names]
        if missing:
            raise input_error(spec_path, f"{key} names unknown bodies {missing}")
        return tuple(names.index(nm) for nm in spec.get(key, []))

    unknown_joints = [nm for nm in order if nm not in names or types[names.index(nm)] not in ("spherical", "revolute")]
    if unknown_joints:
        raise input_error(spec_path, f"motion_joints names bodies without a movable joint {unknown_joints}")
    motion_joints = tuple(names.index(nm) for nm in order)
    return Character(
        name=spec.get("name", spec_path.stem),
        urdf_path=urdf_path,
        scale=scale,
        skeleton=Skeleton(tuple(names), np.array(parents), offsets, rest_rot),
        joint_types=tuple(types),
        hinge_axes=np.array([np.zeros(3)] + [j.axis for j in body_joints]),
        joint_lower=np.array([0.0] + [j.lower for j in body_joints]),
        joint_upper=np.array([0.0] + [j.upper for j in body_joints]),
        kp=kp,
        kd=kd,
        torque_limit=limit,
        masses=np.array([link_by_name[nm].mass for nm in names]),
        com_offsets=np.array([link_by_name[nm].com for nm in names]),
        shapes=tuple(link_by_name[nm].shapes for nm in names),
        motion_joints=motion_joints,
        end_effectors=indices("end_effectors"),
        contact_bodies=indices("contact_bodies"),
        forward=np.asarray(spec.get("forward", [1.0, 0.0, 0.0]), dtype=float),
        up=np.asarray(spec.get("up", [0.0, 1.0, 0.0]), dtype=float),
        smpl_map={k: (v[0], v[1]) for k, v in spec.get("smpl_map", {}).items()},
        urdf_root_link=urdf_root_link,
    )


DEFAULT_SPEC = Path(__file__).with_name("humanoid3d.json")


@functools.cache
def humanoid() -> Character:
    """DeepMimic's humanoid3d (``pybullet_data/humanoid/humanoid.urdf`` at scale 0.25)."""
    return load_character(DEFAULT_SPEC)
