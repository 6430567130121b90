"""Read the parts of a URDF file that a character description needs (no simulator involved)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from characters import rotations as rot
from characters.errors import input_error


@dataclass(frozen=True)
class Shape:
    """A collision primitive in its body's frame.

    ``kind`` is ``sphere`` (size = radius,), ``box`` (size = full extents x, y, z),
    ``capsule`` or ``cylinder`` (size = radius, length; axis = local z of ``rotation``).
    ``position`` ``(3,)`` m and ``rotation`` ``(4,)`` xyzw place it in the body frame.
    """

    kind: str
    size: tuple[float, ...]
    position: np.ndarray
    rotation: np.ndarray


@dataclass(frozen=True)
class UrdfLink:
    name: str
    mass: float
    com: np.ndarray
    shapes: tuple[Shape, ...]


@dataclass(frozen=True)
class UrdfJoint:
    name: str
    kind: str
    parent: str
    child: str
    position: np.ndarray
    rotation: np.ndarray
    axis: np.ndarray
    lower: float
    upper: float


def _origin(element: ET.Element | None, scale: float) -> tuple[np.ndarray, np.ndarray]:
    if element is None:
        return np.zeros(3), rot.identity()
    xyz = np.array([float(v) for v in element.get("xyz", "0 0 0").split()]) * scale
    rpy = np.array([float(v) for v in element.get("rpy", "0 0 0").split()])
    # URDF rpy: fixed-axis roll about X, then pitch about Y, then yaw about Z = intrinsic ZYX.
    return xyz, rot.from_euler(rpy[::-1], "ZYX")


def _shape(collision: ET.Element, scale: float) -> Shape | None:
    geometry = collision.find("geometry")
    if geometry is None or len(geometry) == 0:
        return None
    g = geometry[0]
    position, rotation = _origin(collision.find("origin"), scale)
    if g.tag == "sphere":
        size: tuple[float, ...] = (float(g.get("radius")) * scale,)
    elif g.tag == "box":
        size = tuple(float(v) * scale for v in g.get("size").split())
    elif g.tag in ("capsule", "cylinder"):
        size = (float(g.get("radius")) * scale, float(g.get("length")) * scale)
    else:  # meshes are rendered by the simulator but not used for ground contact here
        return None
    return Shape(g.tag, size, position, rotation)


def read_urdf(path: str | Path, scale: float = 1.0) -> tuple[list[UrdfLink], list[UrdfJoint]]:
    """Links and joints of a URDF in file order, lengths multiplied by ``scale``."""
    try:
        # Some shipped URDFs (pybullet_data's humanoid) end in a NUL byte that PyBullet ignores.
        root = ET.fromstring(Path(path).read_bytes().rstrip(b"\0 \r\n\t"))
    except (OSError, ET.ParseError) as exc:
        raise input_error(path, f"cannot read URDF ({exc})") from None
    links = []
    for link in root.findall("link"):
        inertial = link.find("inertial")
        mass = 0.0
        com = np.zeros(3)
        if inertial is not None:
            mass_el = inertial.find("mass")
            mass = float(mass_el.get("value")) if mass_el is not None else 0.0
            com, _ = _origin(inertial.find("origin"), scale)
        shapes = tuple(s for c in link.findall("collision") if (s := _shape(c, scale)) is not None)
        links.append(UrdfLink(link.get("name"), mass, com, shapes))
    joints = []
    for joint in root.findall("joint"):
        position, rotation = _origin(joint.find("origin"), scale)
        axis_el = joint.find("axis")
        axis = np.array([float(v) for v in axis_el.get("xyz").split()]) if axis_el is not None else np.array([1.0, 0, 0])
        limit = joint.find("limit")
        lower = float(limit.get("lower", "-inf")) if limit is not None else -np.inf
        upper = float(limit.get("upper", "inf")) if limit is not None else np.inf
        joints.append(
            UrdfJoint(
                joint.get("name"), joint.get("type"), joint.find("parent").get("link"), joint.find("child").get("link"),
                position, rotation, axis / np.linalg.norm(axis), lower, upper,
            )
        )
    return links, joints
