"""The estimate's two videos: the overlay (the video with the 2D keypoints and the projected 3D
skeleton) and the side view (the 3D skeleton seen from the person's right).

The overlay is drawn on the video downscaled to ``OVERLAY_LONG_SIDE``. The pipelined estimate
keeps those small frames from its one decode (:class:`OverlayFrames`, JPEG-compressed in memory)
instead of decoding the video again; the sequential reference decodes it again
(:func:`write_overlay_from_video`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from characters.errors import atomic_output
from characters.video_out import open_writer
from pose_estimation.camera import project
from pose_estimation.keypoints import Keypoints2D

Progress = Callable[[int, int], None]
OVERLAY_LONG_SIDE = 480  # px: browser-playable VP8 costs time per pixel
OVERLAY_JPEG_QUALITY = 90  # the kept small frames; the VP8 overlay itself is coarser (about 37 dB PSNR)

# SMPL bones drawn in overlays (parent -> child).
SMPL_BONES = [(p, c) for c, p in enumerate([-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]) if p >= 0]
COCO_BONES = [(5, 7), (7, 9), (6, 8), (8, 10), (5, 6), (5, 11), (6, 12), (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (0, 5), (0, 6)]


def overlay_size(image_size: tuple[int, int]) -> tuple[tuple[int, int], float]:
    """``((width, height) px, scale)`` of the overlay of a video of ``image_size`` (width, height) px."""
    scale = min(1.0, OVERLAY_LONG_SIDE / max(image_size))
    return (int(image_size[0] * scale), int(image_size[1] * scale)), scale


class OverlayFrames:
    """The video's frames at overlay size, kept JPEG-compressed: 33-46 KB a frame on the two
    1080p-class videos in ``../shared/data`` (Pose2Sim's 1080×1920 view, Sports2D's 1768×994), so
    60-85 MB for a minute at 30 frames/s (raw they would take 0.7 GB)."""

    def __init__(self) -> None:
        self._jpegs: list[np.ndarray] = []
        self.size: tuple[int, int] | None = None

    def add(self, frame: np.ndarray) -> None:
        """Keep BGR ``frame`` (H, W, 3) at overlay size."""
        if self.size is None:
            self.size, _ = overlay_size((frame.shape[1], frame.shape[0]))
        small = cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)
        ok, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, OVERLAY_JPEG_QUALITY])
        if not ok:
            raise RuntimeError("OpenCV cannot encode JPEG here")
        self._jpegs.append(jpeg)

    def __len__(self) -> int:
        return len(self._jpegs)

    @property
    def nbytes(self) -> int:
        return sum(j.nbytes for j in self._jpegs)

    def __iter__(self) -> Iterator[np.ndarray]:
        for jpeg in self._jpegs:
            yield cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


def draw_overlay(img: np.ndarray, scale: float, projected: np.ndarray, keypoints: np.ndarray, occluded: bool) -> np.ndarray:
    """Draw on the small frame ``img`` the projected SMPL joints ``(24, 2)`` px (orange) and the
    COCO-17 keypoints ``(17, 2)`` px (green), both in the video's pixels (``scale`` to ``img``)."""
    for a, b in SMPL_BONES:
        cv2.line(img, tuple((projected[a] * scale).astype(int)), tuple((projected[b] * scale).astype(int)), (0, 140, 255), 3, cv2.LINE_AA)
    if not occluded:
        for a, b in COCO_BONES:
            cv2.line(img, tuple((keypoints[a] * scale).astype(int)), tuple((keypoints[b] * scale).astype(int)), (60, 220, 60), 2, cv2.LINE_AA)
    else:
        cv2.putText(img, "no person", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 255), 2)
    return img


def write_overlay(small_frames: Iterable[np.ndarray], out: Path, kp: Keypoints2D, fps: float, joints: np.ndarray,
                  progress: Progress | None = None) -> None:
    """The overlay video from frames already at overlay size; ``joints (T, 24, 3)`` m in the
    estimate's camera frame. Drawing runs in a thread beside the encoder (both release the GIL)."""
    projected = project(joints, kp.image_size)
    size, scale = overlay_size(tuple(int(v) for v in kp.image_size))
    drawn: queue.Queue = queue.Queue(maxsize=8)
    failure: list[BaseException] = []
    stop = threading.Event()

    def draw() -> None:
        try:
            for i, img in enumerate(small_frames):
                if stop.is_set():
                    return
                drawn.put(draw_overlay(img, scale, projected[i], kp.keypoints[i], bool(kp.occluded[i])))
        except BaseException as exc:  # handed to the encoding thread
            failure.append(exc)
        finally:
            drawn.put(None)

    drawer = threading.Thread(target=draw, name="overlay-draw", daemon=True)
    drawer.start()
    try:
        with atomic_output(out) as tmp:
            writer = open_writer(tmp, fps, size)
            done = 0
            while (img := drawn.get()) is not None:
                writer.write(img)
                done += 1
                if progress:
                    progress(done, kp.num_frames)
            writer.release()
            if failure:
                raise failure[0]
    finally:
        stop.set()
        while drawer.is_alive():  # let a drawer blocked on a full queue finish
            try:
                drawn.get(timeout=0.05)
            except queue.Empty:
                pass


def write_overlay_from_video(video: Path, out: Path, kp: Keypoints2D, fps: float, joints: np.ndarray, max_frames: int | None,
                             progress: Progress | None = None) -> None:
    """The overlay decoding the video again, drawn and encoded in one thread (the sequential reference)."""
    from pose_estimation.video import frames

    projected = project(joints, kp.image_size)
    size, scale = overlay_size(tuple(int(v) for v in kp.image_size))
    with atomic_output(out) as tmp:
        writer = open_writer(tmp, fps, size)
        for i, (_, frame) in enumerate(frames(video, max_frames)):
            img = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            writer.write(draw_overlay(img, scale, projected[i], kp.keypoints[i], bool(kp.occluded[i])))
            if progress:
                progress(i + 1, kp.num_frames)
        writer.release()


def write_side_view(out: Path, joints: np.ndarray, fps: float, size: int = 360) -> None:
    """The 3D joints ``(T, 24, 3)`` m seen from the person's right side (world +X looking towards -X), ground at the feet."""
    centre = joints[:, 0:1, :]
    rel = joints - centre
    floor = rel[..., 1].min()
    with atomic_output(out) as tmp:
        writer = open_writer(tmp, fps, (size, size))
        px_per_m = size / 2.4
        for f in range(len(joints)):
            img = np.full((size, size, 3), 245, np.uint8)
            ground_y = int(size * 0.85)
            cv2.line(img, (0, ground_y), (size, ground_y), (150, 150, 150), 1)
            uv = np.stack([size / 2 - rel[f, :, 2] * px_per_m, ground_y - (rel[f, :, 1] - floor) * px_per_m], axis=-1).astype(int)
            for a, b in SMPL_BONES:
                cv2.line(img, tuple(uv[a]), tuple(uv[b]), (200, 90, 30), 3, cv2.LINE_AA)
            writer.write(img)
        writer.release()
