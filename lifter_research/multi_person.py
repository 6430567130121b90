"""A calibrated multi-view recording of several people as more real-harness recordings, one per person.

Each person seen in every view becomes a :class:`~lifter_research.real_harness.HarnessViews` of
its own, scored exactly like the single-person recording:

1. People are found on a view's first frame (MediaPipe finds one person per image: the people
   found are greyed out and it looks again) and the front end follows each through the view
   with ``isolate`` (it cannot move to a neighbour; see ``MediaPipePose``).
2. Tracks are associated across views: each track of the first view is paired, in every other
   view, with the track whose two-view triangulation reprojects best (median px over frames and
   joints); a person is kept when every pair fits (within 5 % of the person's height) and no track
   is used twice.
3. Left/right swaps are fixed against the views that agree (``resolve_swaps``).
4. A follower may still end on someone else where people overlap on a camera's line of sight.
   Where two people's followers in a view coincide, the view's frame goes to the person whose
   other views it fits clearly better, or to neither.
5. Per frame, the largest set of views that one 3D pose explains is triangulated; a view's frame
   is scored only where its keypoints' box overlaps the triangulated joints' projection
   (:attr:`HarnessViews.valid`).

The Pose2Sim package's Demo_MultiPerson (two people, the same 4 cameras as ``pose2sim_single``)
is fetched by ``python -m lifter_research.scripts.fetch_pose2sim_multi``.
"""

from __future__ import annotations

import time
import warnings
from contextlib import contextmanager
from itertools import combinations
from pathlib import Path

import numpy as np

from lifter_research.multiview import Camera, read_qualisys, triangulate
from lifter_research.real_harness import HarnessViews, reprojection_errors, resolve_swaps
from pose_estimation.estimate import FrontEnd, run_front_end
from pose_estimation.video import frames as video_frames


def first_frame_people(video: Path, rounds: int = 4) -> list[np.ndarray]:
    """``(4,)`` px boxes of the people MediaPipe finds on the first frame of ``video``.

    MediaPipe finds one person per image, so each round greys out the people found so far and
    looks again, until a round finds no one new."""
    from pose_estimation.camera import iou
    from pose_estimation.mediapipe_pose import pose_solution
    from pose_estimation.subject import detect_people

    _, frame = next(video_frames(video, 1))
    pose = pose_solution().Pose(static_image_mode=True, model_complexity=1)
    found: list[np.ndarray] = []
    try:
        for _ in range(rounds):
            masked = frame.copy()
            for x0, y0, x1, y1 in found:
                pad_x, pad_y = 0.1 * (x1 - x0), 0.05 * (y1 - y0)
                masked[max(0, int(y0 - pad_y)):int(y1 + pad_y), max(0, int(x0 - pad_x)):int(x1 + pad_x)] = 128
            new = [box for box in detect_people(masked, pose) if all(iou(box, other) < 0.3 for other in found)]
            if not new:
                break
            found += new
    finally:
        pose.close()
    return found


def view_tracks(front: FrontEnd, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """``(T, 17, 2)`` px keypoints and ``(T, 17)`` weights (0 where occluded or missing) of a followed person."""
    kp = front.keypoints
    return kp.keypoints[:frames], np.where(kp.occluded[:frames, None], 0.0, kp.confidence[:frames])


def pair_error(cameras: list[Camera], pixels: np.ndarray, weights: np.ndarray) -> float:
    """Median reprojection error (px) of a two-view triangulation; ``pixels`` ``(2, T, 17, 2)``."""
    points = triangulate(cameras, pixels, weights)
    errors = reprojection_errors(cameras, points, pixels, np.where(weights > 0.5, weights, 0.0))
    return float(np.nanmedian(errors)) if np.isfinite(errors).any() else float("inf")


def associate(cameras: list[Camera], tracks: list[list[tuple[np.ndarray, np.ndarray]]], max_pair: float = 0.05) -> list[tuple[list[int], float]]:
    """For each person kept, the index of its track in every view and the worst pair's error (px;
    see the module docstring). A pair fits when its error is under ``max_pair`` × the person's
    median keypoint height in the first view."""
    people: list[tuple[list[int], float]] = []
    used = [set() for _ in cameras]
    candidates = []
    for p, (pix0, w0) in enumerate(tracks[0]):
        choice, worst = [p], 0.0
        for c in range(1, len(cameras)):
            errors = [pair_error([cameras[0], cameras[c]], np.stack([pix0, pix]), np.stack([w0, w])) for pix, w in tracks[c]]
            if not errors:
                break
            best = int(np.argmin(errors))
            choice.append(best)
            worst = max(worst, errors[best])
        with quiet_nan():
            height = float(np.nanmedian(keypoint_heights(pix0[None], w0[None])))
        if len(choice) == len(cameras) and worst <= max_pair * height:
            candidates.append((worst, choice))
    for worst, choice in sorted(candidates):
        if all(t not in used[c] for c, t in enumerate(choice)):
            people.append((choice, worst))
            for c, t in enumerate(choice):
                used[c].add(t)
    return people


@contextmanager
def quiet_nan():
    """NaN-only slices (frames a view does not see) give NaN without warnings."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def keypoint_heights(pixels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``(C, T)`` px: the vertical extent of the keypoints seen (weight > 0.5); NaN if none."""
    seen = np.where(weights[..., None] > 0.5, pixels, np.nan)
    with quiet_nan():
        return np.nanmax(seen[..., 1], axis=2) - np.nanmin(seen[..., 1], axis=2)


def leave_one_out_errors(cameras: list[Camera], pixels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``(C, T)`` px: median distance between a view's keypoints and the projection of the
    triangulation of the other views (NaN where it cannot be told)."""
    errors = np.full(weights.shape[:2], np.nan)
    for c in range(len(cameras)):
        others = [k for k in range(len(cameras)) if k != c]
        reference = triangulate([cameras[k] for k in others], pixels[others], weights[others])
        distance = np.linalg.norm(cameras[c].project(np.nan_to_num(reference)) - pixels[c], axis=-1)  # (T, J)
        distance[(weights[c] <= 0.5) | np.isnan(reference).any(axis=-1)] = np.nan
        with quiet_nan():
            errors[c] = np.nanmedian(distance, axis=1)
    return errors


def settle_shared_tracks(cameras: list[Camera], pixels: list[np.ndarray], weights: list[np.ndarray], max_distance: float = 0.1,
                         clear_margin: float = 0.5) -> list[np.ndarray]:
    """Where two people's followers in a view are on the same person (median keypoint distance
    under ``max_distance`` × its height), the view's frame stays with the person whose other
    views it fits clearly better (error under ``clear_margin`` × the other's) and is dropped
    (weights 0) from the other's; from both when neither fits clearly better (one person right
    behind the other on that camera's line of sight). Returns people's ``(C, T, 17)`` weights."""
    weights = [w.copy() for w in weights]
    fits = [leave_one_out_errors(cameras, p, w) for p, w in zip(pixels, weights)]
    for a, b in combinations(range(len(pixels)), 2):
        both = (weights[a] > 0.5) & (weights[b] > 0.5)
        distance = np.where(both, np.linalg.norm(pixels[a] - pixels[b], axis=-1), np.nan)  # (C, T, J)
        with quiet_nan():
            shared = np.nanmedian(distance, axis=2) < max_distance * keypoint_heights(pixels[a], weights[a])  # (C, T)
        fit_a, fit_b = np.nan_to_num(fits[a], nan=np.inf), np.nan_to_num(fits[b], nan=np.inf)
        weights[a][shared & ~(fit_a < clear_margin * fit_b)] = 0.0
        weights[b][shared & ~(fit_b < clear_margin * fit_a)] = 0.0
    return weights


def agreeing_views(cameras: list[Camera], pixels: np.ndarray, weights: np.ndarray, max_error: float = 0.1) -> np.ndarray:
    """``(C, T)`` bool: per frame, the largest set of views (at least two) whose keypoints one 3D
    pose explains — every view's median reprojection error at most ``max_error`` × the person's
    keypoint height in it; among sets of one size the best fitting. No views where none agree."""
    c_views, t_frames = weights.shape[:2]
    heights = keypoint_heights(pixels, weights)
    chosen = np.zeros((c_views, t_frames), bool)
    settled = np.zeros(t_frames, bool)
    for size in range(c_views, 1, -1):
        best = np.full(t_frames, np.inf)
        for subset in combinations(range(c_views), size):
            views = list(subset)
            errors = reprojection_errors([cameras[c] for c in views], triangulate([cameras[c] for c in views], pixels[views], weights[views]),
                                         pixels[views], np.where(weights[views] > 0.5, weights[views], 0.0))  # (size, T, J)
            with quiet_nan():
                worst = np.nanmax(np.nanmedian(errors, axis=2) / heights[views], axis=0)  # (T,)
            better = ~settled & (worst <= max_error) & (worst < best)
            best[better] = worst[better]
            chosen[:, better] = False
            chosen[np.ix_(views, np.flatnonzero(better))] = True
        settled |= np.isfinite(best)
    return chosen


def same_person(cameras: list[Camera], truth: np.ndarray, pixels: np.ndarray, weights: np.ndarray, min_iou: float = 0.3) -> np.ndarray:
    """``(C, T)`` bool: the view's keypoint box overlaps the projected 3D joints' box (the follower
    is on this person, however well or badly it reads the pose)."""
    from pose_estimation.camera import iou

    valid = np.zeros(weights.shape[:2], bool)
    for c, cam in enumerate(cameras):
        projected = cam.project(np.nan_to_num(truth))
        for t in np.flatnonzero(~np.isnan(truth).any(axis=(1, 2))):
            seen = pixels[c, t][weights[c, t] > 0.5]
            if len(seen) >= 4:
                box = np.concatenate([seen.min(axis=0), seen.max(axis=0)])
                valid[c, t] = iou(box, np.concatenate([projected[t].min(axis=0), projected[t].max(axis=0)])) >= min_iou
    return valid


def person_harness_views(data: Path, frames: int | None = None) -> list[HarnessViews]:
    """One :class:`HarnessViews` per person seen in every view of the recording in ``data``
    (``calibration/Calib.qca.txt``, ``videos/<camera>.mp4``); their reports name the person."""
    cameras = read_qualisys(data / "calibration" / "Calib.qca.txt")
    start = time.perf_counter()
    fronts_per_view = [[run_front_end(data / "videos" / f"{cam.name}.mp4", person_box=box, max_frames=frames, isolate=True)
                        for box in first_frame_people(data / "videos" / f"{cam.name}.mp4")] for cam in cameras]
    if any(not fronts for fronts in fronts_per_view):
        raise ValueError(f"{data}: no person found on the first frame of some view")
    return people_views(cameras, fronts_per_view, data.name, round(time.perf_counter() - start, 1))


def people_views(cameras: list[Camera], fronts_per_view: list[list[FrontEnd]], recording: str, seconds: float) -> list[HarnessViews]:
    """The harness views of every person associated across the views' followed tracks."""
    n = min(f.keypoints.num_frames for fronts in fronts_per_view for f in fronts)
    tracks = [[view_tracks(f, n) for f in fronts] for fronts in fronts_per_view]
    associated = associate(cameras, tracks)
    choices = [choice for choice, _ in associated]
    pixels = [np.stack([tracks[c][t][0] for c, t in enumerate(choice)]) for choice in choices]
    weights = [np.stack([tracks[c][t][1] for c, t in enumerate(choice)]) for choice in choices]
    swaps = []
    for p in range(len(choices)):
        first = agreeing_views(cameras, pixels[p], weights[p])
        pixels[p], weights[p], fixed = resolve_swaps(cameras, pixels[p], weights[p], np.where(first[..., None], weights[p], 0.0))
        swaps.append(fixed)
    settled = settle_shared_tracks(cameras, pixels, weights)
    result = []
    for person, choice in enumerate(choices):
        used = np.where(agreeing_views(cameras, pixels[person], settled[person])[..., None], settled[person], 0.0)
        truth = triangulate(cameras, pixels[person], used)
        valid = same_person(cameras, truth, pixels[person], settled[person])
        errors = reprojection_errors(cameras, truth, pixels[person], used)
        report = {
            "recording": recording,
            "person": person,
            "frames": n,
            "tracks_per_view": {cam.name: len(fronts) for cam, fronts in zip(cameras, fronts_per_view)},
            "association_px_worst_pair": round(associated[person][1], 1),
            "frames_triangulated": int((~np.isnan(truth).any(axis=(1, 2))).sum()),
            "views_triangulating_mean": float(np.mean((used > 0).any(axis=2).sum(axis=0))),
            "frames_of_the_person": {cam.name: int(valid[c].sum()) for c, cam in enumerate(cameras)},
            "view_frames_dropped_as_shared": int(((weights[person] > 0).any(axis=2) & ~(settled[person] > 0).any(axis=2)).sum()),
            "left_right_swaps_fixed": swaps[person],
            "reprojection_px_median": {cam.name: float(np.nanmedian(errors[c])) for c, cam in enumerate(cameras)},
            "detection_seconds": seconds,
        }
        result.append(HarnessViews(cameras, [fronts_per_view[c][t] for c, t in enumerate(choice)], truth, report, valid))
    return result
