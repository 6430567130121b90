"""The multi-person real harness: view agreement, identity, the isolated follower, the fetch script, the CLI."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import cv2
import numpy as np
import pytest

from tests.conftest import ROOT, SHARED_DATA, require_shared, run_cli

SINGLE = SHARED_DATA / "multiview" / "pose2sim_single"


def scene(frames: int = 20, seed: int = 0):
    """The shared calibration's cameras and two synthetic 17-point people 1 m apart in the middle
    of the scene: ``(cameras, a (T, 17, 3) m, b (T, 17, 3) m)``."""
    from lifter_research.multiview import read_qualisys, triangulate

    cameras = read_qualisys(require_shared(SINGLE / "calibration" / "Calib.qca.txt"))
    centres = np.array([[[[544.0, 960.0]]]] * len(cameras))  # (C, 1, 1, 2): where the optical axes meet
    middle = triangulate(cameras, centres, np.ones((len(cameras), 1, 1)))[0, 0]
    rng = np.random.default_rng(seed)
    body = rng.uniform(-0.35, 0.35, size=(17, 3)) * np.array([1.0, 1.0, 2.5])  # taller than wide, whatever the up axis
    sway = 0.05 * np.sin(np.linspace(0, 3, frames))[:, None, None]
    a = middle + body + sway
    return cameras, a, a + np.array([1.0, 0.0, 0.0])


def project_all(cameras, points: np.ndarray, noise: float = 1.0, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([cam.project(points) for cam in cameras]) + rng.normal(scale=noise, size=(len(cameras), *points.shape[:2], 2))


def test_a_view_following_someone_else_is_left_out_and_not_scored():
    from lifter_research.multi_person import agreeing_views, same_person
    from lifter_research.multiview import triangulate

    cameras, a, b = scene()
    pixels = project_all(cameras, a)
    pixels[2, 10:] = project_all(cameras, b, seed=2)[2, 10:]  # view 2's follower moved to the other person
    weights = np.ones(pixels.shape[:3])
    chosen = agreeing_views(cameras, pixels, weights)
    assert chosen[[0, 1, 3]].all() and chosen[2, :10].all() and not chosen[2, 10:].any(), chosen.astype(int)
    truth = triangulate(cameras, pixels, np.where(chosen[..., None], weights, 0.0))
    assert np.abs(truth - a).max() < 0.02
    valid = same_person(cameras, truth, pixels, weights)
    assert (valid == chosen).all(), valid.astype(int)
    # Triangulating all views instead pulls the truth towards the other person.
    assert np.abs(triangulate(cameras, pixels, weights)[10:] - a[10:]).max() > 0.05


def test_a_frame_no_two_views_agree_on_is_not_triangulated():
    from lifter_research.multi_person import agreeing_views

    cameras, a, _ = scene(frames=6)
    rng = np.random.default_rng(3)
    pixels = project_all(cameras, a)
    pixels[:, 3] = [cam.project(a[3] + rng.uniform(-1.5, 1.5, size=3)) for cam in cameras]  # four different people
    chosen = agreeing_views(cameras, pixels, np.ones(pixels.shape[:3]))
    assert not chosen[:, 3].any() and chosen[:, [0, 1, 2, 4, 5]].all()


def two_person_video(path, frames: int = 30):
    """The single-person recording's first view beside its own mirror image: two people."""
    from pose_estimation.video import frames as video_frames

    out = None
    for _, frame in video_frames(require_shared(SINGLE / "videos" / "cam01.mp4"), frames):
        both = np.hstack([frame, frame[:, ::-1]])
        if out is None:
            out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (both.shape[1], both.shape[0]))
        out.write(both)
    out.release()
    return path, frame.shape[1]


def test_the_isolated_follower_keeps_to_its_person(tmp_path):
    from lifter_research.multi_person import first_frame_people
    from pose_estimation.estimate import run_front_end

    video, width = two_person_video(tmp_path / "two.mp4")
    boxes = first_frame_people(video)
    assert len(boxes) == 2, boxes
    right = max(boxes, key=lambda box: box[0])
    front = run_front_end(video, person_box=right, isolate=True)
    kp = front.keypoints
    seen = ~kp.occluded
    assert seen.mean() > 0.9
    assert (kp.keypoints[seen][..., 0] > width).mean() > 0.98  # on the right copy all along


def fake_wheel(path, videos: bool = True):
    with zipfile.ZipFile(path, "w") as z:
        if videos:
            for cam in ("cam01", "cam02"):
                z.writestr(f"Pose2Sim/Demo_MultiPerson/videos/{cam}.mp4", b"video " + cam.encode())
        z.writestr("Pose2Sim/Demo_MultiPerson/calibration/Calib.qca.txt", "calibration")
        z.writestr("Pose2Sim/Demo_MultiPerson/Config.toml", "not wanted")
        z.writestr("Pose2Sim/Demo_SinglePerson/videos/cam01.mp4", b"not wanted")
        z.writestr("pose2sim-0.10.49.dist-info/licenses/LICENSE", "BSD-3-Clause")
    return path


def fetch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lifter_research.scripts.fetch_pose2sim_multi", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_fetch_unpacks_the_recording_whole_and_once(tmp_path):
    target = tmp_path / "multi"
    result = fetch("--wheel", str(fake_wheel(tmp_path / "p.whl")), "--to", str(target))
    assert result.returncode == 0, result.stderr
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert files == ["LICENSE", "SOURCE.txt", "calibration/Calib.qca.txt", "videos/cam01.mp4", "videos/cam02.mp4"]
    assert (target / "videos" / "cam02.mp4").read_bytes() == b"video cam02"
    again = fetch("--wheel", str(tmp_path / "absent.whl"), "--to", str(target))
    assert again.returncode == 0 and "already there" in again.stdout

    broken = fetch("--wheel", str(fake_wheel(tmp_path / "q.whl", videos=False)), "--to", str(tmp_path / "other"))
    assert broken.returncode != 0 and "no Pose2Sim/Demo_MultiPerson/ videos" in broken.stderr
    assert not (tmp_path / "other").exists() and list(tmp_path.glob("tmp*")) == []
    missing = fetch("--wheel", str(tmp_path / "absent.whl"), "--to", str(tmp_path / "other"))
    assert missing.returncode != 0 and "no such file" in missing.stderr


def test_evaluate_rejects_a_folder_that_is_not_a_recording(tmp_path):
    (tmp_path / "videos").mkdir()
    result = run_cli("estimator", "evaluate", "--real-people", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "not a calibrated recording" in result.stderr


def test_recordings_pool_into_one_paired_comparison():
    from lifter_research.real_harness import HarnessViews, compare_recordings, harness_views
    from pose_estimation.estimate import mediapipe_ik

    views = harness_views(require_shared(SINGLE), frames=30)
    first20 = HarnessViews(views.cameras, views.fronts, views.truth, views.report, np.arange(30)[None, :].repeat(4, axis=0) < 20)
    scores = compare_recordings({"all": views, "first20": first20}, {"ik": mediapipe_ik, "again": mediapipe_ik}, [("ik", "again")])
    assert scores["pooled"]["views"] == 8
    assert scores["pooled"]["ik_minus_again"]["difference_mm"] == 0.0
    means = [scores[name]["ik"]["mean_pa_mpjpe_mm"] for name in ("all", "first20")]
    assert means[0] != means[1]  # the mask leaves frames out of the scores
    assert scores["pooled"]["ik_mean_pa_mpjpe_mm"] == pytest.approx(np.mean(means), abs=1e-6)


def test_two_followers_on_one_person_leave_that_view_to_the_one_it_fits():
    from lifter_research.multi_person import settle_shared_tracks

    cameras, a, b = scene()
    pixels_a, pixels_b = project_all(cameras, a), project_all(cameras, b, seed=2)
    pixels_a[2, 10:] = pixels_b[2, 10:] + 1.0  # view 2: A's follower went over to B at frame 10
    pixels_b[1, 15:] = pixels_a[1, 15:] = project_all(cameras, (a + b) / 2, seed=4)[1, 15:]  # view 1: both on a third person
    ones = np.ones(pixels_a.shape[:3])
    settled_a, settled_b = settle_shared_tracks(cameras, [pixels_a, pixels_b], [ones, ones])
    kept_a, kept_b = settled_a.any(axis=2), settled_b.any(axis=2)
    assert not kept_a[2, 10:].any() and kept_a[2, :10].all() and kept_b[2].all()
    assert not kept_a[1, 15:].any() and not kept_b[1, 15:].any() and kept_a[1, :15].all() and kept_b[1, :15].all()
    assert kept_a[[0, 3]].all() and kept_b[[0, 3]].all()


def test_tracks_are_associated_across_views_by_geometry():
    from lifter_research.multi_person import associate

    cameras, a, b = scene()
    stray = a + np.array([0.0, 2.5, 0.0])
    ones = np.ones((len(a), 17))
    pa, pb, ps = project_all(cameras, a), project_all(cameras, b, seed=2), project_all(cameras, stray, seed=5)
    tracks = [[(pa[0], ones), (pb[0], ones)], [(pb[1], ones), (ps[1], ones), (pa[1], ones)], [(pa[2], ones), (pb[2], ones)], [(pb[3], ones), (pa[3], ones)]]
    people = sorted(associate(cameras, tracks))
    assert [choice for choice, _ in people] == [[0, 2, 0, 1], [1, 0, 1, 0]]
    assert all(worst < 5.0 for _, worst in people)
    # A person the other views do not show is not kept.
    alone = [[(ps[0], ones)]] + [[(pa[c], ones), (pb[c], ones)] for c in (1, 2, 3)]
    assert associate(cameras, alone) == []
