import json
import shutil
import subprocess
from pathlib import Path

import bvhio
import numpy as np
import pytest

from retargeting.bvh import read_bvh
from retargeting.bvh_export import write_character_bvh, write_smpl_bvh
from retargeting.deepmimic_file import read_deepmimic
from retargeting.gltf_export import write_glb
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


def test_glb_passes_khronos_validator(character, tmp_path):
    if shutil.which("node") is None or not (VALIDATOR / "node_modules" / "gltf-validator").exists():
        pytest.fail("the glTF validator is not installed: run `npm ci --prefix tests/gltf` (make test does)")
    walk = read_deepmimic(WALK, character)
    write_glb(tmp_path / "walk.glb", walk)
    result = subprocess.run(["node", str(VALIDATOR / "validate.js"), str(tmp_path / "walk.glb")], capture_output=True, text=True, timeout=120)
    report = json.loads(result.stdout)
    assert report["errors"] == 0, report["messages"]
    assert report["warnings"] == 0, report["messages"]


def test_glb_animation_reproduces_motion(character, tmp_path):
    """Read the GLB back (JSON chunk + binary) and compare the root translation track."""
    import struct

    walk = read_deepmimic(WALK, character)
    write_glb(tmp_path / "walk.glb", walk)
    data = (tmp_path / "walk.glb").read_bytes()
    json_len = struct.unpack_from("<I", data, 12)[0]
    doc = json.loads(data[20 : 20 + json_len])
    blob = data[20 + json_len + 8 :]
    channel = next(c for c in doc["animations"][0]["channels"] if c["target"] == {"node": 0, "path": "translation"})
    accessor = doc["accessors"][doc["animations"][0]["samplers"][channel["sampler"]]["output"]]
    view = doc["bufferViews"][accessor["bufferView"]]
    track = np.frombuffer(blob[view["byteOffset"] : view["byteOffset"] + view["byteLength"]], dtype=np.float32).reshape(-1, 3)
    assert np.allclose(track, walk.root_pos, atol=1e-6)
