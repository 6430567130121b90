"""Cyclic motions from repetitive clips: steady heading, the best repeating cycle, seamless loop.

A walk filmed for a few seconds holds two or three gait cycles, each slightly different and,
when estimated from one video, with a heading that swings as the hips' depth order flips.
DeepMimic imitates one cycle played in a loop (``loop: wrap``); :func:`loop_best_cycle` finds
the cycle that repeats best and closes it so its last frame is its first, moved along the walk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from characters import rotations as rot
from retargeting.character_motion import CharacterMotion
from retargeting.cleanup import root_headings

UP = np.array([0.0, 1.0, 0.0])


@dataclass(frozen=True)
class Cycle:
    """One repeat of a motion: frames ``[start, start + length]`` (the last equals the first)."""

    start: int
    length: int
    mismatch_deg: float
    """Mean joint-rotation angle (deg) between the cycle's first and last frames (±2 frames)."""


def _pose_distance_deg(motion: CharacterMotion) -> np.ndarray:
    """``(T, T)`` mean angle (deg) over the motion joints and the root's tilt between every two frames."""
    heading = rot.about_axis(UP, root_headings(motion))
    tilt = rot.multiply(rot.conjugate(heading), motion.root_rot)  # root rotation without its heading
    q = np.concatenate([tilt[:, None], motion.joint_rot], axis=1)  # (T, J, 4)
    dots = np.abs(np.einsum("ajk,bjk->abj", q, q))
    return np.degrees(2.0 * np.arccos(np.clip(dots, 0.0, 1.0))).mean(axis=-1)


def _ends_mismatch(distance: np.ndarray, start: int, length: int) -> float:
    """Mean pose distance (deg) between frames ``start + k`` and ``start + length + k``, k in -2..2 (within the clip)."""
    n = len(distance)
    return float(np.mean([distance[start + k, start + length + k] for k in range(-2, 3) if 0 <= start + k and start + length + k < n]))


def find_cycle(motion: CharacterMotion, min_s: float = 0.6, max_s: float = 2.0, margin_s: float = 0.2) -> Cycle | None:
    """The shortest well-repeating cycle of ``motion``, or None if it holds no full repeat.

    For every length in ``[min_s, max_s]`` and every start at least ``margin_s`` from the clip's
    ends (estimates are worst there), the mismatch is the pose distance between the start and the
    frame one length later, averaged over ±2 frames. Among lengths whose best mismatch is within
    25 % of the overall best, the shortest wins (two cycles repeat as well as one).
    """
    fps = motion.fps
    n = motion.num_frames
    margin = int(round(margin_s * fps))
    lengths = np.arange(max(2, int(round(min_s * fps))), int(round(max_s * fps)) + 1)
    lengths = lengths[lengths < n - 2 * margin - 4]
    if len(lengths) == 0:
        return None
    distance = _pose_distance_deg(motion)
    best: list[tuple[float, int]] = []
    for length in lengths:
        starts = np.arange(margin + 2, n - margin - length - 2)
        if len(starts) == 0:
            best.append((np.inf, 0))
            continue
        window = np.mean([distance[starts + k, starts + length + k] for k in range(-2, 3)], axis=0)
        i = int(np.argmin(window))
        best.append((float(window[i]), int(starts[i])))
    scores = np.array([b[0] for b in best])
    if not np.isfinite(scores).any():
        return None
    pick = int(np.flatnonzero(scores <= 1.25 * scores.min())[0])
    # The shortest near-best length sits on a local minimum; refine to it.
    while pick + 1 < len(scores) and scores[pick + 1] < scores[pick]:
        pick += 1
    return Cycle(start=best[pick][1], length=int(lengths[pick]), mismatch_deg=float(scores[pick]))


def close_cycle(motion: CharacterMotion, cycle: Cycle) -> CharacterMotion:
    """Frames ``cycle.start .. start + length`` as a ``wrap`` clip whose last pose is its first.

    The residual between the two ends (root rotation, root height, every joint) is spread
    linearly over the cycle; the horizontal root path is kept, so each repeat moves on by the
    cycle's displacement. Times restart at 0.
    """
    s, length = cycle.start, cycle.length
    cut = slice(s, s + length + 1)
    frac = np.arange(length + 1) / length
    root_rot = rot.make_continuous(motion.root_rot[cut].copy())
    joint_rot = rot.make_continuous(motion.joint_rot[cut].copy())
    root_pos = motion.root_pos[cut].copy()
    root_fix = rot.slerp(rot.identity(), rot.multiply(root_rot[0], rot.conjugate(root_rot[-1])), frac)
    root_rot = rot.multiply(root_fix, root_rot)
    joint_fix = rot.slerp(rot.identity((joint_rot.shape[1],)), rot.multiply(joint_rot[0], rot.conjugate(joint_rot[-1])), frac[:, None])
    joint_rot = rot.multiply(joint_fix, joint_rot)
    root_pos[:, 1] += frac * (root_pos[0, 1] - root_pos[-1, 1])
    root_pos -= np.array([root_pos[0, 0], 0.0, root_pos[0, 2]])
    return replace(motion, frame_dt=motion.frame_dt[cut].copy(), root_pos=root_pos, root_rot=rot.normalize(root_rot), joint_rot=rot.normalize(joint_rot), loop="wrap")


def touchdown_start(motion: CharacterMotion, cycle: Cycle, body_name: str = "right_ankle") -> Cycle:
    """The same cycle, starting where ``body_name`` (a contact body) comes down from its swing.

    DeepMimic's walk starts at the right foot's touchdown; cycles that start at the same gait
    event have the same phase variable, so a policy trained on one warm-starts the other. The
    touchdown is the lowest point of the body's height after its highest point in the cycle;
    the start moves within the frames the cycle leaves free around it (a cycle that cannot move
    is returned as it is).
    """
    character = motion.character
    if body_name not in character.body_names:
        return cycle
    body = character.body_names.index(body_name)
    pos, rots = motion.body_frames()
    height = character.lowest_heights(pos, rots, (body,))[:, 0]
    frames = np.arange(cycle.start, cycle.start + cycle.length)
    peak = frames[np.argmax(height[frames])]
    after = np.arange(peak, peak + cycle.length // 2)
    after = np.where(after >= cycle.start + cycle.length, after - cycle.length, after)  # wrap within the cycle
    landed = after[np.argmax(height[after] <= height[frames].min() + 0.02)]
    start = int(landed)
    if start + cycle.length >= motion.num_frames:
        start -= cycle.length
    if start < 0:
        return cycle
    return Cycle(start=start, length=cycle.length, mismatch_deg=_ends_mismatch(_pose_distance_deg(motion), start, cycle.length))


def align_start(motion: CharacterMotion, cycle: Cycle, reference: CharacterMotion, margin_s: float = 0.2) -> Cycle:
    """The same cycle, starting where it best matches the cyclic ``reference`` phase for phase.

    A policy's phase input means "this far through the reference cycle"; a new cycle that starts
    at the same point of the gait can be warm-started from that policy. Every shift of the start
    within the cycle is scored by the mean joint-rotation angle between the cycle's frames (read
    round the found cycle) at the reference's frame phases and the reference; of the equivalent
    starts one cycle apart, the one whose ends match best (and ``margin_s`` clear of the clip's
    ends) is used.
    """
    k = reference.num_frames
    phases = np.arange(k) / (k - 1)
    scores = []
    for shift in range(cycle.length):
        frames = cycle.start + np.round(shift + phases * cycle.length).astype(int) % cycle.length
        scores.append(float(np.degrees(rot.geodesic_angle(motion.joint_rot[frames], reference.joint_rot)).mean()))
    shift = int(np.argmin(scores))
    margin = int(round(margin_s * motion.fps))
    distance = _pose_distance_deg(motion)
    options = []
    for start in (cycle.start + shift - cycle.length, cycle.start + shift):
        if margin <= start and start + cycle.length < motion.num_frames - margin:
            options.append((_ends_mismatch(distance, start, cycle.length), start))
    if not options:
        return cycle
    ends, start = min(options)
    return Cycle(start=start, length=cycle.length, mismatch_deg=ends)


def loop_best_cycle(motion: CharacterMotion, max_mismatch_deg: float = 12.0, phase_reference: CharacterMotion | None = None) -> tuple[CharacterMotion, Cycle | None]:
    """Find the best cycle, choose its start and close it; returns ``(cyclic motion, cycle)``, or
    ``(motion, None)`` unchanged if no cycle repeats within ``max_mismatch_deg``.

    The start is where the cycle best matches ``phase_reference`` (a cyclic clip a policy was
    trained on, see :func:`align_start`) or, without one, the right foot's touchdown.
    """
    cycle = find_cycle(motion)
    if cycle is None or cycle.mismatch_deg > max_mismatch_deg:
        return motion, None
    if phase_reference is not None and phase_reference.loop == "wrap":
        cycle = align_start(motion, cycle, phase_reference)
    else:
        cycle = touchdown_start(motion, cycle)
    return close_cycle(motion, cycle), cycle


def blend_cycles(a: CharacterMotion, b: CharacterMotion, alpha: float) -> CharacterMotion:
    """A cyclic clip ``alpha`` of the way from cycle ``a`` to cycle ``b``, on ``a``'s timing.

    ``b`` is sampled at ``a``'s frame phases and turned about +Y so its mean heading is ``a``'s;
    root height and path (displacement from the start) are interpolated linearly, root and joint
    rotations by slerp. A curriculum of such clips walks a policy trained on ``a`` over to ``b``.
    """
    if a.loop != "wrap" or b.loop != "wrap":
        raise ValueError("both motions must be cyclic (loop: wrap)")
    phases = a.times / a.duration
    b_pos, b_rot, b_joint = b.sample(phases * b.duration)
    b_pos[-1] = b.root_pos[-1]  # the last phase is the end of the cycle, not its start again
    b_rot[-1], b_joint[-1] = b.root_rot[-1], b.joint_rot[-1]
    turn = rot.about_axis(UP, np.mean(root_headings(a)) - np.mean(root_headings(replace(b, root_rot=b_rot))))
    b_rot = rot.multiply(np.broadcast_to(turn, b_rot.shape), b_rot)
    flat = np.array([1.0, 0.0, 1.0])
    b_path = rot.rotate(turn, (b_pos - b_pos[0]) * flat)
    a_path = (a.root_pos - a.root_pos[0]) * flat
    root_pos = a.root_pos[0] * flat + (1 - alpha) * a_path + alpha * b_path
    root_pos[:, 1] = (1 - alpha) * a.root_pos[:, 1] + alpha * b_pos[:, 1]
    return replace(a, root_pos=root_pos, root_rot=rot.slerp(a.root_rot, b_rot, alpha), joint_rot=rot.slerp(a.joint_rot, b_joint, alpha))


def symmetric_cycle(cycle: CharacterMotion) -> CharacterMotion:
    """A cyclic walk averaged with its own mirror image half a cycle later.

    In a symmetric gait the left leg does at time ``t + T/2`` what the right leg did at ``t``.
    Single-view estimates break that symmetry (the far leg is seen worse, so one knee barely
    bends); the average of the cycle and its half-cycle-shifted mirror restores it. The cycle is
    turned to face ``character.forward`` for the mirroring and turned back afterwards; the root
    path becomes straight along the mean heading. Root height and path are averaged, root and
    joint rotations slerped halfway. The result is closed exactly like its input.
    """
    if cycle.loop != "wrap":
        raise ValueError("the motion must be cyclic (loop: wrap)")
    flat = np.array([1.0, 0.0, 1.0])
    yaw = root_headings(cycle)[:-1]
    mean_yaw = float(np.arctan2(np.sin(yaw).mean(), np.cos(yaw).mean()))
    face, back = rot.about_axis(UP, -mean_yaw), rot.about_axis(UP, mean_yaw)
    origin = cycle.root_pos[0] * flat
    straight = replace(
        cycle, root_pos=rot.rotate(np.broadcast_to(face, cycle.root_pos.shape[:1] + (4,)), cycle.root_pos - origin),
        root_rot=rot.multiply(np.broadcast_to(face, cycle.root_rot.shape), cycle.root_rot),
    )
    m_pos, m_rot, m_joint = straight.mirrored().sample(straight.times + cycle.duration / 2.0)
    m_pos[:, [0, 2]] -= m_pos[0, [0, 2]]
    root_pos = 0.5 * (straight.root_pos + m_pos)
    root_rot = rot.multiply(np.broadcast_to(back, cycle.root_rot.shape), rot.slerp(straight.root_rot, m_rot, 0.5))
    root_pos = rot.rotate(np.broadcast_to(back, root_pos.shape[:1] + (4,)), root_pos) + origin
    return replace(cycle, root_pos=root_pos, root_rot=rot.normalize(root_rot), joint_rot=rot.slerp(straight.joint_rot, m_joint, 0.5))


def _unrolled(cycle: CharacterMotion, copies: int) -> CharacterMotion:
    """``copies`` repeats of a closed cycle as one clip (each moved on by the cycle's displacement)."""
    n = cycle.num_frames - 1
    shift = (cycle.root_pos[-1] - cycle.root_pos[0]) * np.array([1.0, 0.0, 1.0])
    root_pos = np.concatenate([cycle.root_pos[:n] + k * shift for k in range(copies)] + [cycle.root_pos[:1] + copies * shift])
    root_rot = np.concatenate([cycle.root_rot[:n]] * copies + [cycle.root_rot[:1]])
    joint_rot = np.concatenate([cycle.joint_rot[:n]] * copies + [cycle.joint_rot[:1]])
    frame_dt = np.concatenate([cycle.frame_dt[:n]] * copies + [cycle.frame_dt[-1:]])
    return replace(cycle, frame_dt=frame_dt, root_pos=root_pos, root_rot=root_rot, joint_rot=joint_rot, loop="none")


def pin_stance_feet(cycle: CharacterMotion, blend_s: float = 0.1, stance_min_s: float = 0.15) -> CharacterMotion:
    """A closed walk cycle whose stance foot stays put on the ground, by leg IK.

    Estimated walks glide: the foot under the body slides along with it, so the legs' stride does
    not match the root's speed, and a simulated character, whose planted foot cannot slide,
    walks at a speed of its own and leaves the reference. Each foot is in stance while it is the
    lower one (:func:`retargeting.cleanup.lower_foot_stance`); during a stance it is held at the
    stance's median position and eased in and out over ``blend_s``
    (:func:`retargeting.cleanup.pin_targets`, :func:`retargeting.cleanup.solve_leg_ik`). The root
    path is kept. Stances that wrap round the cycle's ends are handled by working on three
    repeats and keeping the middle one.
    """
    from retargeting.cleanup import lower_foot_stance, pin_targets, solve_leg_ik

    if cycle.loop != "wrap":
        raise ValueError("the motion must be cyclic (loop: wrap)")
    character = cycle.character
    n = cycle.num_frames - 1
    long = _unrolled(cycle, 3)
    pos, rots = long.body_frames()
    bodies = tuple(character.contact_bodies)
    stances = lower_foot_stance(character.lowest_heights(pos, rots, bodies), stance_min_s * cycle.fps)
    blend = max(1, int(round(blend_s * cycle.fps)))
    for c, body in enumerate(bodies):
        target, _ = pin_targets(pos[:, body], stances[:, c], blend)
        long = solve_leg_ik(long, body, target)
    middle = slice(n, 2 * n + 1)
    root_pos = long.root_pos[middle] - (long.root_pos[n] - cycle.root_pos[0])
    joint_rot = long.joint_rot[middle].copy()
    joint_rot[-1] = joint_rot[0]  # exactly closed (the repeats differ only by rounding)
    return replace(cycle, root_pos=root_pos, root_rot=long.root_rot[middle].copy(), joint_rot=joint_rot)


def tidy_walk_cycle(cycle: CharacterMotion, symmetric: bool, swing_clearance_m: float, pin_stance: bool = False, plant_smooth_s: float = 0.1) -> CharacterMotion:
    """Optional edits of a looped walk cycle for imitation, in this order: :func:`symmetric_cycle`
    and the lower foot put back on the ground (averaging two poses leaves it hovering or sinking
    by a centimetre); :func:`pin_stance_feet` (estimates, and the averaging, let the stance foot
    glide); :func:`retargeting.cleanup.lift_swing_feet` with ``swing_clearance_m`` (0: off)."""
    from retargeting.cleanup import lift_above_ground, lift_swing_feet, plant_lower_foot

    if symmetric:
        cycle = plant_lower_foot(symmetric_cycle(cycle), plant_smooth_s)
    if pin_stance:
        cycle = pin_stance_feet(cycle)
    if swing_clearance_m > 0:
        cycle = lift_above_ground(lift_swing_feet(cycle, swing_clearance_m))
    return cycle
