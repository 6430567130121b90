"""The replay's camera keeps the simulated character and its reference in view for the whole clip.

The scene is the demo's situation: the character outwalks its reference (here by 0.6 m/s and
drifting sideways, 6 m apart after 10 s). Roots are projected with the renderer's own matrices
(control.render.view_matrices / projection_matrix), frame by frame.
"""

from dataclasses import replace

import numpy as np
import pybullet

from control.render import RenderOptions, _eye_direction, project, projection_matrix, render_motions, view_matrices
from retargeting.deepmimic_file import read_deepmimic
from tests.conftest import WALK

SECONDS = 10.0


def outwalking(character):
    """The walk looped for 10 s as the reference, and a copy whose root runs ahead and drifts sideways."""
    reference = read_deepmimic(WALK, character)
    times = np.arange(int(SECONDS * 30) + 1) / 30.0
    root_pos, root_rot, joint_rot = reference.sample(times)
    ahead = root_pos + np.c_[0.6 * times, np.zeros_like(times), 0.15 * times]
    simulated = replace(reference, frame_dt=np.full(len(times), 1 / 30.0), root_pos=ahead, root_rot=root_rot, joint_rot=joint_rot, loop="none")
    return simulated, reference


def roots_and_frames(motions, options: RenderOptions) -> np.ndarray:
    """``(M, F, 3)`` m: each motion's root at every frame of the replay, sampled as render_motions samples them."""
    frames = int(round(SECONDS * options.fps)) + 1
    times = np.arange(frames) / options.fps
    return np.stack([m.sample(times)[0] for m in motions])


def inside(roots: np.ndarray, views, options: RenderOptions) -> np.ndarray:
    """``(M, F)`` bool: whether each root projects inside the frame."""
    projection = projection_matrix(options)
    pixels = np.stack([np.stack([project(roots[m, f:f + 1], view, projection, options)[0] for f, view in enumerate(views)])
                       for m in range(len(roots))])
    return (pixels[..., 0] >= 0) & (pixels[..., 0] < options.width) & (pixels[..., 1] >= 0) & (pixels[..., 1] < options.height)


def test_the_reference_root_is_in_the_frame_in_every_frame(character):
    simulated, reference = outwalking(character)
    options = RenderOptions()
    roots = roots_and_frames([simulated, reference], options)
    assert np.linalg.norm((roots[0, -1] - roots[1, -1])[[0, 2]]) > 5.0  # they do end up far apart
    seen = inside(roots, view_matrices(roots, options), options)
    assert seen[1].all(), f"the reference leaves the frame at {np.argmin(seen[1]) / options.fps:.2f} s"
    assert seen[0].all(), f"the character leaves the frame at {np.argmin(seen[0]) / options.fps:.2f} s"


def test_a_camera_that_follows_the_character_alone_loses_the_reference(character):
    """The check above can fail: the former camera (3.2 m from the character's root) fails it."""
    simulated, reference = outwalking(character)
    options = RenderOptions()
    roots = roots_and_frames([simulated, reference], options)
    targets = roots[0] * [1, 0, 1] + [0, 0.8, 0]
    following = [pybullet.computeViewMatrix((t + options.distance * _eye_direction(options)).tolist(), t.tolist(), [0, 1, 0]) for t in targets]
    assert not inside(roots, following, options)[1].all()


def test_a_lone_motion_is_framed_at_the_nearest_distance_and_a_fixed_camera_stays_put(character):
    simulated, _ = outwalking(character)
    options = RenderOptions()
    roots = roots_and_frames([simulated], options)
    views = np.array(view_matrices(roots, options))
    eye_distance = np.linalg.norm(np.linalg.inv(views.reshape(-1, 4, 4).transpose(0, 2, 1))[:, :3, 3] - (roots[0] * [1, 0, 1] + [0, 0.8, 0]), axis=1)
    assert np.allclose(np.median(eye_distance), options.distance, atol=0.2)
    fixed = replace(options, fixed_target=(3.0, 0.8, 0.0))
    assert len({tuple(v) for v in view_matrices(roots, fixed)}) == 1


def test_the_rendered_replay_shows_the_reference_ghost_at_the_end(character, tmp_path):
    """Pixels, not only projections: the last frame of a small real render holds the ghost's light blue."""
    import cv2

    simulated, reference = outwalking(character)
    options = RenderOptions(width=320, height=180, fps=3.0)
    shown = [(simulated, (0.95, 0.55, 0.2, 1.0)), (reference, (0.2, 0.4, 1.0, 0.6))]
    render_motions(shown, tmp_path / "replay.webm", options, seconds=SECONDS)
    capture = cv2.VideoCapture(str(tmp_path / "replay.webm"))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    assert len(frames) == int(round(SECONDS * options.fps)) + 1
    b, g, r = (frames[-1][..., k].astype(int) for k in range(3))
    assert ((b - r > 60) & (b > 120)).sum() > 20, "no blue ghost pixels in the last frame"
    assert ((r - b > 60) & (r > 150)).sum() > 20, "no orange character pixels in the last frame"
