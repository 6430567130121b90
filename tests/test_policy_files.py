"""Policy zips as untrusted files: nothing of vidmimic's is a pickle, inference unpickles nothing and
equals SB3's own prediction, malformed files are one line, old-format zips still train and ship."""

import base64
import io
import json
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, WALK, run_cli

POLICIES = ROOT / "policies"
SHIPPED = [POLICIES / "humanoid3d_walk" / "policy.zip", POLICIES / "sample_walk" / "policy.zip",
           POLICIES / "tracker" / "policy.zip", POLICIES / "tracker" / "resume.zip"]
PBULLET_BANNER = "pybullet build time"  # pybullet prints it on stderr when imported


def error_lines(stderr: str) -> list[str]:
    """stderr without pybullet's import banner (a third-party line, printed before any of ours)."""
    return [line for line in stderr.strip().splitlines() if not line.startswith(PBULLET_BANNER)]


def assert_one_line_exit_2(result, *expected: str) -> None:
    lines = error_lines(result.stderr)
    assert result.returncode == 2, result.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("vidmimic: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for text in expected:
        assert text in lines[0], lines[0]


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def write_zip(path: Path, contents: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in contents.items():
            z.writestr(name, data)
    return path


class _Spaces:
    """A gymnasium environment that only has spaces: SB3's VecNormalize needs them, nothing steps it."""

    def __new__(cls, obs: int, actions: int):
        import gymnasium as gym

        class SpacesOnly(gym.Env):
            observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(obs,), dtype=np.float32)
            action_space = gym.spaces.Box(-1.0, 1.0, shape=(actions,), dtype=np.float32)

        return SpacesOnly()


def sb3_normalization(path: Path):
    """An SB3 VecNormalize holding the statistics of policy zip ``path``."""
    from stable_baselines3.common.vec_env import DummyVecEnv

    from control.policy_file import read_normalization

    stats = read_normalization(path)
    venv = DummyVecEnv([lambda: _Spaces(stats.obs_mean.shape[0], stats.action_low.shape[0])])
    return stats.to_vec_normalize(venv)


def make_legacy(src: Path, out: Path) -> Path:
    """``src`` as vidmimic wrote policy zips before 2026-12-04: the VecNormalize pickled."""
    contents = entries(src)
    vec = sb3_normalization(src)
    del contents["vidmimic/normalization.npz"]
    contents["vidmimic/normalization.pkl"] = pickle.dumps(vec)
    return write_zip(out, contents)


def varied_observations(path: Path, n: int = 64) -> np.ndarray:
    """``(n, O)`` float32 observations around the policy's statistics, some far enough to be clipped."""
    from control.policy_file import read_normalization

    stats = read_normalization(path)
    noise = np.random.default_rng(7).normal(size=(n, stats.obs_mean.shape[0])) * np.linspace(0.1, 20, n)[:, None]
    return (stats.obs_mean + np.sqrt(stats.obs_var) * noise).astype(np.float32)


class _Payload:
    """Unpickling it creates ``marker`` (by calling ``open(marker, "w")``), as hostile code would act."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def hostile_zip(src: Path, out: Path, marker: Path, keep_npz: bool) -> Path:
    """``src`` with a payload in SB3's ``data`` and a planted ``vidmimic/normalization.pkl`` payload."""
    contents = entries(src)
    data = json.loads(contents["data"])
    data["observation_space"][":serialized:"] = base64.b64encode(pickle.dumps(_Payload(marker))).decode()
    contents["data"] = json.dumps(data).encode()
    contents["vidmimic/normalization.pkl"] = pickle.dumps(_Payload(marker))
    if not keep_npz:
        del contents["vidmimic/normalization.npz"]
    return write_zip(out, contents)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("policy_files") / "walk"
    result = run_cli("train", str(WALK), "-o", str(run), "--timesteps", "256", "--envs", "2", "--n-steps", "128")
    assert result.returncode == 0, result.stderr[-2000:]
    return run


def test_a_zip_written_by_training_holds_no_pickle_of_vidmimic(trained):
    for name in ("policy.zip", "checkpoint.zip"):
        contents = entries(trained / name)
        ours = {k: v for k, v in contents.items() if k.startswith("vidmimic/")}
        assert set(ours) == {"vidmimic/normalization.npz", "vidmimic/config.json", "vidmimic/motion.txt"}
        json.loads(ours["vidmimic/config.json"])
        json.loads(ours["vidmimic/motion.txt"])
        with np.load(io.BytesIO(ours["vidmimic/normalization.npz"]), allow_pickle=False) as npz:
            assert all(npz[k].dtype != object for k in npz.files)
            assert npz["obs_count"] > 256  # the statistics of the run, not an empty default
        assert not any(v.startswith(b"\x80") for v in ours.values())  # a pickle's first opcode (PROTO)


@pytest.mark.parametrize("policy", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_inference_equals_sb3s_deterministic_prediction(policy):
    from stable_baselines3 import PPO

    from control.policy_file import load_network

    network = load_network(policy).network
    model = PPO.load(policy, device="cpu")  # our own file: SB3's loader is fine here
    vec = sb3_normalization(policy)
    obs = varied_observations(policy)
    expected, _ = model.predict(vec.normalize_obs(obs), deterministic=True)
    actions = network.act(obs)
    assert actions.shape == expected.shape and actions.dtype == np.float32
    assert np.abs(actions - expected).max() <= 1e-6
    assert (np.abs(expected) == 1.0).any() and (np.abs(expected) < 1.0).any()  # both clipped and free actions compared
    single, _ = model.predict(vec.normalize_obs(obs[:1]), deterministic=True)
    assert np.abs(network.act(obs[0]) - single[0]).max() <= 1e-6


def test_the_shipped_policies_are_in_todays_format():
    for policy in SHIPPED:
        names = set(entries(policy))
        assert "vidmimic/normalization.npz" in names and not any(n.endswith(".pkl") for n in names), policy
    assert (POLICIES / "tracker" / "policy.zip").stat().st_size <= 10e6
    assert (POLICIES / "tracker" / "resume.zip").stat().st_size <= 30e6


@pytest.mark.parametrize("command", ["replay", "evaluate"])
def test_a_hostile_zip_runs_nothing(command, tmp_path):
    marker = tmp_path / "payload_ran"
    source = POLICIES / "humanoid3d_walk" / "policy.zip"
    beside_npz = hostile_zip(source, tmp_path / "beside.zip", marker, keep_npz=True)
    alone = hostile_zip(source, tmp_path / "alone.zip", marker, keep_npz=False)
    extra = ["-o", str(tmp_path / "r.png"), "--seconds", "0.1"] if command == "replay" else ["--episodes", "1", "--seconds", "0.2", "--json"]

    result = run_cli(command, str(beside_npz), *extra)
    assert result.returncode == 0, result.stderr[-2000:]  # the payloads are never read: the policy just works
    assert not marker.exists()
    result = run_cli(command, str(alone), *extra)
    assert_one_line_exit_2(result, str(alone), "vidmimic policy upgrade")
    assert not marker.exists()

    # The payloads are live: SB3's own loader runs the one in `data` (this test could fail).
    from stable_baselines3 import PPO

    try:
        PPO.load(beside_npz, device="cpu")
    except Exception:
        pass  # what SB3 does with the payload's result does not matter: it has run
    assert marker.exists()


def test_track_refuses_a_hostile_old_format_tracker(tmp_path):
    marker = tmp_path / "payload_ran"
    alone = hostile_zip(POLICIES / "tracker" / "policy.zip", tmp_path / "tracker.zip", marker, keep_npz=False)
    result = run_cli("track", str(WALK), "-o", str(tmp_path / "t.png"), "--policy", str(alone))
    assert_one_line_exit_2(result, "vidmimic policy upgrade")
    assert not marker.exists()


def _npz(**changes) -> bytes:
    from control.policy_file import read_normalization

    stats = read_normalization(POLICIES / "humanoid3d_walk" / "policy.zip")
    with np.load(io.BytesIO(stats.to_bytes()), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays.update(changes)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _npz_array(name: str) -> np.ndarray:
    with np.load(io.BytesIO(_npz()), allow_pickle=False) as npz:
        return npz[name]


def _torch_pickle_of(marker: Path) -> bytes:
    """A ``policy.pth`` whose pickle would create ``marker`` if loaded without ``weights_only``."""
    import torch

    buffer = io.BytesIO()
    torch.save({"action_net.weight": _Payload(marker)}, buffer)
    return buffer.getvalue()


def _config(**train_changes) -> bytes:
    config = json.loads(entries(POLICIES / "humanoid3d_walk" / "policy.zip")["vidmimic/config.json"])
    config["train"].update(train_changes)
    return json.dumps(config).encode()


MALFORMED = {
    "not_a_zip": (None, "not a vidmimic policy"),
    "truncated_zip": ("truncate", "not a vidmimic policy"),
    "no_normalization": ({"vidmimic/normalization.npz": None}, "no vidmimic/normalization.npz"),
    "garbage_npz": ({"vidmimic/normalization.npz": b"PK\x03\x04garbage"}, "malformed vidmimic/normalization.npz"),
    "npz_object_array": ({"vidmimic/normalization.npz": _npz(obs_mean=np.array([{"a": 1}], dtype=object))}, "malformed vidmimic/normalization.npz"),
    "npz_missing_key": ({"vidmimic/normalization.npz": _npz(epsilon=None)}, "malformed vidmimic/normalization.npz"),
    "npz_string_mean": ({"vidmimic/normalization.npz": _npz(obs_mean=np.array(["a", "b"]))}, "obs_mean is not numeric"),
    "npz_inconsistent_sizes": ({"vidmimic/normalization.npz": _npz(obs_var=np.ones(3))}, "inconsistent sizes"),
    "npz_negative_variance": ({"vidmimic/normalization.npz": _npz(obs_var=-_npz_array("obs_var"))}, "variance is negative"),
    "npz_negative_epsilon": ({"vidmimic/normalization.npz": _npz(epsilon=np.float64(-1.0))}, "epsilon is negative"),
    "npz_crossed_action_bounds": ({"vidmimic/normalization.npz": _npz(action_low=np.ones(28), action_high=-np.ones(28))}, "lower bound is above"),
    "npz_fewer_observations": ({"vidmimic/normalization.npz": _npz(obs_mean=np.zeros(5), obs_var=np.ones(5))}, "policy layer 0 is not 5 -> 512"),
    "config_not_json": ({"vidmimic/config.json": b"{not json"}, "malformed vidmimic/config.json"),
    "config_a_list": ({"vidmimic/config.json": b"[1, 2]"}, "not a JSON object"),
    "config_without_net_arch": ({"vidmimic/config.json": b'{"train": {}}'}, "no train.net_arch"),
    "net_arch_of_another_network": ({"vidmimic/config.json": _config(net_arch=[64, 64])}, "policy layer 0 is not"),
    "net_arch_too_short": ({"vidmimic/config.json": _config(net_arch=[512])}, "more policy layers than"),
    "net_arch_too_long": ({"vidmimic/config.json": _config(net_arch=[512, 256, 128])}, "policy layer 2 is not"),
    "action_bounds_of_another_size": ({"vidmimic/normalization.npz": _npz(action_low=-np.ones(3), action_high=np.ones(3))}, "action layer is not"),
    "garbage_weights": ({"policy.pth": b"\x00" * 100}, "malformed policy.pth"),
    "no_weights": ({"policy.pth": None}, "no policy.pth"),
    "motion_not_text": ({"vidmimic/motion.txt": b"\xff\xfe\x00"}, "malformed vidmimic/motion.txt"),
}


def malformed_zip(case: str, tmp_path: Path) -> Path:
    changes, _ = MALFORMED[case]
    source = POLICIES / "humanoid3d_walk" / "policy.zip"
    out = tmp_path / f"{case}.zip"
    if changes is None:
        out.write_text("not a zip at all")
    elif changes == "truncate":
        out.write_bytes(source.read_bytes()[: 2_000_000])
    else:
        contents = entries(source)
        for name, data in changes.items():
            if data is None:
                del contents[name]
            else:
                contents[name] = data
        write_zip(out, contents)
    return out


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_policy_zip_is_one_error_naming_it(case, tmp_path):
    from characters.errors import InputError
    from control.evaluate import load_policy

    path = malformed_zip(case, tmp_path)
    with pytest.raises(InputError) as error:
        load_policy(path)
    message = str(error.value)
    assert "\n" not in message and message.startswith(str(path)) and MALFORMED[case][1] in message, message


def test_weights_that_would_run_code_are_refused(tmp_path):
    from characters.errors import InputError
    from control.policy_file import load_network

    marker = tmp_path / "payload_ran"
    contents = entries(POLICIES / "humanoid3d_walk" / "policy.zip")
    contents["policy.pth"] = _torch_pickle_of(marker)
    path = write_zip(tmp_path / "evil_weights.zip", contents)
    with pytest.raises(InputError, match="malformed policy.pth"):
        load_network(path)
    assert not marker.exists()


@pytest.mark.parametrize("case", ["not_a_zip", "garbage_npz", "garbage_weights"])
def test_the_cli_answers_a_malformed_policy_with_one_line_and_exit_2(case, tmp_path):
    path = malformed_zip(case, tmp_path)
    assert_one_line_exit_2(run_cli("evaluate", str(path), "--episodes", "1", "--json"), str(path), MALFORMED[case][1])


def test_a_policy_of_the_wrong_kind_is_one_line(tmp_path):
    tracker, clip = POLICIES / "tracker" / "policy.zip", POLICIES / "humanoid3d_walk" / "policy.zip"
    assert_one_line_exit_2(run_cli("evaluate", str(tracker), "--episodes", "1"), "general tracker has no clip")
    assert_one_line_exit_2(run_cli("evaluate", str(clip), "--motion", str(WALK)), "not a tracker policy")


def test_an_old_zip_is_refused_for_inference_until_upgraded(tmp_path):
    from characters.errors import InputError
    from control.policy_file import load_network

    source = POLICIES / "sample_walk" / "policy.zip"
    legacy = make_legacy(source, tmp_path / "old.zip")
    with pytest.raises(InputError, match="vidmimic policy upgrade"):
        load_network(legacy)
    result = run_cli("policy", "upgrade", str(legacy))
    assert result.returncode == 0, result.stderr[-2000:]
    names = set(entries(legacy))
    assert "vidmimic/normalization.npz" in names and "vidmimic/normalization.pkl" not in names
    obs = varied_observations(source)
    assert np.array_equal(load_network(legacy).network.act(obs), load_network(source).network.act(obs))
    assert "already in today's format" in run_cli("policy", "upgrade", str(legacy)).stdout
    bad = make_legacy(source, tmp_path / "bad.zip")
    contents = entries(bad)
    contents["vidmimic/normalization.pkl"] = b"\x80\x04not a pickle"
    write_zip(bad, contents)
    assert_one_line_exit_2(run_cli("policy", "upgrade", str(bad)), "malformed vidmimic/normalization.pkl")
    assert entries(bad)["vidmimic/normalization.pkl"] == b"\x80\x04not a pickle"  # nothing half-written


def test_a_run_written_by_an_older_vidmimic_resumes_in_todays_format(trained, tmp_path):
    from control.policy_file import read_normalization

    run = tmp_path / "old_run"
    shutil.copytree(trained, run)
    make_legacy(trained / "checkpoint.zip", run / "checkpoint.zip")
    before = read_normalization(trained / "checkpoint.zip").obs_count
    result = run_cli("train", str(WALK), "-o", str(run), "--timesteps", "512", "--resume")
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("checkpoint.zip", "policy.zip"):
        names = set(entries(run / name))
        assert "vidmimic/normalization.npz" in names and "vidmimic/normalization.pkl" not in names
    assert read_normalization(run / "policy.zip").obs_count > before  # the old statistics were continued


def test_shipping_a_tracker_run_of_an_older_vidmimic_converts_it(tmp_path):
    from stable_baselines3 import PPO

    from control.policy_file import load_network
    from control.tracker_ship import ship

    run = tmp_path / "run"
    run.mkdir()
    make_legacy(POLICIES / "tracker" / "resume.zip", run / "checkpoint.zip")
    for name in ("config.json", "progress.csv"):
        shutil.copyfile(POLICIES / "tracker" / name, run / name)
    ship(run, tmp_path / "shipped", "test")
    for name in ("policy.zip", "resume.zip"):
        names = set(entries(tmp_path / "shipped" / name))
        assert "vidmimic/normalization.npz" in names and "vidmimic/normalization.pkl" not in names
    obs = varied_observations(POLICIES / "tracker" / "resume.zip", 16)
    vec = pickle.loads(entries(run / "checkpoint.zip")["vidmimic/normalization.pkl"])
    expected, _ = PPO.load(run / "checkpoint.zip", device="cpu").predict(vec.normalize_obs(obs), deterministic=True)
    assert np.abs(load_network(tmp_path / "shipped" / "policy.zip").network.act(obs) - expected).max() <= 1e-6
    assert (tmp_path / "shipped" / "policy.zip").stat().st_size < (tmp_path / "shipped" / "resume.zip").stat().st_size / 2


@pytest.mark.parametrize("case", ["garbage_weights", "garbage_npz"])
def test_a_malformed_warm_start_is_one_line(case, tmp_path):
    path = malformed_zip(case, tmp_path)
    result = run_cli("train", str(WALK), "-o", str(tmp_path / "run"), "--init", str(path), "--timesteps", "128", "--envs", "1", "--n-steps", "64")
    assert_one_line_exit_2(result, str(path), MALFORMED[case][1])
    assert not (tmp_path / "run" / "policy.zip").exists()


@pytest.mark.parametrize("command,option,says", [
    (("replay",), "policy", "runs no code"), (("evaluate",), "policy", "runs no code"), (("track",), "--policy", "runs no code"),
    (("train",), "--init", "runs code"), (("serve",), "--init-policy", "runs code"), (("run",), "--init-policy", "runs code"),
    (("tracker", "train"), "--init", "runs code"), (("tracker", "train"), "--resume-from", "runs code"),
])
def test_help_says_which_commands_run_code_from_a_policy_zip(command, option, says):
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    after_usage = lines.index("")
    first = next(i for i, line in enumerate(lines) if i > after_usage and line.startswith("  ") and line.split()[0] == option)
    rest = lines[first + 1:]
    end = next((i for i, line in enumerate(rest) if not line.startswith(" " * 6)), len(rest))  # the next option or section
    entry = " ".join(" ".join([lines[first], *rest[:end]]).split()).replace("stable- baselines3", "stable-baselines3")
    assert says in entry and "pickle" in entry, entry
