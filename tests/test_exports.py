import json
import shutil
import subprocess
from pathlib import Path

import bvhio
import numpy as np
import pytest

from characters import rotations as rot
from retargeting.bvh import read_bvh
from retargeting.bvh_export import write_character_bvh, write_smpl_bvh
from retargeting.deepmimic_file import read_deepmimic
from retargeting.gltf_binary import accessor_array, read_glb
from retargeting.gltf_export import body_meshes, write_glb
from retargeting.smpl_character import character_to_smpl
from tests.conftest import ROOT, WALK

VALIDATOR = ROOT / "tests" / "gltf"


def bvhio_positions(path: Path, frames: list[int]) -> dict[str, np.ndarray]:
    """World joint positions per frame, computed by the independent bvhio package."""
    root = bvhio.readAsHierarchy(str(path))
    out: dict[str, list] = {}
    for f in frames:
        root.loadPose(f)
        for joint, _, _ in root.layout():
            p = joint.PositionWorld
            out.setdefault(joint.Name, []).append([p.x, p.y, p.z])
    return {k: np.array(v) for k, v in out.items()}


def test_character_bvh_read_by_bvhio_matches_fk(character, tmp_path):
    walk = read_deepmimic(WALK, character)
    write_character_bvh(tmp_path / "walk.bvh", walk)
    frames = list(range(0, walk.num_frames, 3))
    theirs = bvhio_positions(tmp_path / "walk.bvh", frames)
    ours, _ = walk.body_frames()
    for b, name in enumerate(character.body_names):
        error = np.linalg.norm(theirs[name] - ours[frames, b], axis=1)
        assert error.max() < 1e-3, f"{name}: {error.max() * 1000:.2f} mm"


def test_smpl_bvh_read_by_bvhio_matches_fk(character, tmp_path):
    smpl = character_to_smpl(read_deepmimic(WALK, character))
    write_smpl_bvh(tmp_path / "smpl.bvh", smpl)
    frames = list(range(0, smpl.num_frames, 5))
    theirs = bvhio_positions(tmp_path / "smpl.bvh", frames)
    ours = smpl.joint_positions()
    for j, name in enumerate(smpl.skeleton.names):
        assert np.linalg.norm(theirs[name] - ours[frames, j], axis=1).max() < 1e-3


def test_bvh_header_is_blender_friendly(character, tmp_path):
    walk = read_deepmimic(WALK, character)
    write_character_bvh(tmp_path / "walk.bvh", walk)
    text = (tmp_path / "walk.bvh").read_text()
    assert text.startswith("HIERARCHY\nROOT root")
    assert f"Frames: {walk.num_frames}" in text and "Frame Time: 0.0333" in text
    clip = read_bvh(tmp_path / "walk.bvh")
    assert set(clip.skeleton.names) == set(character.body_names)
    for b, name in enumerate(character.body_names[1:], start=1):
        assert np.allclose(clip.skeleton.offsets[clip.skeleton.index(name)], character.skeleton.offsets[b], atol=1e-6)


def validate_glb(path: Path) -> dict:
    """The Khronos glTF validator's report on ``path`` (tests/gltf/validate.js)."""
    if shutil.which("node") is None or not (VALIDATOR / "node_modules" / "gltf-validator").exists():
        pytest.fail("the glTF validator is not installed: run `npm ci --prefix tests/gltf` (make test does)")
    result = subprocess.run(["node", str(VALIDATOR / "validate.js"), str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_glb_passes_khronos_validator(character, tmp_path):
    walk = read_deepmimic(WALK, character)
    write_glb(tmp_path / "walk.glb", walk)
    report = validate_glb(tmp_path / "walk.glb")
    assert report["errors"] == 0, report["messages"]
    assert report["warnings"] == 0, report["messages"]
    assert report["info"]["hasSkins"] and report["info"]["animationCount"] == 1 and report["info"]["drawCallCount"] == 1


def glb_animation(doc: dict, blob: bytes) -> dict[tuple[int, str], tuple[np.ndarray, np.ndarray]]:
    """``{(node, path): (times (K,), values (K, width))}`` of the file's first animation."""
    animation = doc["animations"][0]
    out = {}
    for channel in animation["channels"]:
        sampler = animation["samplers"][channel["sampler"]]
        target = channel["target"]
        out[(target["node"], target["path"])] = (accessor_array(doc, blob, sampler["input"]), accessor_array(doc, blob, sampler["output"]))
    return out


def skinned_positions(doc: dict, blob: bytes, frame: int) -> np.ndarray:
    """``(V, 3)`` the mesh's vertices at key ``frame``, skinned as the glTF specification says
    (joint matrix = joint's global transform x its inverse bind matrix, weighted sum), from
    nothing but the file's own nodes, skin, accessors and animation."""
    nodes = doc["nodes"]
    keys = glb_animation(doc, blob)
    parent = {c: i for i, n in enumerate(nodes) for c in n.get("children", [])}
    world: dict[int, np.ndarray] = {}

    def transform(i: int) -> np.ndarray:
        if i not in world:
            t = keys[(i, "translation")][1][frame] if (i, "translation") in keys else nodes[i].get("translation", [0, 0, 0])
            q = keys[(i, "rotation")][1][frame] if (i, "rotation") in keys else nodes[i].get("rotation", [0, 0, 0, 1])
            m = np.eye(4)
            m[:3, :3], m[:3, 3] = rot.to_matrix(np.asarray(q, dtype=float)), t
            world[i] = (transform(parent[i]) if i in parent else np.eye(4)) @ m
        return world[i]

    skin = doc["skins"][0]
    inverse_bind = accessor_array(doc, blob, skin["inverseBindMatrices"]).reshape(-1, 4, 4).transpose(0, 2, 1)  # column-major
    joint_matrices = np.stack([transform(j) @ inverse_bind[k] for k, j in enumerate(skin["joints"])])
    primitive = doc["meshes"][0]["primitives"][0]["attributes"]
    positions = accessor_array(doc, blob, primitive["POSITION"]).astype(float)
    joints = accessor_array(doc, blob, primitive["JOINTS_0"]).astype(int)
    weights = accessor_array(doc, blob, primitive["WEIGHTS_0"]).astype(float)
    homogeneous = np.concatenate([positions, np.ones((len(positions), 1))], axis=1)
    skinned = np.einsum("vk,vkij,vj->vi", weights, joint_matrices[joints], homogeneous)
    return skinned[:, :3]


def test_glb_skin_has_the_bvh_bones_and_animates_them(character, tmp_path):
    walk = read_deepmimic(WALK, character)
    write_glb(tmp_path / "walk.glb", walk)
    write_character_bvh(tmp_path / "walk.bvh", walk)
    doc, blob = read_glb(tmp_path / "walk.glb")
    skin = doc["skins"][0]
    joint_names = [doc["nodes"][j]["name"] for j in skin["joints"]]
    bvh = read_bvh(tmp_path / "walk.bvh").skeleton
    assert sorted(joint_names) == sorted(bvh.names)
    for j, name in zip(skin["joints"], joint_names):  # the same tree: each joint's parent is its BVH parent
        parent = next((doc["nodes"][i]["name"] for i in skin["joints"] if j in doc["nodes"][i].get("children", [])), None)
        bvh_parent = bvh.parents[bvh.index(name)]
        assert parent == (bvh.names[bvh_parent] if bvh_parent >= 0 else None), name
    assert accessor_array(doc, blob, skin["inverseBindMatrices"]).shape == (len(joint_names), 16)
    meshes = [n for n in doc["nodes"] if "mesh" in n]
    assert len(meshes) == 1 and meshes[0].get("skin") == 0, "one skinned mesh node"
    weights = accessor_array(doc, blob, doc["meshes"][0]["primitives"][0]["attributes"]["WEIGHTS_0"])
    assert np.allclose(weights.sum(axis=1), 1.0, atol=1e-6)

    keys = glb_animation(doc, blob)
    motion_rot = np.concatenate([walk.root_rot[:, None], walk.joint_rot], axis=1)  # (T, 1 + M, 4)
    for k, body in enumerate([0, *character.motion_joints]):
        name = character.body_names[body]
        node = next(i for i in skin["joints"] if doc["nodes"][i]["name"] == name)
        times, values = keys[(node, "rotation")]
        assert len(times) == walk.num_frames and np.allclose(np.diff(times), 1.0 / walk.fps, atol=1e-5)
        assert np.allclose(np.abs(np.sum(values * motion_rot[:, k], axis=1)), 1.0, atol=1e-5), f"{name}: not the motion's rotation"
        if np.ptp(motion_rot[:, k], axis=0).max() > 0.01:
            assert np.ptp(values, axis=0).max() > 0.01, f"{name}'s rotation does not change over the clip"
    changing = [name for (node, path), (_, v) in keys.items() if path == "rotation" and np.ptp(v, axis=0).max() > 0.01
                for name in [doc["nodes"][node]["name"]]]
    assert {"root", "right_hip", "right_knee", "left_hip", "left_knee", "right_shoulder", "left_shoulder"} <= set(changing)
    assert {path for (node, path) in keys if path == "translation"} == {"translation"} and (0, "translation") in keys
    assert doc["animations"][0]["extras"] == {"fps": walk.fps, "loop": walk.loop}


def test_glb_skinned_mesh_follows_the_motion(character, tmp_path):
    """Skinning the file's mesh by its own data puts every vertex where the character's forward
    kinematics puts its body's collision shape, at every frame; the bind pose stands on the ground."""
    walk = read_deepmimic(WALK, character)
    write_glb(tmp_path / "walk.glb", walk)
    doc, blob = read_glb(tmp_path / "walk.glb")
    local, _, body, _ = body_meshes(character)
    positions, rotations = walk.body_frames()
    bind = accessor_array(doc, blob, doc["meshes"][0]["primitives"][0]["attributes"]["POSITION"])
    assert abs(bind[:, 1].min()) < 1e-6
    for frame in range(0, walk.num_frames, 4):
        expected = rot.rotate(rotations[frame, body], local) + positions[frame, body]
        error = np.linalg.norm(skinned_positions(doc, blob, frame) - expected, axis=1)
        assert error.max() < 1e-4, f"frame {frame}: {error.max() * 1000:.2f} mm"


def test_glb_animation_reproduces_motion(character, tmp_path):
    """Read the GLB back (JSON chunk + binary) and compare the root translation track."""
    walk = read_deepmimic(WALK, character)
    write_glb(tmp_path / "walk.glb", walk)
    times, track = glb_animation(*read_glb(tmp_path / "walk.glb"))[(0, "translation")]
    assert np.allclose(times, walk.times, atol=1e-6) and np.allclose(track, walk.root_pos, atol=1e-6)
