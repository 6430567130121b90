"""control.policy_choice: of a fine-tune and its warm start, the one that imitates better is kept."""

import zipfile

import pytest

from control.policy_choice import choice_sentence, choose_policy, rebind_policy
from control.train import policy_motion_text
from tests.conftest import ROOT, WALK, run_cli

WALK_POLICY = ROOT / "policies" / "humanoid3d_walk" / "policy.zip"


@pytest.fixture(scope="module")
def barely_trained(tmp_path_factory):
    """A policy after one tiny PPO iteration from scratch: it cannot walk yet."""
    run = tmp_path_factory.mktemp("run") / "walk"
    result = run_cli("train", str(WALK), "-o", str(run), "--timesteps", "256", "--envs", "2", "--n-steps", "128")
    assert result.returncode == 0, result.stderr[-2000:]
    return run / "policy.zip"


def test_rebinding_changes_the_reference_and_nothing_else(tmp_path):
    other = (WALK.parent / "humanoid3d_run.txt").read_text()
    out = tmp_path / "rebound.zip"
    rebind_policy(WALK_POLICY, other, out)
    assert policy_motion_text(out) == other
    with zipfile.ZipFile(WALK_POLICY) as a, zipfile.ZipFile(out) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())
        assert all(a.read(n) == b.read(n) for n in a.namelist() if n != "vidmimic/motion.txt")
    assert [p.name for p in tmp_path.iterdir()] == ["rebound.zip"]  # no temporary file left


def test_the_better_policy_is_kept_on_either_side(barely_trained, tmp_path):
    out = tmp_path / "policy.zip"
    choice = choose_policy(barely_trained, WALK_POLICY, out, episodes=3, seconds=3.0, seed=0)
    assert choice["kept"] == "warm_start", choice
    assert choice["warm_start"]["mean_reward"] > choice["fine_tuned"]["mean_reward"]
    # The kept warm start imitates the fine-tune's reference, with the warm start's network.
    assert policy_motion_text(out) == policy_motion_text(barely_trained)
    with zipfile.ZipFile(out) as kept, zipfile.ZipFile(WALK_POLICY) as warm:
        assert kept.read("policy.pth") == warm.read("policy.pth")
    assert "the warm-start policy, which the fine-tune did not improve on" in choice_sentence(choice)

    choice = choose_policy(WALK_POLICY, barely_trained, out, episodes=3, seconds=3.0, seed=0)
    assert choice["kept"] == "fine_tuned" and out.read_bytes() == WALK_POLICY.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy.zip"]
    assert "policy.zip is the fine-tuned policy." in choice_sentence(choice)
    assert choice_sentence({"kept": "trained"}) == ""
