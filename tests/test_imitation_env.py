import gymnasium
import numpy as np
import pytest

import control  # noqa: F401  (registers vidmimic/Imitate-v0)
from characters import rotations as rot
from control.imitation_env import EnvConfig, ImitationEnv
from tests.conftest import WALK


@pytest.fixture(scope="module")
def env():
    e = ImitationEnv(WALK, EnvConfig())
    yield e
    e.close()


def test_registered_with_gymnasium():
    e = gymnasium.make("vidmimic/Imitate-v0", motion=str(WALK))
    obs, info = e.reset(seed=0)
    assert obs.shape == e.observation_space.shape and np.all(np.isfinite(obs))
    obs, reward, terminated, truncated, info = e.step(e.action_space.sample())
    assert 0.0 <= reward <= 1.0
    e.close()


def test_reset_starts_on_the_reference(env):
    _, info = env.reset(options={"start_time": 0.4})
    errors = env.tracking_errors()
    assert errors["body_pos_error_mm"] < 0.1 and errors["pose_error_deg"] < 1e-6
    starts = {env.reset(seed=s)[1]["start_time"] for s in range(5)}
    assert len(starts) == 5 and all(0 <= s <= env.reference.duration for s in starts)


def test_zero_residual_action_tracks_for_a_moment(env):
    env.reset(options={"start_time": 0.0})
    obs, reward, terminated, truncated, info = env.step(np.zeros(env.action_space.shape))
    assert reward > 0.6 and not terminated
    assert env.tracking_errors()["body_pos_error_mm"] < 30


def test_env_reward_equals_the_pure_reward_function(env):
    env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(10):
        _, reward, terminated, truncated, info = env.step(rng.uniform(-0.3, 0.3, env.action_space.shape))
        if terminated or truncated:
            break
        expected, terms = env.reward_reference_check()
        assert reward == pytest.approx(expected, abs=1e-9)


def test_lying_on_the_ground_terminates(env):
    env.reset(options={"start_time": 0.0})
    ref = env.reference.pose(0.0)
    lying = rot.multiply(rot.about_axis(np.array([0, 0, 1.0]), np.pi / 2), ref.root_rot)
    zero = np.zeros(3)
    env.sim.set_state(np.array([0.0, 0.09, 0.0]), lying, ref.joint_rot, zero, zero, np.zeros_like(ref.joint_vel))
    _, reward, terminated, truncated, info = env.step(np.zeros(env.action_space.shape))
    assert terminated and info.get("fell") and reward == 0.0


def test_exploding_simulation_ends_cleanly(env):
    env.reset(options={"start_time": 0.0})
    ref = env.reference.pose(0.0)
    env.sim.set_state(ref.root_pos, ref.root_rot, ref.joint_rot, np.array([0.0, 1e6, 0.0]), np.zeros(3), ref.joint_vel)
    obs, reward, terminated, truncated, info = env.step(np.zeros(env.action_space.shape))
    assert terminated and info.get("exploded")
    assert np.all(np.isfinite(obs)) and np.isfinite(reward)


def test_cyclic_reference_keeps_walking_for_20_seconds(env):
    pose = env.reference.pose(19.9)
    assert pose.root_pos[0] > 15.0  # ~0.97 m/s forward
    assert env.reference.phase(19.9) == pytest.approx((19.9 % env.reference.duration) / env.reference.duration)


def test_absolute_actions_option():
    e = ImitationEnv(WALK, EnvConfig(residual_actions=False))
    e.reset(seed=0)
    targets = e.pd_targets(np.zeros(e.action_space.shape), 0.0)
    assert targets[0] == [0.0, 0.0, 0.0, 1.0]  # identity, not the reference pose
    e.close()
