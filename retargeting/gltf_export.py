"""glTF 2.0 binary (``.glb``) export of a character motion as a skinned mesh with a skeleton.

What the file holds, so Blender imports an armature and three.js builds a ``SkinnedMesh``:

- one joint node per body, named as the BVH export names its bones (``root``, ``chest``,
  ``right_knee`` ...), parented like the character's kinematic tree, each at its rest offset;
  their node transforms are the bind pose (every joint at rest, feet on the ground, root above
  the origin);
- a ``skin`` over those joints with their inverse bind matrices;
- one mesh, the character's collision primitives (spheres, capsules, boxes) in the bind pose,
  each vertex weighted 1.0 to the joint of its body (rigid skinning);
- one animation, ``motion``, keyed at every frame of the motion (its own rate, given in the
  animation's ``extras.fps``; ``extras.loop`` is ``"wrap"`` for a cycle meant to repeat, each
  repeat going on from where the last ended, else ``"none"``): a rotation channel per moving
  joint and the root's translation.

glTF is Y up, metres and x, y, z, w quaternions, the same as vidmimic's world.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from characters import rotations as rot
from characters.character import Character
from characters.errors import atomic_output
from characters.urdf import Shape
from retargeting.character_motion import CharacterMotion
from retargeting.gltf_binary import (
    ARRAY_BUFFER,
    ELEMENT_ARRAY_BUFFER,
    FLOAT,
    UNSIGNED_BYTE,
    UNSIGNED_INT,
    UNSIGNED_SHORT,
    BufferBuilder,
    pack_glb,
)


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
    """Triangle mesh of a collision primitive in its own frame: positions ``(V, 3)`` m, normals ``(V, 3)``, triangles ``(F, 3)``."""
    if shape.kind == "box":
        return _box(shape.size)
    if shape.kind == "sphere":
        return _sphere_grid(shape.size[0], 0.0)
    return _sphere_grid(shape.size[0], shape.size[1] / 2.0)  # capsule; cylinders drawn as capsules


def body_meshes(character: Character) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The character's collision primitives as one mesh in the body frames.

    Returns positions ``(V, 3)`` m and normals ``(V, 3)``, each in the frame of its body,
    the body index of each vertex ``(V,)``, and triangles ``(F, 3)`` indexing the vertices.
    """
    positions, normals, bodies, tris = [], [], [], []
    count = 0
    for body in range(character.num_bodies):
        for shape in character.shapes[body]:
            p, n, t = shape_mesh(shape)
            positions.append(rot.rotate(np.broadcast_to(shape.rotation, (len(p), 4)), p) + shape.position)
            normals.append(rot.rotate(np.broadcast_to(shape.rotation, (len(n), 4)), n))
            bodies.append(np.full(len(p), body))
            tris.append(t + count)
            count += len(p)
    return np.concatenate(positions), np.concatenate(normals), np.concatenate(bodies), np.concatenate(tris)


def bind_pose(character: Character) -> tuple[np.ndarray, np.ndarray]:
    """World positions ``(B, 3)`` m and rotations ``(B, 4)`` of the bodies at rest (every joint
    rotation identity), the root above the origin at the height that puts the lowest point of
    the mesh on the ground (y = 0)."""
    rest = rot.identity((1, character.num_bodies))
    positions, rotations = character.skeleton.forward_kinematics(np.zeros((1, 3)), rest)
    local, _, bodies, _ = body_meshes(character)
    lowest = (rot.rotate(rotations[0, bodies], local) + positions[0, bodies])[:, 1].min()
    return positions[0] - [0.0, lowest, 0.0], rotations[0]


def _inverse_bind_matrices(positions: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """``(B, 16)`` column-major inverses of the joints' bind transforms (glTF's layout)."""
    r_t = np.swapaxes(rot.to_matrix(rotations), -1, -2)
    inverse = np.tile(np.eye(4), (len(positions), 1, 1))
    inverse[:, :3, :3] = r_t
    inverse[:, :3, 3] = -np.einsum("bij,bj->bi", r_t, positions)
    return np.swapaxes(inverse, -1, -2).reshape(-1, 16)  # row-major of the transpose = column-major


def build_glb(motion: CharacterMotion, rgba: tuple[float, float, float, float] = (0.25, 0.5, 0.85, 1.0)) -> bytes:
    """The GLB bytes of ``motion`` (see module docstring); an irregularly timed clip is resampled at its median rate."""
    motion.validate()
    motion = motion.uniform()
    character = motion.character
    skel = character.skeleton
    num_bodies = character.num_bodies
    local = rot.identity((motion.num_frames, num_bodies))
    local[:, 0] = motion.root_rot
    local[:, list(character.motion_joints)] = motion.joint_rot
    node_rot = rot.make_continuous(rot.multiply(skel.rest_rotations, local), axis=0)

    bind_pos, bind_rot = bind_pose(character)
    local_pos, local_normals, vertex_body, tris = body_meshes(character)
    positions = rot.rotate(bind_rot[vertex_body], local_pos) + bind_pos[vertex_body]
    normals = rot.rotate(bind_rot[vertex_body], local_normals)
    joints = np.zeros((len(positions), 4), dtype=np.uint8)
    joints[:, 0] = vertex_body
    weights = np.zeros((len(positions), 4))
    weights[:, 0] = 1.0

    b = BufferBuilder()
    index_type = UNSIGNED_SHORT if len(positions) < 65535 else UNSIGNED_INT
    primitive = {
        "attributes": {
            "POSITION": b.add(positions, "VEC3", FLOAT, ARRAY_BUFFER, bounds=True),
            "NORMAL": b.add(normals, "VEC3", FLOAT, ARRAY_BUFFER),
            "JOINTS_0": b.add(joints, "VEC4", UNSIGNED_BYTE, ARRAY_BUFFER),
            "WEIGHTS_0": b.add(weights, "VEC4", FLOAT, ARRAY_BUFFER),
        },
        "indices": b.add(tris.reshape(-1), "SCALAR", index_type, ELEMENT_ARRAY_BUFFER),
        "material": 0,
    }
    nodes: list[dict] = []
    for body, name in enumerate(character.body_names):
        translation = bind_pos[0] if body == 0 else skel.offsets[body]
        node = {"name": name, "translation": [float(v) for v in translation], "rotation": [float(v) for v in skel.rest_rotations[body]]}
        children = skel.children(body)
        if children:
            node["children"] = children
        nodes.append(node)
    nodes.append({"name": f"{character.name}_mesh", "mesh": 0, "skin": 0})
    skin = {"name": character.name, "joints": list(range(num_bodies)), "skeleton": 0,
            "inverseBindMatrices": b.add(_inverse_bind_matrices(bind_pos, bind_rot), "MAT4", FLOAT)}

    times = b.add(motion.times, "SCALAR", FLOAT, bounds=True)
    samplers = [{"input": times, "output": b.add(motion.root_pos, "VEC3", FLOAT), "interpolation": "LINEAR"}]
    channels = [{"sampler": 0, "target": {"node": 0, "path": "translation"}}]
    for body in [0, *character.motion_joints]:
        samplers.append({"input": times, "output": b.add(node_rot[:, body], "VEC4", FLOAT), "interpolation": "LINEAR"})
        channels.append({"sampler": len(samplers) - 1, "target": {"node": body, "path": "rotation"}})

    doc = {
        "asset": {"version": "2.0", "generator": "vidmimic"},
        "scene": 0,
        "scenes": [{"name": character.name, "nodes": [0, num_bodies]}],
        "nodes": nodes,
        "meshes": [{"name": character.name, "primitives": [primitive]}],
        "skins": [skin],
        "materials": [{"name": "body", "pbrMetallicRoughness": {"baseColorFactor": list(rgba), "metallicFactor": 0.0, "roughnessFactor": 0.7}}],
        "animations": [{"name": "motion", "samplers": samplers, "channels": channels, "extras": {"fps": motion.fps, "loop": motion.loop}}],
    }
    return pack_glb(doc, b)


def write_glb(path: str | Path, motion: CharacterMotion) -> None:
    """Write ``motion`` as a GLB file, atomically."""
    data = build_glb(motion)
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
