"""Bad input: one clear line naming the file and the problem, exit code 2, nothing written."""

import json

import numpy as np
import pytest

from tests.conftest import WALK, run_cli


def walk_json():
    return json.loads(WALK.read_text())


def write_clip(path, data):
    path.write_text(json.dumps(data))
    return path


def case_truncated_json(tmp):
    p = tmp / "truncated.txt"
    p.write_text(WALK.read_text()[:500])
    return p, "truncated JSON"


def case_wrong_width(tmp):
    data = walk_json()
    data["Frames"][3] = data["Frames"][3][:-2]
    return write_clip(tmp / "narrow.txt", data), "frame 3 has 42 values, expected 44"


def case_nan(tmp):
    data = walk_json()
    text = json.dumps(data).replace(str(data["Frames"][5][9]), "NaN", 1)
    p = tmp / "nan.txt"
    p.write_text(text)
    return p, "NaN or infinite"


def case_empty_clip(tmp):
    return write_clip(tmp / "empty.txt", {"Loop": "wrap", "Frames": []}), "empty clip"


def case_bad_loop(tmp):
    data = walk_json()
    data["Loop"] = "bounce"
    return write_clip(tmp / "loop.txt", data), '"Loop" is \'bounce\''


def case_unknown_bvh_joints(tmp):
    p = tmp / "robot.bvh"
    p.write_text(
        "HIERARCHY\nROOT Base\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
        " JOINT Arm\n {\n  OFFSET 0 1 0\n  CHANNELS 3 Zrotation Xrotation Yrotation\n  End Site\n  {\n   OFFSET 0 1 0\n  }\n }\n}\n"
        "MOTION\nFrames: 1\nFrame Time: 0.033333\n0 0 0 0 0 0 0 0 0\n"
    )
    return p, "unknown BVH joints"


def case_truncated_bvh(tmp):
    p = tmp / "cut.bvh"
    p.write_text("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition")
    return p, "truncated BVH"


def case_bvh_frame_count(tmp):
    p = tmp / "short.bvh"
    p.write_text(
        "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 3 Xposition Yposition Zposition\n End Site\n {\n  OFFSET 0 1 0\n }\n}\n"
        "MOTION\nFrames: 3\nFrame Time: 0.01\n0 0 0\n0 0 0\n"
    )
    return p, "expected 3 frames of 3 values"


def case_npz_without_poses(tmp):
    p = tmp / "bad.npz"
    np.savez(p, trans=np.zeros((4, 3)))
    return p, 'no "poses"'


def case_npz_nan(tmp):
    p = tmp / "nan.npz"
    poses = np.zeros((4, 72))
    poses[2, 5] = np.nan
    np.savez(p, poses=poses, trans=np.zeros((4, 3)), mocap_framerate=30.0)
    return p, "NaN"


def case_not_npz(tmp):
    p = tmp / "text.npz"
    p.write_text("hello")
    return p, "not a readable npz"


def case_npz_frame_rate_not_one_number(tmp):
    p = tmp / "rates.npz"
    np.savez(p, poses=np.zeros((4, 72)), trans=np.zeros((4, 3)), mocap_framerate=np.array([30.0, 60.0]))
    return p, '"mocap_framerate" has shape (2,); expected one number'


def case_npz_poses_of_text(tmp):
    p = tmp / "words.npz"
    np.savez(p, poses=np.full((4, 72), "a"), trans=np.zeros((4, 3)), mocap_framerate=30.0)
    return p, '"poses" is not numeric'


def case_npz_frame_rate_of_text(tmp):
    p = tmp / "thirty.npz"
    np.savez(p, poses=np.zeros((4, 72)), trans=np.zeros((4, 3)), mocap_framerate="thirty")
    return p, '"mocap_framerate" is not numeric'


def case_bvh_unknown_channel(tmp):
    p = tmp / "channel.bvh"
    p.write_text(
        "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 3 Xposition Yposition Qrotation\n End Site\n {\n  OFFSET 0 1 0\n }\n}\n"
        "MOTION\nFrames: 1\nFrame Time: 0.01\n0 0 0\n"
    )
    return p, "unknown channel 'Qrotation'"


def case_bvh_negative_channel_count(tmp):
    p = tmp / "negative.bvh"
    p.write_text("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS -2 Xposition Yposition\n}\nMOTION\nFrames: 1\nFrame Time: 0.01\n0\n")
    return p, "CHANNELS -2"


def case_json_nested_too_deeply(tmp):
    p = tmp / "deep.txt"
    p.write_text("[" * 100_000 + "]" * 100_000)
    return p, "nested too deeply"


def case_missing_file(tmp):
    return tmp / "nowhere.txt", "no such file"


def case_unknown_extension(tmp):
    p = tmp / "motion.fbx"
    p.write_text("x")
    return p, "unsupported input format .fbx"


CASES = [v for k, v in sorted(globals().items()) if k.startswith("case_")]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__[5:])
@pytest.mark.parametrize("output", ["out.glb", "out.npz"])  # a character and an SMPL output
def test_bad_input_is_one_clear_line_and_writes_nothing(case, output, tmp_path):
    src, expected = case(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = run_cli("convert", str(src), str(out_dir / output))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert src.name in lines[0] and expected in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    assert list(out_dir.iterdir()) == []  # no output, no temporary file


def test_unsupported_output_format(tmp_path):
    result = run_cli("convert", str(WALK), str(tmp_path / "out.fbx"))
    assert result.returncode == 2 and "unsupported output format .fbx" in result.stderr
    assert not (tmp_path / "out.fbx").exists()


def test_failed_write_leaves_no_partial_file(tmp_path, character, monkeypatch):
    """An exception in the middle of writing leaves neither the target nor a temporary file."""
    from retargeting import deepmimic_file

    motion = deepmimic_file.read_deepmimic(WALK, character)
    motion.root_pos[4, 1] = np.nan
    with pytest.raises(ValueError):
        deepmimic_file.write_deepmimic(tmp_path / "x.txt", motion)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [("train", "{walk}", "-o", "{run}", "--init", "{missing}"), ("run", "{walk}", "-o", "{run}", "--init-policy", "{missing}")])
def test_a_missing_warm_start_policy_is_one_line(command, tmp_path):
    from tests.conftest import WALK

    missing = tmp_path / "no_policy.zip"
    args = [a.format(walk=WALK, run=tmp_path / "run", missing=missing) for a in command]
    result = run_cli(*args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no_policy.zip" in lines[0] and "no such file" in lines[0], result.stderr
    assert not (tmp_path / "run").exists()


def test_blend_needs_two_cyclic_motions(tmp_path):
    data = walk_json()
    data["Loop"] = "none"
    once = write_clip(tmp_path / "once.txt", data)
    out = tmp_path / "blend.txt"
    result = run_cli("blend", str(WALK), str(once), "--alpha", "0.5", "-o", str(out))
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0 and "cyclic" in result.stderr, result.stderr
    assert run_cli("blend", str(WALK), str(WALK), "--alpha", "1.5", "-o", str(out)).returncode == 2
    assert not out.exists()
    assert run_cli("blend", str(WALK), str(WALK), "--alpha", "0.5", "-o", str(out)).returncode == 0 and out.exists()


@pytest.mark.parametrize("flags, expected", [(("--symmetric",), "add --loop"), (("--pin-stance",), "add --loop"), (("--loop", "--swing-clearance", "0.5"), "between 0 and 0.3 m"),
                                            (("--walk", "--loop"), "either --walk or --loop")])
def test_gait_cycle_edits_need_a_loop_and_a_sane_clearance(flags, expected, tmp_path):
    result = run_cli("run", str(WALK), "-o", str(tmp_path / "run"), *flags)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert not (tmp_path / "run").exists()


def test_a_negative_root_deviation_limit_is_one_line(tmp_path):
    result = run_cli("train", str(WALK), "-o", str(tmp_path / "run"), "--max-root-deviation", "-1")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1 and "--max-root-deviation" in result.stderr, result.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("command", [["estimate", "VIDEO", "-o", "OUT"], ["run", "VIDEO", "-o", "OUT"], ["serve", "--data", "OUT"]])
def test_an_unknown_estimator_is_one_line(command, tmp_path):
    args = [str(WALK) if a == "VIDEO" else str(tmp_path / "out") if a == "OUT" else a for a in command]
    result = run_cli(*args, "--estimator", "hmr")
    assert result.returncode == 2 and "unknown estimator 'hmr'; registered: mediapipe_ik, lifter, fused" in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()
