"""The lifter's mocap library: every source read, the held-out set of heldout.json kept out of training."""

import json
import shutil
import time

import numpy as np
import pytest

from characters.errors import InputError
from characters.places import SHARED_MOCAP
from control.motion_library import subject_and_category
from lifter_research.body_model import NUM_BETAS
from lifter_research.mocap_library import HELD_OUT_FILE, cmu_subject, load_held_out, load_library, motion_files, read_clip, select_files, summary
from lifter_research.synthetic import world_joints
from tests.conftest import require_shared, run_cli

LIBRARY = SHARED_MOCAP / "cmu_library"
ORIGINAL = {"131_02", "humanoid3d_long_walk3", "humanoid3d_dance_b", "humanoid3d_spinkick"}
"""The four motions held out before the library was read (the earlier held-out figures are on them)."""
KINDS = {"dance": ("dance_",), "jumps": ("jump_",), "martial arts": ("martial_arts", "punch_boxing")}
"""Kinds of motion the held-out set must cover, as prefixes of index.csv's categories."""


def kind_of(path) -> str | None:
    category = subject_and_category(path)[1]
    return next((kind for kind, prefixes in KINDS.items() if category.startswith(prefixes)), None)


def test_held_out_file_names_its_sets_and_reasons():
    held = load_held_out()
    assert {stem for stem, subset in held.clips.items() if subset == "original"} == ORIGINAL
    assert held.subjects and set(held.subjects.values()) == {"library"}
    entries = json.loads(HELD_OUT_FILE.read_text())
    assert all(len(e["reason"]) > 20 for e in entries["clips"] + entries["subjects"])


def test_training_and_held_out_files_are_disjoint_by_file_and_by_subject():
    require_shared(LIBRARY / "index.csv")
    files = motion_files()
    train, held_out = select_files(files, held_out=False), select_files(files, held_out=True)
    assert sorted(train + held_out) == sorted(files) and not set(train) & set(held_out)
    assert not {p.stem for p in train} & {p.stem for p in held_out}
    held = load_held_out()
    assert not {cmu_subject(p) for p in train} & set(held.subjects)
    assert ORIGINAL <= {p.stem for p in held_out}
    # Every trial of a held-out subject in the library is held out (whole subjects).
    library = [p for p in files if LIBRARY in p.parents]
    assert len(library) == 117
    assert {p for p in library if cmu_subject(p) in held.subjects} == {p for p in held_out if LIBRARY in p.parents}
    # The subsets split the held-out set.
    original, subjects = select_files(files, True, "original"), select_files(files, True, "library")
    assert {p.stem for p in original} == ORIGINAL and sorted(original + subjects) == sorted(held_out)
    assert summary(files) == {"files": len(files), "train": len(train), "all": len(held_out), "original": 4, "library": len(subjects)}


def test_each_held_out_kind_of_motion_also_trains():
    require_shared(LIBRARY / "index.csv")
    files = motion_files()
    held_kinds = {kind_of(p) for p in select_files(files, True, "library")}
    train_kinds = {kind_of(p) for p in select_files(files, False)}
    assert set(KINDS) <= held_kinds and set(KINDS) <= train_kinds


def test_a_held_out_subject_is_held_out_from_any_folder(tmp_path):
    """A copy of a held-out subject's trial given with --mocap is held out by its CMU name."""
    source = require_shared(LIBRARY / "cmu_other" / "16_01.bvh")
    folder = tmp_path / "more"
    folder.mkdir()
    shutil.copy(source, folder / "16_01.bvh")
    shutil.copy(source, folder / "my_jump.bvh")  # not a CMU name, not listed: it may train
    files = motion_files([folder])
    assert folder / "16_01.bvh" in select_files(files, held_out=True)
    trained = select_files(files, held_out=False)
    assert folder / "16_01.bvh" not in trained and folder / "my_jump.bvh" in trained
    names = {c.name for c in load_library([folder / "16_01.bvh", folder / "my_jump.bvh"], held_out=False, cache=None)}
    assert names == {"my_jump"}


def test_a_bad_held_out_file_or_set_is_one_clear_error(tmp_path):
    bad = tmp_path / "heldout.json"
    for text, message in (("{", "not a held-out file"), (json.dumps({"sets": {"a": ""}, "clips": [{"clip": "x", "set": "b", "reason": "r"}], "subjects": []}),
                                                          "needs a clip"),
                          (json.dumps({"sets": {"a": ""}, "clips": [{"clip": "x", "set": "a", "reason": "r"}] * 2, "subjects": []}), "listed twice")):
        bad.write_text(text)
        with pytest.raises(InputError, match=message):
            load_held_out(bad)
    with pytest.raises(InputError, match="no held-out set 'dance'"):
        select_files(motion_files(), held_out=True, subset="dance")
    refused = run_cli("estimator", "data", str(tmp_path / "out"), "--clips", "1", "--frames", "8", "--held-out", "dance")
    assert refused.returncode == 2 and "no held-out set 'dance'" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_converted_clips_are_cached_by_content(tmp_path):
    source = require_shared(LIBRARY / "cmu_other" / "16_01.bvh")
    cache = tmp_path / "cache"
    first = read_clip(source, cache)
    (cached,) = cache.iterdir()
    again = read_clip(source, cache)
    assert np.array_equal(first.rotations, again.rotations) and np.array_equal(first.pelvis, again.pelvis)
    assert again.name == "16_01" and first.num_frames == 81  # 2.68 s at 30 frames/s
    cached.write_bytes(b"damaged")
    repaired = read_clip(source, cache)
    assert np.array_equal(repaired.rotations, first.rotations) and len(list(cache.iterdir())) == 1


@pytest.mark.parametrize("name", ["cmu_cc3/06_09.bvh", "cmu_daz/13_11.bvh"])
def test_every_convention_stands_on_the_floor(name):
    """A Reallusion CC3 file (its floor 0.8 m below the importer's) and a DAZ file: the feet meet y = 0."""
    clip = read_clip(require_shared(LIBRARY / name), cache=None)
    joints = world_joints(clip.rotations.astype(float), clip.pelvis.astype(float), np.zeros(NUM_BETAS))
    lowest = joints[..., 1].min(axis=1)
    assert abs(np.percentile(lowest, 5)) < 0.05 and 0.7 < np.median(clip.pelvis[:, 1]) < 1.1


def test_data_command_reads_the_library_smoke(tmp_path):
    """What CI runs: the smallest training dataset over the whole library (the first run converts
    the library's training clips into the cache)."""
    require_shared(LIBRARY / "index.csv")
    start = time.monotonic()
    out = tmp_path / "data"
    done = run_cli("estimator", "data", str(out), "--clips", "2", "--frames", "16", "--seed", "5")
    assert done.returncode == 0, done.stderr
    meta = json.loads((out / "dataset.json").read_text())
    assert len(meta["sources"]) == len(motion_files()) and "61_01.bvh" in meta["sources"] and not meta["held_out"]
    with np.load(out / "shard_0000.npz") as shard:
        assert shard["joints"].shape == (2, 16, 24, 3) and np.isfinite(shard["joints"]).all()
    print(f"a two-clip dataset in {time.monotonic() - start:.1f} s")


def test_held_out_set_dataset_draws_from_its_subjects_only(tmp_path):
    require_shared(LIBRARY / "index.csv")
    held = tmp_path / "held"
    done = run_cli("estimator", "data", str(held), "--clips", "2", "--frames", "16", "--seed", "5", "--held-out", "library")
    assert done.returncode == 0, done.stderr
    assert json.loads((held / "dataset.json").read_text())["held_out_set"] == "library"
    from lifter_research.synthetic_dataset import dataset_sources

    library_stems = {p.stem for p in select_files(motion_files(), True, "library")}
    assert set(dataset_sources(held, 2)) <= library_stems
