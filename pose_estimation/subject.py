"""Choose the video's subject: the largest, most persistent person.

About once a second, people are detected with MediaPipe Pose in single-image mode on the
whole frame and on two overlapping halves along its long side (a person small in the frame
is found in a half). Detections are linked into tracks by overlap or a short move; a track scores the sum of
its box areas over the samples, so both size and persistence count. The winning track's
first box starts the per-frame pose follower.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from pose_estimation.camera import iou
from pose_estimation.video import sampled_frames

SAMPLE_EVERY_S = 1.0  # s between the frames looked at
MAX_SAMPLES = 60  # frames looked at, at most (the first minute)


@dataclass
class Track:
    boxes: list[np.ndarray] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)

    @property
    def score(self) -> float:
        return float(sum((b[2] - b[0]) * (b[3] - b[1]) for b in self.boxes))


def detect_people(frame: np.ndarray, pose) -> list[np.ndarray]:
    """Person boxes ``(4,)`` px in ``frame`` from a single-image MediaPipe Pose ``pose``."""
    h, w = frame.shape[:2]
    long_side = max(h, w)
    regions = [(0, 0, w, h)]
    cut = int(0.6 * long_side)
    if w >= h:
        regions += [(0, 0, cut, h), (w - cut, 0, w, h)]
    else:
        regions += [(0, 0, w, cut), (0, h - cut, w, h)]
    found: list[np.ndarray] = []
    for x0, y0, x1, y1 in regions:
        result = pose.process(cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_BGR2RGB))
        if result.pose_landmarks is None:
            continue
        pts = np.array([[p.x * (x1 - x0) + x0, p.y * (y1 - y0) + y0, p.visibility] for p in result.pose_landmarks.landmark])
        seen = pts[pts[:, 2] > 0.5, :2]
        if len(seen) < 6:
            continue
        box = np.concatenate([seen.min(axis=0), seen.max(axis=0)])
        if all(iou(box, other) < 0.5 for other in found):
            found.append(box)
    return found


def link_distance(a: np.ndarray, b: np.ndarray, min_iou: float = 0.2, max_shift: float = 1.0) -> float | None:
    """How far box ``b`` is from continuing box ``a`` (smaller is closer), or None if it cannot.

    Boxes that overlap (IoU >= ``min_iou``) continue a track; so does a box of similar height
    (within 1.5x) whose centre moved at most ``max_shift`` box heights — a person walking across
    the view moves about a body height a second, more than overlap allows at one sample a second.
    """
    overlap = iou(a, b)
    if overlap >= min_iou:
        return 1.0 - overlap
    ha, hb = a[3] - a[1], b[3] - b[1]
    if min(ha, hb) <= 0 or max(ha, hb) > 1.5 * min(ha, hb):
        return None
    shift = np.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2) / max(ha, hb)
    return 1.0 + shift if shift <= max_shift else None


def link_tracks(detections: list[tuple[int, list[np.ndarray]]], min_iou: float = 0.2) -> list[Track]:
    """Greedy linking of per-sample detections into tracks (see ``link_distance``), largest boxes first."""
    tracks: list[Track] = []
    for frame_index, boxes in detections:
        free = list(range(len(tracks)))
        for box in sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1])):
            candidates = [(d, t) for t in free if (d := link_distance(tracks[t].boxes[-1], box, min_iou)) is not None]
            if candidates:
                best = min(candidates)[1]
                tracks[best].boxes.append(box)
                tracks[best].frames.append(frame_index)
                free.remove(best)
            else:
                tracks.append(Track([box], [frame_index]))
    return tracks


def best_person(detections: list[tuple[int, list[np.ndarray]]]) -> tuple[np.ndarray, int, int] | None:
    """``(first box, its frame index, number of tracks)`` of the track of ``detections`` (per
    sampled frame, in frame order) with the largest :attr:`Track.score`, or None if there are none."""
    tracks = link_tracks(detections)
    if not tracks:
        return None
    best = max(tracks, key=lambda tr: tr.score)
    return best.boxes[0], best.frames[0], len(tracks)


class SubjectChooser:
    """:func:`choose_subject` one sample at a time: :meth:`add` the sampled frames in order;
    :meth:`choice` gives the choice over the samples added so far."""

    def __init__(self) -> None:
        from pose_estimation.mediapipe_pose import pose_solution

        self._pose = pose_solution().Pose(static_image_mode=True, model_complexity=1)
        self.detections: list[tuple[int, list[np.ndarray]]] = []

    def add(self, index: int, frame: np.ndarray) -> None:
        """Detect the people of sampled frame ``index`` (BGR ``(H, W, 3)``)."""
        self.detections.append((index, detect_people(frame, self._pose)))

    def choice(self) -> tuple[np.ndarray, int, int] | None:
        """:func:`best_person` of the samples added so far."""
        return best_person(self.detections)

    def close(self) -> None:
        self._pose.close()


def choose_subject(video: str | Path, every_seconds: float = SAMPLE_EVERY_S, max_samples: int = MAX_SAMPLES,
                   workers: int = 1, stop: threading.Event | None = None) -> tuple[np.ndarray, int, int] | None:
    """``(first box, its frame index, number of tracks)`` of the largest, most persistent person, or None.

    ``workers`` > 1: the samples are looked at by that many MediaPipe graphs in threads (they
    release the GIL) while the next samples are decoded. In single-image mode a graph keeps no
    state between images, so the detections, and the choice, are the same as with one.
    ``stop``: once set, no more samples are read (the caller abandons the choice)."""
    if workers <= 1:
        chooser = SubjectChooser()
        try:
            for index, _, frame in sampled_frames(video, every_seconds, max_samples):
                if stop is not None and stop.is_set():
                    break
                chooser.add(index, frame)
        finally:
            chooser.close()
        return chooser.choice()
    samples: queue.Queue = queue.Queue(maxsize=workers)
    choosers: list[SubjectChooser] = []
    failures: list[BaseException] = []

    def detect() -> None:
        try:
            chooser = SubjectChooser()
            choosers.append(chooser)
            while (item := samples.get()) is not None:
                if not failures:
                    chooser.add(*item)
        except BaseException as exc:  # re-raised below
            failures.append(exc)
            while samples.get() is not None:  # keep the decoding thread from blocking
                pass

    threads = [threading.Thread(target=detect, name=f"subject-{i}", daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    try:
        for index, _, frame in sampled_frames(video, every_seconds, max_samples):
            if failures or (stop is not None and stop.is_set()):
                break
            samples.put((index, frame))
    finally:
        for _ in threads:
            samples.put(None)
        for thread in threads:
            thread.join()
        for chooser in choosers:
            chooser.close()
    if failures:
        raise failures[0]
    return best_person(sorted((d for c in choosers for d in c.detections), key=lambda d: d[0]))
