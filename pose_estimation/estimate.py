"""``vidmimic estimate``: video -> keypoints, flow, SMPL motion, an overlay video and a side view.

Outputs in ``OUT/``:
    ``keypoints.npz``  COCO-17 keypoints, confidence, person box, occlusion flag, times (see keypoints.py)
    ``flow.npz``       ``flow (T, 32, 32, 2)`` float16 crop flow (crop widths per frame), ``times``
    ``motion_smpl.npz`` AMASS-style SMPL motion (Z up, as AMASS), stood upright by its legs
                       (``level.stand_upright``; with ``upright=False`` in the camera's frame)
    ``overlay.webm``   the video with the 2D keypoints (green) and the projected 3D skeleton (orange)
    ``side_view.webm`` the estimated 3D skeleton seen from the side

Estimators are registered by name in ``ESTIMATORS``: ``mediapipe_ik`` (MediaPipe world
landmarks + inverse kinematics) is the baseline; ``lifter`` is the motion-based network trained
on synthetic people (``lifter_research/lifter.py``); ``fused``, the default, is the two averaged
(``pose_estimation/fusion.py``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from characters.errors import atomic_output, input_error
from pose_estimation import DEFAULT_ESTIMATOR, check_estimator
from pose_estimation.front_end import FrontEnd, run_front_end_sequential
from pose_estimation.keypoints import write_keypoints
from pose_estimation.pipeline import run_front_end_pipelined
from pose_estimation.views import write_overlay, write_overlay_from_video, write_side_view

if TYPE_CHECKING:
    from retargeting.smpl import SmplMotion

__all__ = ["ESTIMATORS", "FrontEnd", "estimate", "fused", "lifter", "mediapipe_ik", "run_front_end"]

Progress = Callable[[int, int], None]
ProgressFactory = Callable[[str], Progress | None]
SEQUENTIAL_ENV = "VIDMIMIC_SEQUENTIAL_ESTIMATE"
"""Set to 1, ``estimate`` runs the sequential reference (three decodes, one stage at a time): for
``benchmarks/estimate_speed.py``'s "before" figure only."""


def run_front_end(video: Path, person_box: np.ndarray | None = None, max_frames: int | None = None, progress: Progress | None = None,
                  isolate: bool = False, sequential: bool = False) -> FrontEnd:
    """The video pass: MediaPipe pose per frame, the person box, and crop flow (``isolate``:
    keep to the person of ``person_box`` among others close by; see ``MediaPipePose``). Pipelined
    from one decode (``pipeline.py``); ``sequential``: the one-core reference, same result."""
    if sequential:
        return run_front_end_sequential(Path(video), person_box, max_frames, progress, isolate)
    return run_front_end_pipelined(Path(video), person_box, max_frames, progress, isolate, keep_overlay=False).front


def mediapipe_ik(front: FrontEnd) -> SmplMotion:
    """The baseline estimator."""
    from pose_estimation.landmarks_ik import landmarks_to_smpl

    kp = front.keypoints
    return landmarks_to_smpl(front.world, front.landmarks[..., :2], front.landmarks[..., 2], ~kp.occluded, front.fps, tuple(int(v) for v in kp.image_size))


def _warm_up(estimator: str) -> threading.Thread:
    """A thread (not started) that imports the estimator's modules and, for the lifter, loads its
    weights (the NumPy copy, ``lifter_numpy``), to run while the video is read."""

    def load() -> None:
        import pose_estimation.landmarks_ik  # noqa: F401
        import pose_estimation.level  # noqa: F401
        import retargeting.amass_file  # noqa: F401

        if estimator in ("lifter", "fused"):
            import pose_estimation.fusion  # noqa: F401
            from pose_estimation.lifter_estimator import SHIPPED_WEIGHTS, cached_lifter

            if SHIPPED_WEIGHTS.exists():
                cached_lifter(str(SHIPPED_WEIGHTS))

    return threading.Thread(target=load, name="estimate-warm-up", daemon=True)


def lifter(front: FrontEnd) -> SmplMotion:
    """The motion-based lifter with the shipped weights (``pose_estimation/weights/lifter.pt``)."""
    from pose_estimation.lifter_estimator import lifter_estimator  # the weights are read only when used

    return lifter_estimator()(front)


def fused(front: FrontEnd) -> SmplMotion:
    """The lifter and MediaPipe-IK averaged with equal weights (:func:`fusion.fuse_motions`)."""
    from pose_estimation.fusion import fused_estimator

    return fused_estimator(lifter, mediapipe_ik)(front)


ESTIMATORS: dict[str, Callable[[FrontEnd], SmplMotion]] = {"mediapipe_ik": mediapipe_ik, "lifter": lifter, "fused": fused}


class _Timed(threading.Thread):
    """A thread that times its work and keeps its exception for :meth:`result`."""

    def __init__(self, name: str, work: Callable[[], None]):
        super().__init__(name=name, daemon=True)
        self._work = work
        self.seconds = 0.0
        self.failure: BaseException | None = None

    def run(self) -> None:
        tick = time.perf_counter()
        try:
            self._work()
        except BaseException as exc:
            self.failure = exc
        self.seconds = time.perf_counter() - tick

    def result(self) -> float:
        self.join()
        if self.failure is not None:
            raise self.failure
        return self.seconds


def estimate(
    video: str | Path,
    out_dir: str | Path,
    estimator: str = DEFAULT_ESTIMATOR,
    person_box: np.ndarray | None = None,
    max_frames: int | None = None,
    progress: ProgressFactory | None = None,
    upright: bool = False,
    sequential: bool | None = None,
) -> dict:
    """Run the whole video stage; returns a summary of what was written. The motion is written as
    estimated, in the camera's frame, marked as a video estimate: putting it on the character
    (``retargeting.convert.as_character``, as ``vidmimic convert`` and ``run`` do) levels its
    floor. ``upright``: turn the motion written (and the side view) so its legs' median direction
    is vertical, for use as SMPL elsewhere; the overlay is drawn from the camera-frame estimate
    either way. ``sequential``: the one-core reference with
    three decodes (None: as ``$VIDMIMIC_SEQUENTIAL_ESTIMATE``), for the speed benchmark; the
    files are the same either way but for the overlay's pixels."""
    start = time.perf_counter()
    video, out = Path(video), Path(out_dir)
    check_estimator(estimator)
    if sequential is None:
        sequential = os.environ.get(SEQUENTIAL_ENV, "") == "1"
    bar = progress or (lambda label: None)
    warm = _warm_up(estimator)
    if sequential:
        warm.start()
        front, small = run_front_end_sequential(video, person_box, max_frames, bar("keypoints")), None
    else:
        # The warm-up (Python imports, holding the GIL) starts with the follower, not beside the
        # subject's choice, whose MediaPipe import it would slow.
        run = run_front_end_pipelined(video, person_box, max_frames, bar("keypoints"), on_follow=warm.start)
        front, small = run.front, run.overlay_frames
    if warm.ident is not None:
        warm.join()
    if front.keypoints.num_frames < 2:
        raise input_error(video, "a single frame: motion needs at least two frames")
    seconds = dict(front.stage_seconds)
    tick = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    write_keypoints(out / "keypoints.npz", front.keypoints)
    with atomic_output(out / "flow.npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, flow=front.flow, times=front.keypoints.times)
    seconds["writing"] = time.perf_counter() - tick
    from pose_estimation.level import stand_upright
    from retargeting.amass_file import write_amass

    tick = time.perf_counter()
    motion = ESTIMATORS[estimator](front)
    seconds["estimator"] = time.perf_counter() - tick
    written, turned_deg = stand_upright(motion) if upright else (motion, None)
    written = replace(written, source="video")  # the reference step (retargeting.convert.as_character) cleans it as a video estimate
    write_amass(out / "motion_smpl.npz", written)
    joints, _ = motion.skeleton.forward_kinematics(motion.pelvis_positions, motion.local_rotations)  # numpy FK: no torch start-up
    side, _ = written.skeleton.forward_kinematics(written.pelvis_positions, written.local_rotations)
    kp, overlay_bar = front.keypoints, bar("overlay")
    if sequential:
        tick = time.perf_counter()
        write_overlay_from_video(video, out / "overlay.webm", kp, front.fps, joints, max_frames, overlay_bar)
        seconds["overlay"] = time.perf_counter() - tick
        tick = time.perf_counter()
        write_side_view(out / "side_view.webm", side, front.fps)
        seconds["side_view"] = time.perf_counter() - tick
    else:  # the two videos encode at the same time, one on each core
        side_view = _Timed("side-view", lambda: write_side_view(out / "side_view.webm", side, front.fps))
        side_view.start()
        tick = time.perf_counter()
        write_overlay(small, out / "overlay.webm", kp, front.fps, joints, overlay_bar)
        seconds["overlay"] = time.perf_counter() - tick
        seconds["side_view"] = side_view.result()
    wall = time.perf_counter() - start
    frames = kp.num_frames
    return {
        "frames": frames,
        "fps": front.fps,
        "frames_without_person": int(kp.occluded.sum()),
        "estimator": estimator,
        "stood_upright_by_deg": None if turned_deg is None else round(turned_deg, 1),  # None: left in the camera's frame
        "front_end": "sequential" if sequential else "pipelined",
        "seconds_by_stage": {stage: round(s, 4) for stage, s in seconds.items()},  # work per stage; pipelined stages overlap
        "frames_per_second_by_stage": {stage: frames / max(s, 1e-9) for stage, s in seconds.items()},
        "seconds": round(wall, 4),  # the call's wall clock (the interpreter's start-up and imports before it not included)
        "frames_per_second_end_to_end": frames / max(wall, 1e-9),
        "files": sorted(p.name for p in out.iterdir() if not p.name.startswith(".")),
    }
