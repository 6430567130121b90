"""The video pass with its stages overlapped across the cores, the frames decoded once.

Threads hand frames on through small bounded queues (OpenCV's decoding, resizing, warping and
DIS flow and MediaPipe's graphs run without the GIL, so the threads run in parallel)::

    subject (its own sampling pass, two MediaPipe graphs) ──the person to follow──┐
    decode ──each frame──▶ pose (the MediaPipe follower) ◀───────────────────────┘
                                 └──frame, pose──▶ record (box, flow, overlay frame)

The subject is chosen as by ``subject.choose_subject``, from a frame about every second over the
first minute, before the follower starts on frame 0 (the choice needs the last sample: on a
clip where a second person comes in and wins, as in Sports2D's demo, no earlier guess holds).
Its sampling pass only grabs the frames between samples (decoded, not converted to BGR) and
stops at the last sample; its samples are looked at by two graphs at a time. Meanwhile the
follower's graph is built and the decoder fills its queue. Every frame is then decoded once
(BGR) for the pose, the flow and the overlay, which keeps its frames small
(``views.OverlayFrames``) instead of decoding the video a third time.

Memory: at most ``QUEUE_FRAMES`` full frames in each of two queues (about 0.1 GB at 1080p), plus
the overlay's small frames (about 0.1 GB for a 1080p minute at 30 frames/s).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pose_estimation.front_end import FrontEnd, FrontEndRecorder
from pose_estimation.mediapipe_pose import MediaPipePose
from pose_estimation.subject import choose_subject
from pose_estimation.video import Reader
from pose_estimation.views import OverlayFrames

Progress = Callable[[int, int], None]
QUEUE_FRAMES = 8  # frames waiting between two stages, at most
SUBJECT_WORKERS = 2  # MediaPipe graphs choosing the subject at the same time


@dataclass
class PipelinedPass:
    """The pass's results and the overlay's small frames (None if not kept)."""

    front: FrontEnd
    overlay_frames: OverlayFrames | None


class _Cancelled(Exception):
    """Another stage failed: stop."""


class _Channel:
    """A bounded queue between two threads that gives up when the pass is cancelled."""

    def __init__(self, cancel: threading.Event, size: int):
        self._queue: queue.Queue = queue.Queue(maxsize=size)
        self._cancel = cancel

    def put(self, item: Any) -> None:
        while True:
            try:
                self._queue.put(item, timeout=0.05)
                return
            except queue.Full:
                if self._cancel.is_set():
                    raise _Cancelled from None

    def get(self) -> Any:
        while True:
            try:
                return self._queue.get(timeout=0.05)
            except queue.Empty:
                if self._cancel.is_set():
                    raise _Cancelled from None


def _run(video: Path, person_box: np.ndarray | None, choose: bool, max_frames: int | None, progress: Progress | None,
         isolate: bool, keep_overlay: bool, on_follow: Callable[[], None] | None) -> tuple[FrontEnd, OverlayFrames | None]:
    """Start the stages' threads, wait for them, and re-raise the first failure (the others stop
    at their next hand-over); ``choose``: choose the subject first, else follow ``person_box``."""
    reader = Reader(video, max_frames)  # bad input raises here, in the caller's thread
    total = min(reader.frame_count or 1, max_frames or reader.frame_count or 1)
    cancel = threading.Event()
    to_pose, to_record = _Channel(cancel, QUEUE_FRAMES), _Channel(cancel, QUEUE_FRAMES)
    clock = {"decode": 0.0, "subject": 0.0, "keypoints": 0.0, "flow": 0.0, "overlay_frames": 0.0}
    subject = {"box": person_box}
    subject_known = threading.Event()
    if not choose:
        subject_known.set()
    recorder = FrontEndRecorder()
    overlay = OverlayFrames() if keep_overlay else None
    failures: list[BaseException] = []

    def decode() -> None:
        items = iter(reader)
        try:
            tick = time.perf_counter()
            for item in items:
                clock["decode"] += time.perf_counter() - tick
                to_pose.put(item)
                tick = time.perf_counter()
        finally:
            items.close()  # releases the file
        to_pose.put(None)

    def choose_subject_() -> None:
        tick = time.perf_counter()
        chosen = choose_subject(video, workers=SUBJECT_WORKERS, stop=cancel)
        if cancel.is_set():
            raise _Cancelled
        clock["subject"] = time.perf_counter() - tick
        subject["box"] = None if chosen is None else chosen[0]
        subject_known.set()

    def follow() -> None:
        pose = MediaPipePose(None)  # the graph is built while the subject is chosen
        try:
            while not subject_known.wait(0.05):
                if cancel.is_set():
                    raise _Cancelled
            pose.follow(subject["box"], isolate)
            if on_follow is not None:
                on_follow()
            while (item := to_pose.get()) is not None:
                t, frame = item
                tick = time.perf_counter()
                result = pose(frame)
                clock["keypoints"] += time.perf_counter() - tick
                to_record.put((t, frame, result))
        finally:
            pose.close()
        to_record.put(None)

    def record() -> None:
        while (item := to_record.get()) is not None:
            t, frame, result = item
            tick = time.perf_counter()
            recorder.add(t, frame, result)
            tock = time.perf_counter()
            clock["flow"] += tock - tick
            if overlay is not None:
                overlay.add(frame)
                clock["overlay_frames"] += time.perf_counter() - tock
            if progress:
                progress(min(len(recorder.times), total), total)

    def guarded(stage: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                stage()
            except _Cancelled:
                pass
            except BaseException as exc:  # re-raised in the calling thread
                failures.append(exc)
                cancel.set()

        return run

    stages = [decode, follow, record] + ([choose_subject_] if choose else [])
    threads = [threading.Thread(target=guarded(s), name=f"front-end-{s.__name__}", daemon=True) for s in stages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reader.close()
    if failures:
        raise failures[0]
    return recorder.result(video, reader.fps, clock), overlay


def run_front_end_pipelined(video: Path, person_box: np.ndarray | None = None, max_frames: int | None = None,
                            progress: Progress | None = None, isolate: bool = False, keep_overlay: bool = True,
                            on_follow: Callable[[], None] | None = None) -> PipelinedPass:
    """The video pass (see the module's docstring); ``person_box`` given: follow that person, no
    subject choice; ``keep_overlay``: keep the frames at overlay size for ``views.write_overlay``;
    ``on_follow``: called once the follower starts (the subject known), e.g. to start work that
    would slow the subject's choice if run beside it."""
    front, overlay = _run(Path(video), person_box, person_box is None, max_frames, progress, isolate, keep_overlay, on_follow)
    return PipelinedPass(front, overlay)
