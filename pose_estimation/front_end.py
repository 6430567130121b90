"""The video pass's per-frame results (:class:`FrontEnd`) and the sequential pass.

Per frame: MediaPipe pose (the followed person's 33 landmarks, in pixels and in metres), the
person box smoothed over time, and the crop flow inside it (``flow.py``). :class:`FrontEndRecorder`
turns the frames' pose results into these arrays; the sequential pass
(:func:`run_front_end_sequential`: choose the subject in a pass of its own, then decode, pose and
flow one frame after another on one core) and the pipelined one (``pipeline.py``) both use it, so
their arithmetic is the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from characters.errors import input_error
from pose_estimation.camera import BOX_SMOOTHING
from pose_estimation.flow import CropFlow, FlowOptions
from pose_estimation.keypoints import FROM_MEDIAPIPE33, Keypoints2D
from pose_estimation.mediapipe_pose import MediaPipePose, PoseResult

Progress = Callable[[int, int], None]


@dataclass
class FrontEnd:
    """Per-frame results of the video pass (T frames)."""

    keypoints: Keypoints2D
    flow: np.ndarray  # (T, 32, 32, 2) float16
    landmarks: np.ndarray  # (T, 33, 3) px x, y and visibility
    world: np.ndarray  # (T, 33, 3) m
    fps: float
    stage_seconds: dict[str, float]  # s of work per stage (threads of the pipelined pass overlap)


class FrontEndRecorder:
    """Collects frames in order: ``add(time s, BGR frame, pose result or None)`` smooths the
    person box, computes the crop flow and keeps both; :meth:`result` gives the :class:`FrontEnd`."""

    def __init__(self) -> None:
        self.flow = CropFlow(FlowOptions())
        self.times: list[float] = []
        self.landmarks: list[np.ndarray] = []
        self.world: list[np.ndarray] = []
        self.flows: list[np.ndarray] = []
        self.boxes: list[np.ndarray] = []
        self.present: list[bool] = []
        self.image_size: tuple[int, int] | None = None  # px width, height
        self._smoothed: np.ndarray | None = None

    def add(self, t: float, frame: np.ndarray, result: PoseResult | None) -> None:
        if self.image_size is None:
            self.image_size = (frame.shape[1], frame.shape[0])
        self.times.append(t)
        self.present.append(result is not None)
        if result is None:
            self._smoothed = None
            self.landmarks.append(np.zeros((33, 3)))
            self.world.append(np.zeros((33, 3)))
            self.boxes.append(np.zeros(4))
            self.flows.append(self.flow(frame, None))
            return
        self.landmarks.append(result.landmarks)
        self.world.append(result.world)
        box = result.box()
        # The crop box is smoothed over time (exponentially), so the flow crop does not jitter.
        smoothed = box if self._smoothed is None else BOX_SMOOTHING * self._smoothed + (1 - BOX_SMOOTHING) * box
        self._smoothed = smoothed
        self.boxes.append(smoothed)
        self.flows.append(self.flow(frame, smoothed))

    def result(self, video: Path, nominal_fps: float, stage_seconds: dict[str, float]) -> FrontEnd:
        """The arrays; raises the one-line input error when no frame had a person."""
        present = np.array(self.present)
        if not present.any():
            raise input_error(video, "no person found in any frame")
        lm = np.array(self.landmarks)
        kp = Keypoints2D(
            keypoints=lm[:, FROM_MEDIAPIPE33, :2],
            confidence=np.clip(lm[:, FROM_MEDIAPIPE33, 2], 0, 1),
            bbox=np.array(self.boxes),
            occluded=~present,
            times=np.array(self.times),
            image_size=np.array(self.image_size, dtype=float),
        )
        times = self.times
        fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else (nominal_fps or 30.0)
        return FrontEnd(kp, np.array(self.flows), lm, np.array(self.world), fps, stage_seconds)


def run_front_end_sequential(video: Path, person_box: np.ndarray | None = None, max_frames: int | None = None,
                             progress: Progress | None = None, isolate: bool = False) -> FrontEnd:
    """The pass one step after another on one core: the subject chosen in a decode of its own
    (``subject.choose_subject``), then decode, pose and flow per frame. Kept as the reference the
    pipelined pass is tested and measured against (``benchmarks/estimate_speed.py``)."""
    from pose_estimation.subject import choose_subject
    from pose_estimation.video import frames, probe

    info = probe(video)
    total = min(info.frame_count or 1, max_frames or info.frame_count or 1)
    clock = {"decode": 0.0, "keypoints": 0.0, "flow": 0.0, "subject": 0.0}
    if person_box is None:
        tick = time.perf_counter()
        chosen = choose_subject(video)
        clock["subject"] = time.perf_counter() - tick
        person_box = None if chosen is None else chosen[0]
    pose = MediaPipePose(person_box, isolate=isolate)
    recorder = FrontEndRecorder()
    try:
        stream = frames(video, max_frames)
        while True:
            tick = time.perf_counter()
            try:
                t, frame = next(stream)
            except StopIteration:
                break
            tock = time.perf_counter()
            clock["decode"] += tock - tick
            result = pose(frame)
            tick = time.perf_counter()
            clock["keypoints"] += tick - tock
            recorder.add(t, frame, result)
            clock["flow"] += time.perf_counter() - tick
            if progress:
                progress(min(len(recorder.times), total), total)
    finally:
        pose.close()
    recorder.image_size = (info.width, info.height)
    return recorder.result(video, info.fps, clock)
