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

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from characters.errors import atomic_output, input_error
from characters.video_out import open_writer
from pose_estimation import DEFAULT_ESTIMATOR
from pose_estimation.camera import BOX_SMOOTHING, project
from pose_estimation.flow import CropFlow, FlowOptions
from pose_estimation.fusion import fused_estimator
from pose_estimation.keypoints import FROM_MEDIAPIPE33, Keypoints2D, write_keypoints
from pose_estimation.landmarks_ik import landmarks_to_smpl
from pose_estimation.level import stand_upright
from pose_estimation.mediapipe_pose import MediaPipePose
from pose_estimation.subject import choose_subject
from pose_estimation.video import frames, probe
from retargeting.amass_file import write_amass
from retargeting.smpl import SmplMotion

Progress = Callable[[int, int], None]
OVERLAY_LONG_SIDE = 480  # px: browser-playable VP8 costs time per pixel
ProgressFactory = Callable[[str], Progress | None]

# SMPL bones drawn in overlays (parent -> child).
SMPL_BONES = [(p, c) for c, p in enumerate([-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]) if p >= 0]
COCO_BONES = [(5, 7), (7, 9), (6, 8), (8, 10), (5, 6), (5, 11), (6, 12), (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (0, 5), (0, 6)]


@dataclass
class FrontEnd:
    """Per-frame results of the video pass."""

    keypoints: Keypoints2D
    flow: np.ndarray  # (T, 32, 32, 2) float16
    landmarks: np.ndarray  # (T, 33, 3) px x, y and visibility
    world: np.ndarray  # (T, 33, 3) m
    fps: float
    stage_seconds: dict[str, float]  # wall-clock per stage of the pass


def run_front_end(video: Path, person_box: np.ndarray | None = None, max_frames: int | None = None, progress: Progress | None = None,
                  isolate: bool = False) -> FrontEnd:
    """One streaming pass: MediaPipe pose per frame, the person box, and crop flow (``isolate``:
    keep to the person of ``person_box`` among others close by; see ``MediaPipePose``)."""
    info = probe(video)
    total = min(info.frame_count or 1, max_frames or info.frame_count or 1)
    clock = {"decode": 0.0, "keypoints": 0.0, "flow": 0.0, "subject": 0.0}
    if person_box is None:
        tick = time.perf_counter()
        chosen = choose_subject(video)
        clock["subject"] = time.perf_counter() - tick
        person_box = None if chosen is None else chosen[0]
    pose = MediaPipePose(person_box, isolate=isolate)
    flow = CropFlow(FlowOptions())
    times, landmarks, world, flows, boxes, present = [], [], [], [], [], []
    smoothed: np.ndarray | None = None
    try:
        stream = frames(video, max_frames)
        i = 0
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
            times.append(t)
            present.append(result is not None)
            if result is None:
                smoothed = None
                landmarks.append(np.zeros((33, 3)))
                world.append(np.zeros((33, 3)))
                boxes.append(np.zeros(4))
                flows.append(flow(frame, None))
            else:
                landmarks.append(result.landmarks)
                world.append(result.world)
                box = result.box()
                # The crop box is smoothed over time (exponentially), so the flow crop does not jitter.
                smoothed = box if smoothed is None else BOX_SMOOTHING * smoothed + (1 - BOX_SMOOTHING) * box
                boxes.append(smoothed)
                flows.append(flow(frame, smoothed))
            clock["flow"] += time.perf_counter() - tick
            i += 1
            if progress:
                progress(min(i, total), total)
    finally:
        pose.close()
    present_arr = np.array(present)
    if not present_arr.any():
        raise input_error(video, "no person found in any frame")
    lm = np.array(landmarks)
    kp = Keypoints2D(
        keypoints=lm[:, FROM_MEDIAPIPE33, :2],
        confidence=np.clip(lm[:, FROM_MEDIAPIPE33, 2], 0, 1),
        bbox=np.array(boxes),
        occluded=~present_arr,
        times=np.array(times),
        image_size=np.array([info.width, info.height], dtype=float),
    )
    fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else (info.fps or 30.0)
    return FrontEnd(kp, np.array(flows), lm, np.array(world), fps, clock)


def mediapipe_ik(front: FrontEnd) -> SmplMotion:
    """The baseline estimator."""
    kp = front.keypoints
    return landmarks_to_smpl(front.world, front.landmarks[..., :2], front.landmarks[..., 2], ~kp.occluded, front.fps, tuple(int(v) for v in kp.image_size))


def _warm_up(estimator: str):
    """For the lifter, load its weights (the NumPy copy, ``lifter_numpy``) in a thread while the
    video is read; returns the thread, or None."""
    if estimator not in ("lifter", "fused"):
        return None
    import threading

    def load() -> None:
        from pose_estimation.lifter_estimator import SHIPPED_WEIGHTS, cached_lifter

        if SHIPPED_WEIGHTS.exists():
            cached_lifter(str(SHIPPED_WEIGHTS))

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    return thread


def lifter(front: FrontEnd) -> SmplMotion:
    """The motion-based lifter with the shipped weights (``pose_estimation/weights/lifter.pt``)."""
    from pose_estimation.lifter_estimator import lifter_estimator  # the weights are read only when used

    return lifter_estimator()(front)


def fused(front: FrontEnd) -> SmplMotion:
    """The lifter and MediaPipe-IK averaged with equal weights (:func:`fusion.fuse_motions`)."""
    return fused_estimator(lifter, mediapipe_ik)(front)


ESTIMATORS: dict[str, Callable[[FrontEnd], SmplMotion]] = {"mediapipe_ik": mediapipe_ik, "lifter": lifter, "fused": fused}


def write_overlay(video: Path, out: Path, front: FrontEnd, joints: np.ndarray, max_frames: int | None, progress: Progress | None = None) -> None:
    """The video with 2D keypoints (green) and the projected SMPL joints (orange)."""
    kp = front.keypoints
    projected = project(joints, kp.image_size)
    scale = min(1.0, OVERLAY_LONG_SIDE / max(kp.image_size))
    size = (int(kp.image_size[0] * scale), int(kp.image_size[1] * scale))
    with atomic_output(out) as tmp:
        writer = open_writer(tmp, front.fps, size)
        for i, (_, frame) in enumerate(frames(video, max_frames)):
            img = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            for a, b in SMPL_BONES:
                cv2.line(img, tuple((projected[i, a] * scale).astype(int)), tuple((projected[i, b] * scale).astype(int)), (0, 140, 255), 3, cv2.LINE_AA)
            if not kp.occluded[i]:
                for a, b in COCO_BONES:
                    cv2.line(img, tuple((kp.keypoints[i, a] * scale).astype(int)), tuple((kp.keypoints[i, b] * scale).astype(int)), (60, 220, 60), 2, cv2.LINE_AA)
            else:
                cv2.putText(img, "no person", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 255), 2)
            writer.write(img)
            if progress:
                progress(i + 1, kp.num_frames)
        writer.release()


def write_side_view(out: Path, joints: np.ndarray, fps: float, size: int = 360) -> None:
    """The 3D joints seen from the person's right side (world +X looking towards -X), ground at the feet."""
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


def estimate(
    video: str | Path,
    out_dir: str | Path,
    estimator: str = DEFAULT_ESTIMATOR,
    person_box: np.ndarray | None = None,
    max_frames: int | None = None,
    progress: ProgressFactory | None = None,
    upright: bool = True,
) -> dict:
    """Run the whole video stage; returns a summary of what was written. ``upright``: turn the
    motion written (and the side view) so its legs' median direction is vertical; the overlay is
    drawn from the camera-frame estimate either way."""
    video, out = Path(video), Path(out_dir)
    if estimator not in ESTIMATORS:
        raise input_error(None, f"unknown estimator {estimator!r}; registered: {', '.join(ESTIMATORS)}")
    bar = progress or (lambda label: None)
    warm = _warm_up(estimator)
    front = run_front_end(video, person_box, max_frames, bar("keypoints"))
    if warm is not None:
        warm.join()
    if front.keypoints.num_frames < 2:
        raise input_error(video, "a single frame: motion needs at least two frames")
    out.mkdir(parents=True, exist_ok=True)
    write_keypoints(out / "keypoints.npz", front.keypoints)
    with atomic_output(out / "flow.npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, flow=front.flow, times=front.keypoints.times)
    tick = time.perf_counter()
    motion = ESTIMATORS[estimator](front)
    estimator_seconds = time.perf_counter() - tick
    written, turned_deg = stand_upright(motion) if upright else (motion, None)
    write_amass(out / "motion_smpl.npz", written)
    joints, _ = motion.skeleton.forward_kinematics(motion.pelvis_positions, motion.local_rotations)  # numpy FK: no torch start-up
    write_overlay(video, out / "overlay.webm", front, joints, max_frames, bar("overlay"))
    side, _ = written.skeleton.forward_kinematics(written.pelvis_positions, written.local_rotations)
    write_side_view(out / "side_view.webm", side, front.fps)
    return {
        "frames": front.keypoints.num_frames,
        "fps": front.fps,
        "frames_without_person": int(front.keypoints.occluded.sum()),
        "estimator": estimator,
        "stood_upright_by_deg": None if turned_deg is None else round(turned_deg, 1),  # None: left in the camera's frame
        "frames_per_second_by_stage": {
            stage: front.keypoints.num_frames / max(seconds, 1e-9)
            for stage, seconds in {**front.stage_seconds, "estimator": estimator_seconds}.items()
        },
        "frames_per_second_end_to_end": front.keypoints.num_frames / max(sum(front.stage_seconds.values()) + estimator_seconds, 1e-9),
        "files": sorted(p.name for p in out.iterdir() if not p.name.startswith(".")),
    }

