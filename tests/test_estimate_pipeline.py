"""The pipelined ``vidmimic estimate`` (one decode, stages overlapped across the cores) against the
sequential reference it replaced: the same estimate, and a failing stage stops every thread."""

import threading
import time

import cv2
import numpy as np
import pytest

from pose_estimation.estimate import estimate, run_front_end
from pose_estimation.pipeline import run_front_end_pipelined
from tests.conftest import SHARED_DATA, require_shared

SPORTS2D = SHARED_DATA / "video" / "sports2d_demo.mp4"
POSE2SIM_CAM2 = SHARED_DATA / "multiview" / "pose2sim_single" / "videos" / "cam02.mp4"


def _frames(path):
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, frame = cap.read()
        if not ok:
            return out
        out.append(frame)


def test_the_pipelined_estimate_equals_the_sequential_one(tmp_path):
    """On Sports2D's clip, where a second person walks in at 2 s and becomes the subject (the
    choice needs every sample of the video, not only the 40 frames estimated), the three files of
    the estimate are bit for bit the sequential path's: the same frames reach the same MediaPipe
    graphs in the same order, and the subject's single-image detections keep no state between
    images, so two graphs give what one gives. Only the overlay's pixels differ (its small frames
    are kept as JPEG instead of decoded again)."""
    video = require_shared(SPORTS2D)
    outs = {}
    for sequential in (True, False):
        outs[sequential] = tmp_path / ("sequential" if sequential else "pipelined")
        summary = estimate(video, outs[sequential], "fused", max_frames=40, sequential=sequential)
        assert summary["front_end"] == ("sequential" if sequential else "pipelined") and summary["frames"] == 40
    for name in ("keypoints.npz", "flow.npz", "motion_smpl.npz"):
        with np.load(outs[True] / name) as before, np.load(outs[False] / name) as after:
            assert before.files == after.files, name
            for key in before.files:
                assert before[key].dtype == after[key].dtype and np.array_equal(before[key], after[key]), (name, key)
    with np.load(outs[False] / "keypoints.npz") as k:
        # followed from the box where the later subject first appears (frame 60, on the right): nobody there in frame 0
        assert k["occluded"][0] and not k["occluded"][5:].any()
    before, after = _frames(outs[True] / "overlay.webm"), _frames(outs[False] / "overlay.webm")
    assert len(before) == len(after) == 40 and before[0].shape == after[0].shape
    assert min(cv2.PSNR(a, b) for a, b in zip(before, after)) > 30.0


def test_the_harness_front_end_is_the_sequential_one():
    """The research harness's front end (``run_front_end``, no overlay frames kept) on a portrait
    60 frames/s phone view with one person: every array the same, bit for bit, so the harness's
    figures are the sequential path's."""
    video = require_shared(POSE2SIM_CAM2)
    before = run_front_end(video, max_frames=30, sequential=True)
    after = run_front_end(video, max_frames=30)
    assert before.keypoints.image_size.tolist() == [1080, 1920] and before.fps == after.fps
    for name in ("keypoints", "confidence", "bbox", "occluded", "times", "image_size"):
        assert np.array_equal(getattr(before.keypoints, name), getattr(after.keypoints, name)), name
    for name in ("flow", "landmarks", "world"):
        assert np.array_equal(getattr(before, name), getattr(after, name)), name


def test_a_failing_stage_stops_every_thread():
    """An error in one stage (here the progress callback of the recording stage) reaches the
    caller, and the decoding and pose threads, blocked on full queues, end too."""
    video = require_shared(SPORTS2D)

    def progress(done, total):
        if done == 3:
            raise RuntimeError("stop at frame 3")

    start = time.monotonic()
    with pytest.raises(RuntimeError, match="stop at frame 3"):
        run_front_end_pipelined(video, person_box=np.array([1284.0, 576.0, 1496.0, 944.0]), max_frames=60, progress=progress)
    assert time.monotonic() - start < 60
    assert not [t.name for t in threading.enumerate() if t.name.startswith("front-end-")]
