"""The lifter's NumPy forward pass (``pose_estimation/lifter_numpy.py``) against the torch network."""

import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from lifter_research.lifter import Lifter, LifterConfig
from lifter_research.lifter_train import save_weights, write_numpy_weights
from pose_estimation.lifter_numpy import NumpyLifter, numpy_arrays, numpy_weights_for
from tests.conftest import ROOT, SHARED_DATA, require_shared


def random_batch(rng, clips=3, frames=20):
    return {
        "keypoints": rng.random((clips, frames, 17, 2)).astype(np.float32),
        "confidence": rng.random((clips, frames, 17)).astype(np.float32),
        "occluded": rng.random((clips, frames)) < 0.15,
        "flow": (0.02 * rng.normal(size=(clips, frames, 32, 32, 2))).astype(np.float32),
    }


def trained_looking(config: LifterConfig, seed: int) -> Lifter:
    """A Lifter with every parameter and batch-norm statistic random (a fresh one has zeros in
    its last layer and unit statistics, which would hide mistakes)."""
    torch.manual_seed(seed)
    model = Lifter(config)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if "num_batches" in name:
                continue
            noise = 0.1 * torch.randn_like(tensor)
            tensor.copy_(torch.rand_like(tensor) + 0.5 if "running_var" in name else tensor + noise if name == "mean" else noise)
    return model.eval()


@pytest.mark.parametrize("inputs, sizes", [("flow+keypoints", {}), ("keypoints", {}), ("flow", {}),
                                           ("flow+keypoints", {"channels": (8, 16), "features": 48, "lstm": 40})])
def test_numpy_forward_matches_torch(inputs, sizes):
    config = LifterConfig(inputs=inputs, window=20, **sizes)
    model = trained_looking(config, seed=len(inputs) + len(sizes))
    batch = random_batch(np.random.default_rng(0))
    with torch.no_grad():
        want = model({k: torch.as_tensor(v) for k, v in batch.items()})
    got = NumpyLifter(config, numpy_arrays(model.state_dict(), config.channels))(batch)
    for key in ("rotations", "betas", "camera"):
        assert got[key].shape == tuple(want[key].shape)
        assert np.abs(got[key] - want[key].numpy()).max() < 1e-4, key
    assert np.abs(want["rotations"].numpy()).max() > 0.1 and np.abs(want["betas"].numpy()).max() > 1e-3  # not trivially zero


def test_the_shipped_numpy_copy_is_of_the_shipped_weights():
    from pose_estimation.lifter_estimator import SHIPPED_WEIGHTS, cached_lifter

    assert numpy_weights_for(SHIPPED_WEIGHTS) is not None, "pose_estimation/weights/lifter.npz is missing or stale: python -c 'from lifter_research.lifter_train import write_numpy_weights as w; w(\"pose_estimation/weights/lifter.pt\")'"
    assert isinstance(cached_lifter(str(SHIPPED_WEIGHTS)), NumpyLifter)


def test_saved_weights_get_a_copy_and_a_stale_copy_is_not_used(tmp_path):
    config = LifterConfig(window=8)
    weights = tmp_path / "lifter.pt"
    save_weights(weights, trained_looking(config, seed=1))
    copy = numpy_weights_for(weights)
    assert copy is not None and copy.config == config
    stale = tmp_path / "stale.npz"
    shutil.copy(weights.with_suffix(".npz"), stale)
    save_weights(weights, trained_looking(config, seed=2))  # new weights, new copy
    assert numpy_weights_for(weights) is not None
    shutil.copy(stale, weights.with_suffix(".npz"))  # the old copy beside the new weights
    assert numpy_weights_for(weights) is None
    assert write_numpy_weights(weights) == weights.with_suffix(".npz") and numpy_weights_for(weights) is not None


def test_weights_without_their_numpy_copy_are_refused_by_the_estimate(tmp_path):
    from characters.errors import InputError
    from pose_estimation.lifter_estimator import cached_lifter

    weights = tmp_path / "lifter.pt"
    save_weights(weights, trained_looking(LifterConfig(window=8), seed=1))
    weights.with_suffix(".npz").unlink()
    with pytest.raises(InputError, match="write_numpy_weights"):
        cached_lifter(str(weights))


def test_estimate_with_the_lifter_does_not_import_torch(tmp_path):
    video = require_shared(SHARED_DATA / "multiview" / "pose2sim_single" / "videos" / "cam01.mp4")
    code = (f"import sys; from pose_estimation.estimate import estimate; estimate({str(video)!r}, {str(tmp_path / 'out')!r}, 'fused', max_frames=12); "
            "assert 'torch' not in sys.modules and 'matplotlib' not in sys.modules, sorted(m for m in sys.modules if m in ('torch', 'matplotlib'))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
