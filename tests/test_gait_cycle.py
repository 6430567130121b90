"""Cyclic motions from repetitive clips: steady heading, best cycle, seamless closing."""

from dataclasses import replace

import numpy as np

from characters import rotations as rot
from retargeting.cleanup import lift_swing_feet, root_headings, steady_heading
from retargeting.deepmimic_file import read_deepmimic
from retargeting.gait_cycle import (
    Cycle,
    align_start,
    blend_cycles,
    close_cycle,
    find_cycle,
    loop_best_cycle,
    pin_stance_feet,
    symmetric_cycle,
)
from tests.conftest import WALK

UP = np.array([0.0, 1.0, 0.0])


def unrolled_walk(character, cycles: int = 3):
    """DeepMimic's walk played ``cycles`` times as one non-cyclic clip (each repeat moved on)."""
    walk = read_deepmimic(WALK, character)
    n = walk.num_frames - 1  # the last frame repeats the first
    shift = walk.root_pos[-1] - walk.root_pos[0]
    shift[1] = 0.0
    root_pos = np.concatenate([walk.root_pos[:n] + k * shift for k in range(cycles)])
    root_rot = np.concatenate([walk.root_rot[:n]] * cycles)
    joint_rot = np.concatenate([walk.joint_rot[:n]] * cycles)
    frame_dt = np.full(len(root_pos), walk.frame_dt[0])
    return replace(walk, frame_dt=frame_dt, root_pos=root_pos, root_rot=root_rot, joint_rot=joint_rot, loop="none"), n


def test_find_cycle_recovers_the_walks_period(character):
    motion, period = unrolled_walk(character)
    cycle = find_cycle(motion)
    assert cycle is not None
    assert cycle.length == period  # not half a cycle (a mirrored step) and not two cycles
    assert cycle.mismatch_deg < 2.0


def test_find_cycle_on_a_non_repeating_clip_is_poor(character):
    motion, _ = unrolled_walk(character, cycles=1)
    rng = np.random.default_rng(0)
    noise = rot.from_axis_angle(np.cumsum(rng.normal(scale=0.08, size=motion.joint_rot.shape[:-1] + (3,)), axis=0))
    drifting = replace(motion, joint_rot=rot.multiply(noise, motion.joint_rot))
    looped, cycle = loop_best_cycle(drifting, max_mismatch_deg=5.0)
    assert cycle is None and looped is drifting


def test_closed_cycle_ends_where_it_starts(character):
    motion, period = unrolled_walk(character)
    rng = np.random.default_rng(1)
    jitter = rot.from_axis_angle(rng.normal(scale=0.05, size=motion.joint_rot.shape[:-1] + (3,)))
    noisy = replace(motion, joint_rot=rot.multiply(jitter, motion.joint_rot))
    cycle = find_cycle(noisy)
    looped = close_cycle(noisy, cycle)
    assert looped.loop == "wrap" and looped.num_frames == cycle.length + 1
    assert np.degrees(rot.geodesic_angle(looped.joint_rot[0], looped.joint_rot[-1])).max() < 1e-3
    assert np.degrees(rot.geodesic_angle(looped.root_rot[0], looped.root_rot[-1])) < 1e-3
    assert abs(looped.root_pos[0, 1] - looped.root_pos[-1, 1]) < 1e-9
    assert np.allclose(looped.root_pos[0, [0, 2]], 0.0)
    # The walk moves on: the cycle's displacement is about one cycle of the walk.
    assert np.linalg.norm(looped.root_pos[-1, [0, 2]]) > 0.5


def test_steady_heading_removes_a_swing_and_keeps_the_course(character):
    motion, period = unrolled_walk(character)
    swing = np.radians(25.0) * np.sin(2 * np.pi * np.arange(motion.num_frames) / period)
    swung = replace(motion, root_rot=rot.multiply(rot.about_axis(UP, swing), motion.root_rot))
    steadied = steady_heading(swung, sigma_s=0.4)
    before = np.degrees(np.std(np.diff(root_headings(swung))))
    after = np.degrees(np.std(np.diff(root_headings(steadied))))
    assert after < 0.25 * before
    middle = slice(period // 2, -period // 2)
    assert abs(np.degrees(np.mean(root_headings(steadied)[middle] - root_headings(motion)[middle]))) < 3.0


def test_align_start_finds_the_reference_phase(character):
    motion, period = unrolled_walk(character)
    clip = read_deepmimic(WALK, character)
    cycle = find_cycle(motion)
    aligned = align_start(motion, replace(cycle, start=cycle.start + 11), clip)  # any start in, the clip's phase out
    assert aligned.start % period in (0, 1, period - 1)
    looped, chosen = loop_best_cycle(motion, phase_reference=clip)
    assert chosen.start % period in (0, 1, period - 1)
    assert np.degrees(rot.geodesic_angle(looped.joint_rot, clip.joint_rot[: looped.num_frames])).mean() < 3.0


def test_blend_cycles_goes_from_a_to_b(character):
    clip = read_deepmimic(WALK, character)
    motion, period = unrolled_walk(character)
    b = close_cycle(motion, Cycle(start=10, length=period, mismatch_deg=0.0))  # the same walk, another phase
    assert np.allclose(blend_cycles(clip, b, 0.0).joint_rot, clip.joint_rot)
    full = blend_cycles(clip, b, 1.0)
    assert full.duration == clip.duration and full.loop == "wrap"
    assert np.degrees(rot.geodesic_angle(full.joint_rot[0], b.joint_rot[0])).max() < 1e-6
    half = blend_cycles(clip, b, 0.5)
    to_a = rot.geodesic_angle(half.joint_rot, clip.joint_rot)
    to_b = rot.geodesic_angle(half.joint_rot, full.joint_rot)
    assert np.allclose(to_a, to_b, atol=1e-6)


def _knee_angles_deg(motion):
    """``(T, 2)`` right and left knee angles (deg)."""
    ch = motion.character
    knees = [ch.motion_joints.index(ch.body_names.index(n)) for n in ("right_knee", "left_knee")]
    return np.degrees(motion.hinge_angles()[:, knees])


def _limp(clip, turn_deg: float):
    """The walk with a stiff right knee (a tenth of its bend), turned ``turn_deg`` about +Y."""
    ch = clip.character
    joint_rot = clip.joint_rot.copy()
    k = ch.motion_joints.index(ch.body_names.index("right_knee"))
    axis = ch.hinge_axes[ch.body_names.index("right_knee")]
    joint_rot[:, k] = rot.about_axis(axis, 0.1 * rot.angle_about(joint_rot[:, k], axis))
    turn = rot.about_axis(UP, np.radians(turn_deg))
    return replace(clip, joint_rot=joint_rot, root_rot=rot.multiply(np.broadcast_to(turn, clip.root_rot.shape), clip.root_rot),
                   root_pos=rot.rotate(np.broadcast_to(turn, clip.root_pos.shape[:1] + (4,)), clip.root_pos))


def _closed_walk(character):
    """DeepMimic's walk as an exactly closed cycle (the file's last frame is a little off its first)."""
    motion, period = unrolled_walk(character)
    return close_cycle(motion, Cycle(start=0, length=period, mismatch_deg=0.0))


def test_symmetric_cycle_evens_out_a_limp(character):
    clip = _closed_walk(character)
    limp = _limp(clip, turn_deg=40.0)
    even = symmetric_cycle(limp)
    knees = _knee_angles_deg(even)
    assert abs(np.abs(knees[:, 0]).max() - np.abs(knees[:, 1]).max()) < 0.5  # was 7.8 vs 77.8
    assert np.abs(_knee_angles_deg(limp)[:, 0]).max() < 10.0
    assert np.degrees(rot.geodesic_angle(even.joint_rot[0], even.joint_rot[-1])).max() < 1e-6  # still closed
    assert abs(np.degrees(np.mean(root_headings(even)) - np.mean(root_headings(limp)))) < 1.0  # same course
    again = symmetric_cycle(even)  # a symmetric cycle is its own mirror half a cycle on
    assert np.degrees(rot.geodesic_angle(again.joint_rot, even.joint_rot)).max() < 0.5
    # DeepMimic's walk is close to symmetric already: it barely changes.
    assert np.degrees(rot.geodesic_angle(symmetric_cycle(clip).joint_rot, clip.joint_rot)).mean() < 3.0


def test_lift_swing_feet_clears_the_swing_and_keeps_the_stance(character):
    clip = _closed_walk(character)
    ch = clip.character
    feet = tuple(ch.contact_bodies)
    shuffle = symmetric_cycle(_limp(clip, turn_deg=0.0))  # both knees bend half as much: low swings
    pos, rots = shuffle.body_frames()
    before = ch.lowest_heights(pos, rots, feet)
    assert before.max() < 0.08
    lifted = lift_swing_feet(shuffle, 0.10)
    pos2, rots2 = lifted.body_frames()
    after = ch.lowest_heights(pos2, rots2, feet)
    assert np.all(after.max(axis=0) > 0.095)
    assert np.all(after >= before - 1e-9)  # nothing is lowered
    lower = before[:-1].argmin(axis=1)
    for c, body in enumerate(feet):
        stance = np.flatnonzero(lower == c)
        # The foot on the ground stays where it was, mid-stance at least (the stance edges may be filled gaps).
        mid = stance[np.abs(before[stance, 1 - c] - before[stance, c]) > 0.02]
        assert np.allclose(pos2[mid, body], pos[mid, body], atol=1e-9)
    assert np.degrees(rot.geodesic_angle(lifted.joint_rot[0], lifted.joint_rot[-1])).max() < 1e-6
    assert np.abs(_knee_angles_deg(lifted)).max() > np.abs(_knee_angles_deg(shuffle)).max() + 10.0


def test_pin_stance_feet_stops_a_gliding_stance_foot(character):
    clip = _closed_walk(character)
    ch = clip.character
    feet = tuple(ch.contact_bodies)
    gliding = replace(clip, root_pos=clip.root_pos * np.array([1.4, 1.0, 1.4]))  # the root outruns the legs
    pinned = pin_stance_feet(gliding)
    assert np.allclose(pinned.root_pos, gliding.root_pos)  # the path is kept; the legs change

    def mid_stance_speed(motion):
        pos, rots = motion.body_frames()
        heights = ch.lowest_heights(pos, rots, feet)
        step = np.linalg.norm(np.diff(pos[:, list(feet)][..., [0, 2]], axis=0), axis=-1) / motion.frame_dt[:-1, None]
        lower = heights[:-1].argmin(axis=1)
        clear = np.abs(heights[:-1, 0] - heights[:-1, 1]) > 0.02  # well inside a stance, not at a switch
        return step[np.arange(len(step)), lower][clear].mean()

    assert mid_stance_speed(gliding) > 0.25  # m/s: the stance foot glides with the body
    assert mid_stance_speed(pinned) < 0.05
    assert np.degrees(rot.geodesic_angle(pinned.joint_rot[0], pinned.joint_rot[-1])).max() < 1e-6
