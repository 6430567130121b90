"""Exported simulated motion stands on the ground: BVH and GLB of a real replay, measured on the
character's own collision geometry (BVH) and on the file's skinned mesh (GLB)."""

from __future__ import annotations

import numpy as np
import pytest

from retargeting.bvh import read_bvh
from retargeting.bvh_export import write_character_bvh
from retargeting.deepmimic_file import read_deepmimic
from retargeting.gltf_binary import read_glb
from retargeting.gltf_export import write_glb
from tests.conftest import ROOT, WALK, run_cli
from tests.test_exports import skinned_positions

STILL_M_PER_S = 0.15
"""A foot counts as in contact when it is the character's lowest body and its lowest point moves
up or down slower than this (the simulated feet slide, so horizontal speed does not tell)."""


def exported(character, sim_txt, tmp_path):
    """The run's export stage on a recorded simulated motion: ``(sim.bvh, sim.glb)`` paths."""
    simulated = read_deepmimic(sim_txt, character)
    write_character_bvh(tmp_path / "sim.bvh", simulated)
    write_glb(tmp_path / "sim.glb", simulated)
    return tmp_path / "sim.bvh", tmp_path / "sim.glb"


def bvh_bodies(character, path):
    """World body frames of a character BVH, by its own hierarchy: ``(T, B, 3)``, ``(T, B, 4)`` in the character's body order."""
    clip = read_bvh(path)
    pos, rots = clip.skeleton.forward_kinematics(clip.root_pos, clip.local_rot)
    order = [clip.skeleton.index(name) for name in character.body_names]
    return pos[:, order], rots[:, order], clip


def contact_frames(character, lowest_per_body, fps):
    """Frames where a foot is in contact (see STILL_M_PER_S); ``lowest_per_body`` ``(T, B)`` m."""
    feet = np.array([b for b in character.contact_bodies if "ankle" in character.body_names[b]])
    lower_foot = lowest_per_body[:, feet].min(axis=1)
    still = np.abs(np.gradient(lower_foot)) * fps < STILL_M_PER_S
    return np.flatnonzero(np.isin(lowest_per_body.argmin(axis=1), feet) & still)


def check_on_ground(character, bvh, glb):
    pos, rots, clip = bvh_bodies(character, bvh)
    per_body = character.lowest_heights(pos, rots, tuple(range(character.num_bodies)))
    contact = contact_frames(character, per_body, 1.0 / clip.frame_time)
    assert len(contact) > 0.5 * len(pos), f"only {len(contact)} of {len(pos)} frames with a foot in contact"

    lowest_bvh = per_body.min(axis=1)[contact]
    doc, blob = read_glb(glb)
    lowest_glb = np.array([skinned_positions(doc, blob, f)[:, 1].min() for f in contact])
    for name, lowest in (("sim.bvh", lowest_bvh), ("sim.glb", lowest_glb)):
        share = np.mean(np.abs(lowest) <= 0.01)
        assert share >= 0.95, (f"{name}: lowest point within 1 cm of the ground in {100 * share:.0f} % of {len(contact)} contact frames "
                               f"(median {100 * np.median(lowest):.1f} cm, worst {100 * lowest.min():.1f} cm)")

    for joint, site in clip.end_sites.items():
        assert np.linalg.norm(site) > 1e-3, f"zero-length End Site under {clip.skeleton.names[joint]}"


def test_replay_of_a_trained_policy_exports_feet_on_the_ground(character, tmp_path):
    policy = ROOT / "policies" / "sample_walk" / "policy.zip"
    result = run_cli("replay", str(policy), "-o", str(tmp_path / "replay.png"), "--seconds", "4", "--motion-out", str(tmp_path / "sim.txt"))
    assert result.returncode == 0, result.stderr
    check_on_ground(character, *exported(character, tmp_path / "sim.txt", tmp_path))


def test_tracker_replay_exports_feet_on_the_ground(character, tmp_path):
    if not (ROOT / "policies" / "tracker" / "policy.zip").exists():
        pytest.skip("no shipped tracker")
    result = run_cli("track", str(WALK), "-o", str(tmp_path / "track.png"), "--motion-out", str(tmp_path / "sim.txt"))
    assert result.returncode == 0, result.stderr
    check_on_ground(character, *exported(character, tmp_path / "sim.txt", tmp_path))
