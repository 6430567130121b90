import json

import numpy as np

from characters import rotations as rot
from characters.bullet_body import BulletBody, connect
from characters.character import DEFAULT_SPEC, load_character

EXPECTED_GAINS = {  # DeepMimic humanoid3d: Kp, torque limit (N m)
    "chest": (1000, 200), "neck": (100, 50), "hip": (500, 200), "knee": (500, 150),
    "ankle": (400, 90), "shoulder": (400, 100), "elbow": (300, 60),
}


def test_humanoid_structure(character):
    assert character.num_bodies == 15
    kinds = dict(zip(character.body_names, character.joint_types))
    for name in ("chest", "neck", "right_hip", "left_hip", "right_ankle", "left_ankle", "right_shoulder", "left_shoulder"):
        assert kinds[name] == "spherical"
    for name in ("right_knee", "left_knee", "right_elbow", "left_elbow"):
        assert kinds[name] == "revolute"
    assert [character.body_names[b] for b in character.contact_bodies] == ["right_ankle", "left_ankle"]
    assert {character.body_names[b] for b in character.end_effectors} == {"right_wrist", "left_wrist", "right_ankle", "left_ankle"}
    for b, name in enumerate(character.body_names):
        part = name.split("_")[-1]
        if part in EXPECTED_GAINS:
            kp, limit = EXPECTED_GAINS[part]
            assert character.kp[b] == kp and character.torque_limit[b] == limit
            assert character.kd[b] == kp / 10
    assert np.isclose(character.total_mass, 45.0)


def random_pose(character, frames, rng):
    joint_rot = np.empty((frames, len(character.motion_joints), 4))
    for k, (b, width) in enumerate(character.motion_frame_layout):
        if width == 4:
            joint_rot[:, k] = rot.normalize(rng.normal(size=(frames, 4)))
        else:
            joint_rot[:, k] = rot.about_axis(character.hinge_axes[b], rng.uniform(-2.5, 2.5, frames))
    return rng.normal(size=(frames, 3)), rot.normalize(rng.normal(size=(frames, 4))), joint_rot


def test_forward_kinematics_matches_pybullet(character):
    rng = np.random.default_rng(3)
    root_pos, root_rot, joint_rot = random_pose(character, 20, rng)
    positions, _ = character.forward_kinematics(root_pos, root_rot, joint_rot)
    client = connect()
    try:
        body = BulletBody(client, character)
        for t in range(20):
            body.set_pose(root_pos[t], root_rot[t], joint_rot[t])
            error = np.linalg.norm(body.body_positions() - positions[t], axis=1)
            assert error.max() < 1e-3, f"frame {t}: FK differs from PyBullet by {error.max() * 1000:.3f} mm"
    finally:
        client.disconnect()


def test_center_of_mass_matches_pybullet(character):
    rng = np.random.default_rng(4)
    root_pos, root_rot, joint_rot = random_pose(character, 3, rng)
    pos, rots = character.forward_kinematics(root_pos, root_rot, joint_rot)
    com = character.center_of_mass(pos, rots)
    client = connect()
    try:
        body = BulletBody(client, character)
        for t in range(3):
            body.set_pose(root_pos[t], root_rot[t], joint_rot[t])
            links = client.getLinkStates(body.id, list(range(client.getNumJoints(body.id))), computeForwardKinematics=True)
            masses = [client.getDynamicsInfo(body.id, j)[0] for j in range(client.getNumJoints(body.id))]
            expected = sum(m * np.array(s[0]) for m, s in zip(masses, links)) / sum(masses)
            assert np.linalg.norm(expected - com[t]) < 1e-3
    finally:
        client.disconnect()


def test_second_character_from_a_spec(tmp_path, character):
    """A user's URDF (renamed links, no massless base) enters through a spec alone."""
    text = character.urdf_path.read_bytes().rstrip(b"\0").decode()
    renames = {"right_hip": "r_thigh", "left_hip": "l_thigh", "right_knee": "r_shin", "left_knee": "l_shin"}
    for old, new in renames.items():
        text = text.replace(f'"{old}"', f'"{new}"')
    (tmp_path / "robot.urdf").write_text(text)
    spec = json.loads(DEFAULT_SPEC.read_text())
    spec["urdf"] = "robot.urdf"
    spec["name"] = "renamed"
    for key in ("joints", "smpl_map"):
        spec[key] = {renames.get(k, k): v for k, v in spec[key].items()}
    spec["motion_joints"] = [renames.get(k, k) for k in spec["motion_joints"]]
    (tmp_path / "robot.json").write_text(json.dumps(spec))
    robot = load_character(tmp_path / "robot.json")
    assert robot.name == "renamed" and robot.num_bodies == 15
    assert robot.body_names[robot.motion_joints[2]] == "r_thigh"
    assert np.allclose(robot.skeleton.rest_positions(), character.skeleton.rest_positions())
