"""Clean a retargeted character motion: smoothing, ground alignment, foot contacts, foot skate.

Order matters: smooth first, then (for video estimates) level the floor and the feet, put the body on the ground, detect contacts, pin each
contact with leg IK (so smoothing can never undo a contact), and finally lift any frame in
which a body still dips below the ground.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from characters import rotations as rot
from retargeting.character_motion import CharacterMotion


@dataclass(frozen=True)
class CleanupOptions:
    """Parameters of :func:`clean_motion`; times in seconds, lengths in metres."""

    smooth_sigma_s: float = 0.02
    """Gaussian smoothing of root and joint rotations over time; 0 disables."""
    ground_percentile: float = 5.0
    """The clip's floor: this percentile over frames of the lowest body point is put at height 0."""
    contact_height_m: float = 0.05
    """A contact body whose lowest point is below this height ..."""
    contact_speed_mps: float = 0.4
    """... and whose horizontal speed is below this is in contact with the ground."""
    min_contact_s: float = 0.05
    """Shorter contacts are dropped; shorter gaps between contacts are filled."""
    blend_s: float = 0.1
    """The foot is eased into and out of its pinned position over this time."""
    level_ground: bool = False
    """Fit a plane to where the feet stand and turn the clip so it is level: for video
    estimates, where an unknown camera pitch shows as a floor that slopes along the walk."""
    max_tilt_deg: float = 30.0
    """A fitted floor steeper than this is not trusted (the clip is left as it is)."""
    repair_turns_deg: float = 0.0
    """If > 0: frames where the root's heading, or the upper body's twist on the root, leaves its
    one-second running median by more than this are re-interpolated from their neighbours —
    monocular estimates briefly turn the whole body round when the hips' depth order is
    ambiguous. 0 disables."""
    stance_from_lower_foot: bool = False
    """Also count the lower contact body of each frame as planted (walking always has a foot on
    the ground): for estimates whose feet glide with the body, so that no foot is ever still
    enough for the speed test; the leg IK then plants the stance foot."""
    plant_lower_foot: bool = False
    """Move the root up or down in every frame so the lower contact body just touches the ground
    (smoothed over ``blend_s``): for estimates of walks, whose stance foot hovers or sinks by
    centimetres as the estimated depth wanders. Wrong for motions with flight phases."""
    stance_min_s: float = 0.15
    """With ``stance_from_lower_foot``, stances shorter than this are dropped (foot-height noise)."""
    heading_sigma_s: float = 0.0
    """If > 0: the root's heading follows its Gaussian-smoothed course (this sigma, s), the whole
    body turned with it — single-view estimates swing the heading within each gait cycle. 0 disables."""
    path_sigma_s: float = 0.0
    """If > 0: extra Gaussian smoothing (this sigma, s) of the root's horizontal path — a
    single-view estimate's depth jitters from frame to frame. 0 disables."""
    flat_feet: bool = False
    """Turn each contact body (foot) level, keeping its heading: for estimates that leave the
    ankles at rest (MediaPipe has no foot orientation), whose feet would otherwise meet the
    ground tilted by the shin's angle and trip the simulated character."""


VIDEO_ESTIMATE_CLEANUP = CleanupOptions(
    level_ground=True, flat_feet=True, stance_from_lower_foot=True, plant_lower_foot=True, repair_turns_deg=20.0, heading_sigma_s=0.4,
    path_sigma_s=0.1,
)
"""Cleanup for motions estimated from a single video (``vidmimic run``): brief turns repaired,
heading and path steadied, floor levelled, feet flat, the lower foot planted (on the ground and
in place). Mocap keeps the defaults."""


def gaussian_smooth(values: np.ndarray, sigma_frames: float, wrap: bool) -> np.ndarray:
    """Smooth ``(T, ...)`` along frames with a Gaussian of ``sigma_frames``; ``wrap`` for cyclic clips."""
    if sigma_frames <= 0 or values.shape[0] < 3:
        return values.copy()
    radius = int(np.ceil(3 * sigma_frames))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_frames) ** 2)
    kernel /= kernel.sum()
    n = values.shape[0]
    idx = np.arange(-radius, n + radius)
    idx = idx % n if wrap else np.clip(idx, 0, n - 1)
    padded = values[idx]
    out = np.zeros_like(values)
    for k, weight in enumerate(kernel):
        out += weight * padded[k : k + n]
    return out


def smooth_rotations(q: np.ndarray, sigma_frames: float, wrap: bool) -> np.ndarray:
    """Smooth unit quaternions ``(T, ..., 4)`` over frames (hemisphere-aligned average, renormalised)."""
    q = rot.make_continuous(q, axis=0)
    return rot.normalize(gaussian_smooth(q, sigma_frames, wrap))


def _lift_profile(deficit: np.ndarray, radius: int) -> np.ndarray:
    """A smooth ``(T,)`` lift that is at least ``deficit`` everywhere."""
    n = deficit.shape[0]
    idx = np.clip(np.arange(n)[:, None] + np.arange(-radius, radius + 1)[None], 0, n - 1)
    widened = deficit[idx].max(axis=1)
    return np.maximum(deficit, gaussian_smooth(widened, radius / 2.0, wrap=False))


def ground_motion(motion: CharacterMotion, percentile: float) -> CharacterMotion:
    """Shift the clip so its floor is at height 0, then lift frames where any body is below it."""
    character = motion.character
    all_bodies = tuple(range(character.num_bodies))
    pos, rots = motion.body_frames()
    lowest = character.lowest_heights(pos, rots, all_bodies).min(axis=1)
    root_pos = motion.root_pos.copy()
    root_pos[:, 1] -= np.percentile(lowest, percentile)
    return lift_above_ground(replace(motion, root_pos=root_pos))


def floor_plane(motion: CharacterMotion, iterations: int = 4) -> tuple[np.ndarray, float] | None:
    """``(unit normal (3,), spread m)`` of the plane the feet stand on, or None if undetermined.

    Each frame contributes the lowest point of its lower foot; a least-squares plane
    ``h = a x + b z + c`` is refitted on the lower half of the residuals (swing feet lie above
    it). ``spread`` is the standard deviation of the support points along their main
    horizontal direction: below about half a metre the slope is not measurable.
    """
    character = motion.character
    pos, rots = motion.body_frames()
    feet = np.asarray(character.contact_bodies)
    heights = character.lowest_heights(pos, rots, tuple(character.contact_bodies))
    lower = heights.argmin(axis=1)
    xz = pos[np.arange(motion.num_frames), feet[lower]][:, [0, 2]]
    h = heights[np.arange(motion.num_frames), lower]
    spread = float(np.sqrt(np.linalg.eigvalsh(np.cov(xz.T)).max())) if motion.num_frames > 2 else 0.0
    if spread < 0.5:
        return None
    keep = np.ones(len(h), dtype=bool)
    for _ in range(iterations):
        design = np.column_stack([xz[keep], np.ones(keep.sum())])
        (a, b, c), *_ = np.linalg.lstsq(design, h[keep], rcond=None)
        residual = h - (a * xz[:, 0] + b * xz[:, 1] + c)
        keep = residual <= np.median(residual)
    normal = np.array([-a, 1.0, -b])
    return normal / np.linalg.norm(normal), spread


def level_motion(motion: CharacterMotion, max_tilt_deg: float = 30.0) -> CharacterMotion:
    """Turn the whole clip (about its mean root position) so the floor its feet stand on is level."""
    plane = floor_plane(motion)
    up = np.array([0.0, 1.0, 0.0])
    if plane is None or np.degrees(np.arccos(np.clip(plane[0] @ up, -1, 1))) > max_tilt_deg:
        return motion
    turn = rot.between(plane[0], up)
    centre = motion.root_pos.mean(axis=0)
    root_pos = centre + rot.rotate(turn, motion.root_pos - centre)
    return replace(motion, root_pos=root_pos, root_rot=rot.multiply(np.broadcast_to(turn, motion.root_rot.shape), motion.root_rot))


def _headings_deg(rots: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """``(T,)`` unwrapped heading (deg about +Y) of rotations ``(T, 4)`` for a body facing ``forward``."""
    f = rot.rotate(rots, np.broadcast_to(forward, rots.shape[:-1] + (3,)))
    return np.degrees(np.unwrap(np.arctan2(-f[:, 2], f[:, 0])))


def _running_median(values: np.ndarray, window: int) -> np.ndarray:
    half = window // 2
    padded = np.pad(values, half, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=-1)


def turn_outliers(motion: CharacterMotion, max_deg: float, window_s: float = 1.0) -> np.ndarray:
    """``(T,)`` bool: frames whose root heading or upper-body twist leaves its running median by > ``max_deg``."""
    character = motion.character
    _, rots = motion.body_frames()
    window = max(3, int(round(window_s * motion.fps)))
    root = _headings_deg(rots[:, 0], character.forward)
    bad = np.abs(root - _running_median(root, window)) > max_deg
    for b in range(1, character.num_bodies):
        if character.skeleton.parents[b] == 0 and b not in character.contact_bodies and character.body_names[b] != "root":
            twist = _headings_deg(rots[:, b], character.forward) - root
            bad |= np.abs(twist - _running_median(twist, window)) > max_deg
    return bad


def repair_frames(motion: CharacterMotion, bad: np.ndarray) -> CharacterMotion:
    """Replace the rotations of ``bad`` frames by slerp between the nearest good frames (positions kept)."""
    if not bad.any() or bad.all():
        return motion
    root_rot, joint_rot = motion.root_rot.copy(), motion.joint_rot.copy()
    n = len(bad)
    for start, stop in _segments(bad):
        before, after = start - 1, stop
        if before < 0 or after >= n:
            source = after if before < 0 else before
            root_rot[start:stop], joint_rot[start:stop] = root_rot[source], joint_rot[source]
            continue
        t = (np.arange(start, stop) - before) / (after - before)
        root_rot[start:stop] = rot.slerp(root_rot[before], root_rot[after], t)
        joint_rot[start:stop] = rot.slerp(joint_rot[before], joint_rot[after], t[:, None])
    return replace(motion, root_rot=root_rot, joint_rot=joint_rot)


def flatten_feet(motion: CharacterMotion) -> CharacterMotion:
    """Set each contact body's joint so the body is level in the world, keeping its heading.

    The character's rest pose stands on flat feet facing ``character.forward``; a foot's target
    world rotation is therefore the rotation about +Y by its current heading.
    """
    character = motion.character
    _, rots = motion.body_frames()
    up = np.array([0.0, 1.0, 0.0])
    forward = character.forward
    forward_yaw = np.arctan2(-forward[2], forward[0])
    joint_rot = motion.joint_rot.copy()
    for body in character.contact_bodies:
        heading = rot.rotate(rots[:, body], np.broadcast_to(forward, rots.shape[:1] + (3,)))
        yaw = np.arctan2(-heading[:, 2], heading[:, 0]) - forward_yaw
        level = rot.about_axis(up, yaw)
        parent = character.skeleton.parents[body]
        above = rot.multiply(rots[:, parent], np.broadcast_to(character.skeleton.rest_rotations[body], rots.shape[:1] + (4,)))
        joint_rot[:, character.motion_joints.index(body)] = rot.multiply(rot.conjugate(above), level)
    return replace(motion, joint_rot=joint_rot)


def lift_above_ground(motion: CharacterMotion) -> CharacterMotion:
    """Raise the root smoothly wherever a body's lowest point is below height 0."""
    character = motion.character
    pos, rots = motion.body_frames()
    lowest = character.lowest_heights(pos, rots, tuple(range(character.num_bodies))).min(axis=1)
    deficit = np.maximum(0.0, -lowest)
    if not deficit.any():
        return motion
    radius = max(1, int(round(0.1 * motion.fps)))
    root_pos = motion.root_pos.copy()
    root_pos[:, 1] += _lift_profile(deficit, radius)
    return replace(motion, root_pos=root_pos)


def plant_lower_foot(motion: CharacterMotion, smooth_s: float) -> CharacterMotion:
    """Shift the root vertically per frame so the lower contact body's lowest point is at height 0 (smoothed)."""
    character = motion.character
    pos, rots = motion.body_frames()
    lowest = character.lowest_heights(pos, rots, tuple(character.contact_bodies)).min(axis=1)
    root_pos = motion.root_pos.copy()
    root_pos[:, 1] -= gaussian_smooth(lowest, smooth_s * motion.fps, wrap=motion.loop == "wrap")
    return replace(motion, root_pos=root_pos)


def _cyclic_segments(flags: np.ndarray) -> list[np.ndarray]:
    """Frame indices of each run of True in a cyclic ``(N,)`` flag array (a run may wrap round)."""
    if flags.all() or not flags.any():
        return [np.arange(len(flags))] if flags.all() else []
    shift = int(np.argmin(flags))  # start the scan on a False frame so no run is cut at the end
    rolled = np.roll(flags, -shift)
    return [(np.arange(a, b) + shift) % len(flags) for a, b in _segments(rolled)]


def lower_foot_stance(heights: np.ndarray, min_frames: float) -> np.ndarray:
    """``(T, C)`` bool: each contact body is in stance while it is the lower one.

    ``heights (T, C)`` m, lowest point of each contact body; stances and swings shorter than
    ``min_frames`` are absorbed by their neighbours (foot-height noise)."""
    lower = heights.argmin(axis=1)
    frames = max(1, int(round(min_frames)))
    flags = [_fill_gaps(_fill_gaps(lower == c, frames, value=True), frames, value=False) for c in range(heights.shape[1])]
    return np.stack(flags, axis=1)


def lift_swing_feet(motion: CharacterMotion, clearance_m: float, stance_min_s: float = 0.15) -> CharacterMotion:
    """Raise each swinging foot to at least a half-sine of peak ``clearance_m`` over its swing.

    Single-view estimates shuffle: the swing foot barely leaves the ground and the knee hardly
    bends, and a simulated character imitating that stubs its toes. A contact body swings while
    the other is the lower one (with stances shorter than ``stance_min_s`` dropped); during a
    swing of ``n`` frames its lowest point is kept at or above ``clearance_m * sin(pi s)``,
    ``s`` going from 0 to 1, by leg IK (the knee bends, the hip turns, the foot keeps its world
    rotation). Cyclic motions (``loop: wrap``, last frame = first) are treated round the cycle.
    """
    character = motion.character
    bodies = tuple(character.contact_bodies)
    if clearance_m <= 0 or len(bodies) < 2:
        return motion
    wrap = motion.loop == "wrap"
    frames = motion.num_frames - 1 if wrap else motion.num_frames
    pos, rots = motion.body_frames()
    height = character.lowest_heights(pos, rots, bodies)
    stances = lower_foot_stance(height[:frames], stance_min_s * motion.fps)
    for c, body in enumerate(bodies):
        stance = stances[:, c]
        runs = _cyclic_segments(~stance) if wrap else [np.arange(a, b) for a, b in _segments(~stance)]
        lift = np.zeros(motion.num_frames)
        for run in runs:
            s = (np.arange(len(run)) + 0.5) / len(run)
            lift[run] = np.maximum(0.0, clearance_m * np.sin(np.pi * s) - height[run, c])
        if wrap:
            lift[-1] = lift[0]
        if lift.any():
            target = pos[:, body] + lift[:, None] * np.array([0.0, 1.0, 0.0])
            motion = solve_leg_ik(motion, body, target)
    return motion


def detect_contacts(motion: CharacterMotion, options: CleanupOptions) -> np.ndarray:
    """``(T, C)`` bool: is each of ``character.contact_bodies`` on the ground in each frame."""
    character = motion.character
    pos, rots = motion.body_frames()
    bodies = character.contact_bodies
    height = character.lowest_heights(pos, rots, bodies)
    horizontal = pos[:, list(bodies)][..., [0, 2]]
    speed = np.zeros(height.shape)
    if motion.num_frames > 1:
        step = np.linalg.norm(np.diff(horizontal, axis=0), axis=-1) / motion.frame_dt[:-1, None]
        speed[1:-1] = np.minimum(step[1:], step[:-1])  # a frame is still if either neighbour step is
        speed[0], speed[-1] = step[0], step[-1]
    contacts = (height < options.contact_height_m) & (speed < options.contact_speed_mps)
    min_frames = max(1, int(round(options.min_contact_s * motion.fps)))
    if options.stance_from_lower_foot and contacts.shape[1] > 1:
        lower = np.zeros_like(contacts)
        lower[np.arange(len(lower)), height.argmin(axis=1)] = True
        stance_frames = max(1, int(round(options.stance_min_s * motion.fps)))
        for c in range(lower.shape[1]):
            lower[:, c] = _fill_gaps(_fill_gaps(lower[:, c], stance_frames, value=True), stance_frames, value=False)
        contacts |= lower
    for c in range(contacts.shape[1]):
        contacts[:, c] = _fill_gaps(contacts[:, c], min_frames, value=False)
        contacts[:, c] = _fill_gaps(contacts[:, c], min_frames, value=True)
    return contacts


def _segments(flags: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` runs of True."""
    padded = np.concatenate([[False], flags, [False]]).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2], edges[1::2]))


def _fill_gaps(flags: np.ndarray, min_frames: int, value: bool) -> np.ndarray:
    """Set to ``value`` every interior run of ``not value`` shorter than ``min_frames``."""
    out = flags.copy()
    for start, stop in _segments(flags != value):
        if stop - start < min_frames and start > 0 and stop < len(flags):
            out[start:stop] = value
    return out


def pin_targets(positions: np.ndarray, contacts: np.ndarray, blend_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Pinned horizontal positions for one body and the blend weight of each frame.

    ``positions (T, 3)``; ``contacts (T,)``. Within a contact the target is the contact's
    median horizontal position (height untouched); around it the weight ramps from 1 to 0
    over ``blend_frames``. Returns ``targets (T, 3)`` and ``weights (T,)``.
    """
    n = positions.shape[0]
    weights = np.zeros(n)
    pinned = positions[:, [0, 2]].copy()
    frames = np.arange(n)
    for start, stop in _segments(contacts):
        distance = np.maximum(0, np.maximum(start - frames, frames - (stop - 1)))
        w = np.clip(1.0 - distance / (blend_frames + 1), 0.0, 1.0)
        take = w > weights
        weights[take] = w[take]
        pinned[take] = np.median(positions[start:stop, [0, 2]], axis=0)
    targets = positions.copy()
    targets[:, [0, 2]] += weights[:, None] * (pinned - positions[:, [0, 2]])
    return targets, weights


def solve_leg_ik(motion: CharacterMotion, body: int, target: np.ndarray) -> CharacterMotion:
    """Move ``body``'s origin to ``target (T, 3)`` by bending its hinge parent and turning the joint above.

    The chain must be spherical (hip) -> revolute (knee) -> ``body`` (ankle). The knee angle
    is solved in closed form (the branch nearest the current angle), the hip is turned by the
    smallest rotation that brings the ankle onto the target, and the foot keeps its world
    rotation.
    """
    character = motion.character
    skel = character.skeleton
    knee = skel.parents[body]
    hip = skel.parents[knee]
    if character.joint_types[knee] != "revolute" or character.joint_types[hip] != "spherical":
        return motion
    pos, rots = motion.body_frames()
    axis = character.hinge_axes[knee]
    knee_offset, ankle_offset = skel.offsets[knee], rot.rotate(skel.rest_rotations[knee], skel.offsets[body])
    axis_in_hip = rot.rotate(skel.rest_rotations[knee], axis)
    # p(theta) = knee_offset + R(theta) ankle_offset (in the hip frame); |p|^2 = const + 2 k.R a
    # with k.R(theta)a = A cos(theta) + B sin(theta) + C.
    a_par = axis_in_hip * (ankle_offset @ axis_in_hip)
    a_perp = ankle_offset - a_par
    coef_a = knee_offset @ a_perp
    coef_b = knee_offset @ np.cross(axis_in_hip, a_perp)
    coef_c = knee_offset @ a_par
    base = knee_offset @ knee_offset + ankle_offset @ ankle_offset
    reach = target - pos[:, hip]
    distance = np.linalg.norm(reach, axis=-1)
    amplitude = np.hypot(coef_a, coef_b)
    k = ((distance**2 - base) / 2.0 - coef_c) / max(amplitude, 1e-12)
    k = np.clip(k, -1.0 + 1e-9, 1.0 - 1e-9)
    phase = np.arctan2(coef_b, coef_a)
    m_joint = list(character.motion_joints)
    current = rot.angle_about(motion.joint_rot[:, m_joint.index(knee)], axis)
    options = np.stack([phase + np.arccos(k), phase - np.arccos(k)])
    options = (options - current + np.pi) % (2 * np.pi) - np.pi + current  # nearest representatives
    theta = options[np.argmin(np.abs(options - current), axis=0), np.arange(len(current))]
    knee_local = rot.about_axis(axis, theta)
    frames = len(theta)
    p = knee_offset + rot.rotate(rot.multiply(skel.rest_rotations[knee], knee_local), np.broadcast_to(skel.offsets[body], (frames, 3)))
    world_p = rot.rotate(rots[:, hip], p)
    hip_world = rot.multiply(rot.between(world_p, reach), rots[:, hip])
    hip_parent_frame = rot.multiply(rots[:, skel.parents[hip]], skel.rest_rotations[hip])
    knee_world = rot.multiply(hip_world, rot.multiply(skel.rest_rotations[knee], knee_local))
    joint_rot = motion.joint_rot.copy()
    joint_rot[:, m_joint.index(hip)] = rot.multiply(rot.conjugate(hip_parent_frame), hip_world)
    joint_rot[:, m_joint.index(knee)] = knee_local
    joint_rot[:, m_joint.index(body)] = rot.multiply(rot.conjugate(rot.multiply(knee_world, skel.rest_rotations[body])), rots[:, body])
    return replace(motion, joint_rot=joint_rot)


def root_headings(motion: CharacterMotion) -> np.ndarray:
    """``(T,)`` rad, unwrapped heading of the root about +Y (0 when facing ``character.forward``)."""
    forward = motion.character.forward
    f = rot.rotate(motion.root_rot, np.broadcast_to(forward, motion.root_rot.shape[:-1] + (3,)))
    yaw = np.arctan2(-f[:, 2], f[:, 0]) - np.arctan2(-forward[2], forward[0])
    return np.unwrap(yaw)


def steady_heading(motion: CharacterMotion, sigma_s: float) -> CharacterMotion:
    """Turn each frame's whole body about +Y so the root heading follows its Gaussian-smoothed
    course (``sigma_s`` seconds); tilts, joints and the root path are kept."""
    if sigma_s <= 0 or motion.num_frames < 3:
        return motion
    yaw = root_headings(motion)
    target = gaussian_smooth(yaw, sigma_s * motion.fps, wrap=False)
    turn = rot.about_axis(np.array([0.0, 1.0, 0.0]), target - yaw)
    return replace(motion, root_rot=rot.normalize(rot.multiply(turn, motion.root_rot)))


def clean_motion(motion: CharacterMotion, options: CleanupOptions = CleanupOptions()) -> tuple[CharacterMotion, np.ndarray]:
    """Smooth, ground, detect contacts and remove foot skate; returns the motion and ``(T, C)`` contacts."""
    wrap = motion.loop == "wrap"
    sigma = options.smooth_sigma_s * motion.fps
    if options.repair_turns_deg > 0:
        motion = repair_frames(motion, turn_outliers(motion, options.repair_turns_deg))
    if options.heading_sigma_s > 0:
        motion = steady_heading(motion, options.heading_sigma_s)
    motion = replace(
        motion,
        root_pos=gaussian_smooth(motion.root_pos, sigma, wrap),
        root_rot=smooth_rotations(motion.root_rot, sigma, wrap),
        joint_rot=smooth_rotations(motion.joint_rot, sigma, wrap),
    )
    if options.path_sigma_s > 0:
        root_pos = motion.root_pos.copy()
        root_pos[:, [0, 2]] = gaussian_smooth(root_pos[:, [0, 2]], options.path_sigma_s * motion.fps, wrap=False)
        motion = replace(motion, root_pos=root_pos)
    if options.level_ground:
        motion = level_motion(motion, options.max_tilt_deg)
    if options.flat_feet:
        motion = flatten_feet(motion)
    motion = ground_motion(motion, options.ground_percentile)
    if options.plant_lower_foot:
        motion = plant_lower_foot(motion, options.blend_s)
    contacts = detect_contacts(motion, options)
    blend = max(1, int(round(options.blend_s * motion.fps)))
    pos, _ = motion.body_frames()
    for c, body in enumerate(motion.character.contact_bodies):
        if contacts[:, c].any():
            target, _ = pin_targets(pos[:, body], contacts[:, c], blend)
            motion = solve_leg_ik(motion, body, target)
    return lift_above_ground(motion), contacts


def contact_slide(motion: CharacterMotion, contacts: np.ndarray) -> np.ndarray:
    """Horizontal displacement (m) per frame of each contact body between consecutive contact frames."""
    pos, _ = motion.body_frames()
    feet = pos[:, list(motion.character.contact_bodies)][..., [0, 2]]
    step = np.linalg.norm(np.diff(feet, axis=0), axis=-1)
    both = contacts[1:] & contacts[:-1]
    return step[both]
