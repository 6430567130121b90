"""glTF 2.0 binary (``.glb``) export of a character motion.

One node per body (rest offset as its translation, animated rotation; the root also has
animated translation) and, under each, mesh nodes for the body's collision primitives, so
the file shows the character in any glTF viewer (Blender, three.js). glTF is Y up, metres
and x, y, z, w quaternions, the same as vidmimic's world.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from characters import rotations as rot
from characters.errors import atomic_output
from characters.urdf import Shape
from retargeting.character_motion import CharacterMotion

_FLOAT, _UINT16 = 5126, 5123
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963


def _sphere_grid(radius: float, half_length: float, rings: int = 8, segments: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A UV sphere around local z, its two halves pulled apart by ``half_length`` (a capsule when > 0)."""
    lat = np.concatenate([np.linspace(-np.pi / 2, 0, rings // 2 + 1), np.linspace(0, np.pi / 2, rings // 2 + 1)])
    shift = np.concatenate([np.full(rings // 2 + 1, -half_length), np.full(rings // 2 + 1, half_length)])
    lon = np.linspace(0, 2 * np.pi, segments + 1)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    normals = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], -1)
    positions = radius * normals + np.stack([np.zeros_like(la), np.zeros_like(la), np.broadcast_to(shift[:, None], la.shape)], -1)
    rows, cols = la.shape
    idx = np.arange(rows * cols).reshape(rows, cols)
    a, b, c, d = idx[:-1, :-1], idx[1:, :-1], idx[1:, 1:], idx[:-1, 1:]
    tris = np.concatenate([np.stack([a, d, c], -1).reshape(-1, 3), np.stack([a, c, b], -1).reshape(-1, 3)])
    return positions.reshape(-1, 3), normals.reshape(-1, 3), tris


def _box(size: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    half = np.array(size) / 2.0
    positions, normals, tris = [], [], []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            n = np.zeros(3)
            n[axis] = sign
            u, v = np.eye(3)[(axis + 1) % 3], np.eye(3)[(axis + 2) % 3]
            if sign < 0:
                u, v = v, u  # keep counter-clockwise winding seen from outside
            base = len(positions)
            for du, dv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                positions.append((n + du * u + dv * v) * half)
                normals.append(n)
            tris += [[base, base + 1, base + 2], [base, base + 2, base + 3]]
    return np.array(positions), np.array(normals), np.array(tris)


def shape_mesh(shape: Shape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Triangle mesh of a collision primitive: positions ``(V, 3)``, normals ``(V, 3)``, triangles ``(F, 3)``."""
    if shape.kind == "box":
        return _box(shape.size)
    if shape.kind == "sphere":
        return _sphere_grid(shape.size[0], 0.0)
    return _sphere_grid(shape.size[0], shape.size[1] / 2.0)  # capsule; cylinders drawn as capsules


class _Builder:
    """Accumulates one binary buffer with its views and accessors."""

    def __init__(self) -> None:
        self.blob = bytearray()
        self.views: list[dict] = []
        self.accessors: list[dict] = []

    def add(self, array: np.ndarray, kind: str, component: int, target: int | None = None, bounds: bool = False) -> int:
        data = np.ascontiguousarray(array, dtype=np.float32 if component == _FLOAT else np.uint16)
        while len(self.blob) % 4:
            self.blob.append(0)
        view = {"buffer": 0, "byteOffset": len(self.blob), "byteLength": data.nbytes}
        if target is not None:
            view["target"] = target
        self.blob += data.tobytes()
        self.views.append(view)
        count = data.shape[0] if kind != "SCALAR" or data.ndim == 1 else data.size
        accessor = {"bufferView": len(self.views) - 1, "componentType": component, "count": int(count), "type": kind}
        if bounds:
            flat = data.reshape(count, -1)
            accessor["min"] = [float(v) for v in flat.min(axis=0)]
            accessor["max"] = [float(v) for v in flat.max(axis=0)]
        self.accessors.append(accessor)
        return len(self.accessors) - 1


def build_glb(motion: CharacterMotion, rgba: tuple[float, float, float, float] = (0.25, 0.5, 0.85, 1.0)) -> bytes:
    """The GLB bytes of ``motion`` (see module docstring)."""
    motion.validate()
    character = motion.character
    skel = character.skeleton
    frames = motion.num_frames
    local = rot.identity((frames, character.num_bodies))
    local[:, 0] = motion.root_rot
    local[:, list(character.motion_joints)] = motion.joint_rot
    node_rot = rot.make_continuous(rot.multiply(skel.rest_rotations, local), axis=0)
    b = _Builder()
    nodes: list[dict] = []
    meshes: list[dict] = []
    for body, name in enumerate(character.body_names):
        nodes.append({"name": name, "translation": [float(v) for v in skel.offsets[body]], "rotation": [float(v) for v in node_rot[0, body]], "children": []})
    for body in range(character.num_bodies):
        for k, shape in enumerate(character.shapes[body]):
            positions, normals, tris = shape_mesh(shape)
            primitive = {
                "attributes": {
                    "POSITION": b.add(positions, "VEC3", _FLOAT, _ARRAY_BUFFER, bounds=True),
                    "NORMAL": b.add(normals, "VEC3", _FLOAT, _ARRAY_BUFFER),
                },
                "indices": b.add(tris.reshape(-1), "SCALAR", _UINT16, _ELEMENT_ARRAY_BUFFER),
                "material": 0,
            }
            meshes.append({"name": f"{character.body_names[body]}_{shape.kind}{k}", "primitives": [primitive]})
            nodes.append({"name": meshes[-1]["name"], "mesh": len(meshes) - 1, "translation": [float(v) for v in shape.position], "rotation": [float(v) for v in shape.rotation]})
            nodes[body]["children"].append(len(nodes) - 1)
    for body, parent in enumerate(skel.parents):
        if parent >= 0:
            nodes[parent]["children"].append(body)
    for node in nodes:
        if "children" in node and not node["children"]:
            del node["children"]
    nodes[0]["translation"] = [float(v) for v in motion.root_pos[0]]

    times = b.add(motion.times, "SCALAR", _FLOAT, bounds=True)
    samplers = [{"input": times, "output": b.add(motion.root_pos, "VEC3", _FLOAT), "interpolation": "LINEAR"}]
    channels = [{"sampler": 0, "target": {"node": 0, "path": "translation"}}]
    for body in [0] + list(character.motion_joints):
        samplers.append({"input": times, "output": b.add(node_rot[:, body], "VEC4", _FLOAT), "interpolation": "LINEAR"})
        channels.append({"sampler": len(samplers) - 1, "target": {"node": body, "path": "rotation"}})

    while len(b.blob) % 4:
        b.blob.append(0)
    doc = {
        "asset": {"version": "2.0", "generator": "vidmimic"},
        "scene": 0,
        "scenes": [{"name": character.name, "nodes": [0]}],
        "nodes": nodes,
        "meshes": meshes,
        "materials": [{"name": "body", "pbrMetallicRoughness": {"baseColorFactor": list(rgba), "metallicFactor": 0.0, "roughnessFactor": 0.7}}],
        "animations": [{"name": "motion", "samplers": samplers, "channels": channels}],
        "accessors": b.accessors,
        "bufferViews": b.views,
        "buffers": [{"byteLength": len(b.blob)}],
    }
    text = json.dumps(doc, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)
    total = 12 + 8 + len(text) + 8 + len(b.blob)
    return (
        struct.pack("<III", 0x46546C67, 2, total)
        + struct.pack("<II", len(text), 0x4E4F534A) + text
        + struct.pack("<II", len(b.blob), 0x004E4942) + bytes(b.blob)
    )


def write_glb(path: str | Path, motion: CharacterMotion) -> None:
    """Write ``motion`` as a GLB file, atomically."""
    data = build_glb(motion)
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
