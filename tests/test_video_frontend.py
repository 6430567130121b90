"""Video ingest, optical flow and keypoint files/importers (the front end's first parts)."""

import json

import cv2
import numpy as np
import pytest

from characters.errors import InputError
from pose_estimation.flow import CropFlow, FlowOptions
from pose_estimation.keypoints import COCO17_MIRROR, Keypoints2D, import_coco, import_openpose, read_keypoints, write_keypoints
from pose_estimation.video import frames, probe


def textured(h, w, seed=0):
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (h // 8, w // 8), dtype=np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def write_video(path, count=12, size=(160, 120), fps=25.0, shift=2):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    base = textured(size[1], size[0] + shift * count)
    for i in range(count):
        grey = base[:, i * shift : i * shift + size[0]]
        writer.write(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


def test_frames_stream_with_timestamps(tmp_path):
    video = write_video(tmp_path / "v.mp4", count=12, fps=25.0)
    info = probe(video)
    assert (info.width, info.height) == (160, 120) and info.fps == pytest.approx(25.0)
    times = [t for t, _ in frames(video)]
    assert len(times) == 12 and np.allclose(np.diff(times), 0.04, atol=1e-3)


@pytest.mark.parametrize("content,problem", [(b"", "empty file"), (b"this is not a video", "not a video")])
def test_bad_video_files(tmp_path, content, problem):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(InputError, match=problem):
        probe(path)


def test_dis_flow_measures_a_known_shift():
    h, w = 200, 200
    base = cv2.cvtColor(textured(h, w + 10), cv2.COLOR_GRAY2BGR)
    first, second = base[:, 5 : 5 + w], base[:, 1 : 1 + w]  # content moves +4 px in x
    flow = CropFlow(FlowOptions(size=128, cells=16, preset="medium"))
    box = np.array([40.0, 40.0, 160.0, 160.0])
    assert not flow(first, box).any()
    f = flow(second, box).astype(float)
    crop_side = 120 * 1.3  # square_box adds 15 % on each side
    expected_dx = 4.0 / crop_side  # in crop widths
    inner = f[4:-4, 4:-4]
    assert np.median(inner[..., 0]) == pytest.approx(expected_dx, rel=0.15)
    assert abs(np.median(inner[..., 1])) < 0.2 * expected_dx


def test_keypoints_file_round_trip(tmp_path):
    t = 5
    kp = Keypoints2D(np.random.rand(t, 17, 2) * 100, np.random.rand(t, 17), np.tile([1.0, 2, 50, 90], (t, 1)), np.zeros(t, bool), np.arange(t) / 30, np.array([640.0, 480]))
    write_keypoints(tmp_path / "k.npz", kp)
    back = read_keypoints(tmp_path / "k.npz")
    assert np.allclose(back.keypoints, kp.keypoints) and back.image_size.tolist() == [640, 480]
    assert COCO17_MIRROR[COCO17_MIRROR].tolist() == list(range(17))


def test_openpose_import_picks_one_person(tmp_path):
    def person(x0):
        p = np.zeros((25, 3))
        p[:, 0] = x0 + np.arange(25)
        p[:, 1] = 100 + np.arange(25)
        p[:, 2] = 0.9
        return p.ravel().tolist()

    for i in range(3):
        people = [{"pose_keypoints_2d": person(10 + i)}, {"pose_keypoints_2d": person(400)}] if i != 1 else []
        (tmp_path / f"f_{i:04d}_keypoints.json").write_text(json.dumps({"people": people}))
    kp = import_openpose(tmp_path, (640, 480), 30.0)
    assert kp.num_frames == 3 and kp.occluded.tolist() == [False, True, False]
    # BODY_25 index 5 (LShoulder) lands at COCO index 5 (left_shoulder)
    assert kp.keypoints[0, 5, 0] == 10 + 5 and kp.keypoints[2, 5, 0] == 12 + 5


def test_coco_import(tmp_path):
    results = [{"image_id": 7, "keypoints": (np.arange(51) + 1.0).tolist(), "score": 0.9}, {"image_id": 3, "keypoints": np.ones(51).tolist()}]
    (tmp_path / "res.json").write_text(json.dumps(results))
    kp = import_coco(tmp_path / "res.json", (640, 480), 30.0)
    assert kp.num_frames == 2 and kp.keypoints[1, 0].tolist() == [1.0, 2.0]  # image 7 is the second frame


def write_with_rotation_metadata(path, portrait_frames, fps=30.0):
    """Store portrait frames as a landscape stream with a 90-degree display matrix, as phones do."""
    import struct

    landscape = [cv2.rotate(f, cv2.ROTATE_90_COUNTERCLOCKWISE) for f in portrait_frames]
    h, w = landscape[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for f in landscape:
        writer.write(f)
    writer.release()
    data = bytearray(path.read_bytes())
    tkhd = data.index(b"tkhd")
    assert data[tkhd + 4] == 0  # version 0 track header: its matrix starts 44 bytes after the type
    data[tkhd + 44 : tkhd + 80] = struct.pack(">9i", 0, 1 << 16, 0, -(1 << 16), 0, 0, 0, 0, 1 << 30)
    path.write_bytes(bytes(data))
    return path


def test_portrait_phone_video_stays_portrait(tmp_path):
    portrait = [np.full((96, 64, 3), 40, np.uint8) for _ in range(4)]
    for f in portrait:
        f[:20] = 255  # bright top band: must stay at the top
    video = write_with_rotation_metadata(tmp_path / "phone.mp4", portrait)
    info = probe(video)
    assert (info.width, info.height, info.rotation_deg) == (64, 96, 90)
    _, first = next(frames(video))
    assert first.shape == (96, 64, 3)
    assert first[:20].mean() > 200 and first[40:].mean() < 100


def test_tracks_prefer_the_largest_most_persistent_person():
    from pose_estimation.subject import link_tracks

    small = np.array([10.0, 10, 30, 60])
    big = np.array([200.0, 20, 280, 220])
    detections = [(0, [small]), (30, [small, big]), (60, [big, small + 2]), (90, [big + 3])]
    tracks = link_tracks(detections)
    best = max(tracks, key=lambda t: t.score)
    assert len(tracks) == 2 and best.frames == [30, 60, 90] and np.allclose(best.boxes[0], big)


def test_a_walker_crossing_the_view_stays_one_track():
    from pose_estimation.subject import link_tracks

    walker = np.array([400.0, 160, 440, 300])  # 140 px tall, moving 100 px left per sample
    detections = [(30 * i, [walker - [100 * i, 0, 100 * i, 0]]) for i in range(4)]
    tracks = link_tracks(detections)
    assert len(tracks) == 1 and tracks[0].frames == [0, 30, 60, 90]
    jump = [(0, [walker]), (30, [walker - [300, 0, 300, 0]])]  # two body heights in one sample: someone else
    assert len(link_tracks(jump)) == 2
