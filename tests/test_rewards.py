import math

import numpy as np

from characters import rotations as rot
from control.rewards import RewardSpec, imitation_reward


def zeros(j=13, m=12, e=4):
    q = rot.identity((j,))
    return q, q.copy(), np.zeros((m, 3)), np.zeros((m, 3)), np.zeros((e, 3)), np.zeros((e, 3)), np.zeros(3), np.zeros(3)


def test_perfect_tracking_gives_one():
    total, terms = imitation_reward(*zeros())
    assert total == 1.0 and all(v == 1.0 for v in terms.values())


def test_each_term_matches_its_formula():
    ref_rot, sim_rot, ref_vel, sim_vel, ref_ee, sim_ee, ref_com, sim_com = zeros()
    sim_rot[3] = rot.about_axis(np.array([0, 0, 1.0]), 0.3)  # one joint off by 0.3 rad
    sim_vel[2] = [0.0, 2.0, 0.0]  # 2 rad/s
    sim_ee[1] = [0.0, 0.0, 0.05]  # 5 cm
    sim_com[:] = [0.1, 0.0, 0.0]  # 10 cm
    total, terms = imitation_reward(ref_rot, sim_rot, ref_vel, sim_vel, ref_ee, sim_ee, ref_com, sim_com)
    assert math.isclose(terms["pose"], math.exp(-2 * 0.3**2), rel_tol=1e-9)
    assert math.isclose(terms["vel"], math.exp(-0.1 * 4.0), rel_tol=1e-9)
    assert math.isclose(terms["ee"], math.exp(-40 * 0.05**2), rel_tol=1e-9)
    assert math.isclose(terms["com"], math.exp(-10 * 0.1**2), rel_tol=1e-9)
    expected = 0.65 * terms["pose"] + 0.1 * terms["vel"] + 0.15 * terms["ee"] + 0.1 * terms["com"]
    assert math.isclose(total, expected, rel_tol=1e-12)


def test_quaternion_sign_does_not_matter():
    ref_rot, sim_rot, *rest = zeros()
    sim_rot[5] = -sim_rot[5]
    assert imitation_reward(ref_rot, sim_rot, *rest)[0] == 1.0


def test_weights_are_configurable():
    ref_rot, sim_rot, ref_vel, sim_vel, ref_ee, sim_ee, ref_com, sim_com = zeros()
    sim_com[:] = [1.0, 0.0, 0.0]
    total, _ = imitation_reward(ref_rot, sim_rot, ref_vel, sim_vel, ref_ee, sim_ee, ref_com, sim_com, RewardSpec(pose_weight=0, vel_weight=0, ee_weight=0, com_weight=1))
    assert math.isclose(total, math.exp(-10.0))
