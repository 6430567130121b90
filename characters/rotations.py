"""The project's one rotation module.

World convention (the whole project): right-handed, **Y up**, gravity along -Y, metres,
seconds, radians. This is the frame of DeepMimic motion files and of PyBullet's DeepMimic
humanoid, so those need no conversion. AMASS npz files are Z up and are converted where
they are read and written (``retargeting.amass_file``); BVH files are taken as Y up.

Quaternions are arrays ``(..., 4)`` ordered **x, y, z, w** (PyBullet and SciPy order).
DeepMimic files store w, x, y, z; they are reordered at the file boundary only.
Every function is vectorised over any leading batch shape (frames, joints, ...).
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-12


def identity(shape: tuple[int, ...] = ()) -> np.ndarray:
    """Identity quaternions of batch shape ``shape``; returns ``(*shape, 4)``."""
    q = np.zeros(shape + (4,))
    q[..., 3] = 1.0
    return q


def normalize(q: np.ndarray) -> np.ndarray:
    """Unit quaternions ``(..., 4)``."""
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def conjugate(q: np.ndarray) -> np.ndarray:
    """Inverse of unit quaternions ``(..., 4)``."""
    return q * np.array([-1.0, -1.0, -1.0, 1.0])


def multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` (apply ``b`` first, then ``a``); broadcasts ``(..., 4)``."""
    ax, ay, az, aw = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bx, by, bz, bw = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return np.stack(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ],
        axis=-1,
    )


def left_multiplication_matrices(a: np.ndarray) -> np.ndarray:
    """``(..., 4, 4)`` matrices ``L(a)`` with ``L(a) @ b == multiply(a, b)`` for any ``b (4,)``.

    Precomputed for a fixed ``a`` (the reference pose), a product costs one matmul.
    """
    x, y, z, w = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    return np.stack(
        [np.stack(row, axis=-1) for row in ((w, -z, y, x), (z, w, -x, y), (-y, x, w, z), (-x, -y, -z, w))],
        axis=-2,
    )


def _cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    # np.cross is several times slower on small arrays; this is the same product.
    ux, uy, uz = u[..., 0], u[..., 1], u[..., 2]
    vx, vy, vz = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx], axis=-1)


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v (..., 3)`` by unit quaternions ``q (..., 4)``."""
    u = q[..., :3]
    t = 2.0 * _cross(u, v)
    return v + q[..., 3:4] * t + _cross(u, t)


def from_axis_angle(rotvec: np.ndarray) -> np.ndarray:
    """Exponential map: rotation vectors ``(..., 3)`` (axis * angle, rad) to quaternions."""
    angle = np.sqrt(np.sum(rotvec * rotvec, axis=-1, keepdims=True))
    half = 0.5 * angle
    # sin(angle/2)/angle, whose limit at 0 is 1/2 (few numpy calls: the environment calls this every step).
    scale = np.divide(np.sin(half), angle, out=np.full_like(angle, 0.5), where=angle > 1e-8)
    return np.concatenate([rotvec * scale, np.cos(half)], axis=-1)


def to_axis_angle(q: np.ndarray) -> np.ndarray:
    """Logarithm map: unit quaternions ``(..., 4)`` to rotation vectors ``(..., 3)``, angle in [0, pi]."""
    q = np.where(q[..., 3:4] < 0.0, -q, q)
    sin_half = np.linalg.norm(q[..., :3], axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(sin_half, q[..., 3:4])
    scale = np.where(sin_half > 1e-8, angle / np.maximum(sin_half, _EPS), 2.0 + sin_half**2 / 3.0)
    return q[..., :3] * scale


def about_axis(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotations by ``angle (...)`` rad about unit ``axis (3,)`` or ``(..., 3)``."""
    angle = np.asarray(angle, dtype=float)[..., None]
    return np.concatenate([np.broadcast_to(axis, angle.shape[:-1] + (3,)) * np.sin(0.5 * angle), np.cos(0.5 * angle)], axis=-1)


def angle_about(q: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Signed angle (rad, in (-pi, pi]) of the twist of ``q (..., 4)`` about unit ``axis (3,)``."""
    angle = 2.0 * np.arctan2(q[..., :3] @ axis, q[..., 3])
    return (angle + np.pi) % (2.0 * np.pi) - np.pi


def swing_twist(q: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split ``q = swing * twist`` with ``twist`` about unit ``axis (3,)``; returns both ``(..., 4)``."""
    twist = about_axis(axis, angle_about(q, axis))
    swing = multiply(q, conjugate(twist))
    return swing, twist


def _quadratic_to_matrix() -> np.ndarray:
    """``(16, 9)``: a unit quaternion's rotation matrix is linear in its outer product ``q q^T``."""
    x, y, z, w = range(4)
    terms = {  # matrix entry -> ((i, j, coefficient), ...) over outer-product entries q_i q_j
        (0, 0): ((w, w, 1), (x, x, 1), (y, y, -1), (z, z, -1)),
        (1, 1): ((w, w, 1), (y, y, 1), (x, x, -1), (z, z, -1)),
        (2, 2): ((w, w, 1), (z, z, 1), (x, x, -1), (y, y, -1)),
        (0, 1): ((x, y, 2), (w, z, -2)), (1, 0): ((x, y, 2), (w, z, 2)),
        (0, 2): ((x, z, 2), (w, y, 2)), (2, 0): ((x, z, 2), (w, y, -2)),
        (1, 2): ((y, z, 2), (w, x, -2)), (2, 1): ((y, z, 2), (w, x, 2)),
    }
    m = np.zeros((4, 4, 3, 3))
    for (r, c), entries in terms.items():
        for i, j, coefficient in entries:
            m[i, j, r, c] = coefficient
    return m.reshape(16, 9)


_QUADRATIC_TO_MATRIX = _quadratic_to_matrix()


def to_matrix(q: np.ndarray) -> np.ndarray:
    """Unit quaternions ``(..., 4)`` to rotation matrices ``(..., 3, 3)``.

    One outer product and one matrix product (the environment calls this every control step).
    """
    outer = (q[..., :, None] * q[..., None, :]).reshape(q.shape[:-1] + (16,))
    return (outer @ _QUADRATIC_TO_MATRIX).reshape(q.shape[:-1] + (3, 3))


def from_matrix(m: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` to unit quaternions ``(..., 4)`` with w >= 0."""
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    # Four candidate solutions; pick per element the numerically largest one.
    cands = np.stack(
        [
            np.stack([1 + m00 - m11 - m22, m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0], m[..., 2, 1] - m[..., 1, 2]], -1),
            np.stack([m[..., 0, 1] + m[..., 1, 0], 1 - m00 + m11 - m22, m[..., 1, 2] + m[..., 2, 1], m[..., 0, 2] - m[..., 2, 0]], -1),
            np.stack([m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1], 1 - m00 - m11 + m22, m[..., 1, 0] - m[..., 0, 1]], -1),
            np.stack([m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1], 1 + m00 + m11 + m22], -1),
        ],
        axis=-2,
    )
    diag = np.stack([1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22, 1 + m00 + m11 + m22], -1)
    best = np.argmax(diag, axis=-1)
    q = np.take_along_axis(cands, best[..., None, None], axis=-2)[..., 0, :]
    q = normalize(q)
    return np.where(q[..., 3:4] < 0.0, -q, q)


def from_euler(angles: np.ndarray, order: str) -> np.ndarray:
    """Intrinsic Euler angles ``(..., 3)`` (rad) applied in ``order`` (e.g. ``"ZXY"``) to quaternions.

    ``order[0]`` is the outermost rotation: R = R_order[0] * R_order[1] * R_order[2], the
    convention of BVH channel lists.
    """
    q = identity(angles.shape[:-1])
    for i, axis_name in enumerate(order.upper()):
        axis = np.eye(3)["XYZ".index(axis_name)]
        q = multiply(q, about_axis(axis, angles[..., i]))
    return q


def to_euler(q: np.ndarray, order: str) -> np.ndarray:
    """Inverse of :func:`from_euler` for a Tait-Bryan ``order``; returns ``(..., 3)`` rad."""
    m = to_matrix(q)
    i, j, k = ("XYZ".index(c) for c in order.upper())
    # Sign of the permutation (i, j, k): +1 for cyclic XYZ/YZX/ZXY, -1 otherwise.
    sign = 1.0 if (j - i) % 3 == 1 else -1.0
    middle = np.arcsin(np.clip(sign * m[..., i, k], -1.0, 1.0))
    first = np.arctan2(-sign * m[..., j, k], m[..., k, k])
    last = np.arctan2(-sign * m[..., i, j], m[..., i, i])
    return np.stack([first, middle, last], axis=-1)


def between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation taking direction ``a (..., 3)`` onto direction ``b (..., 3)``."""
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    cross = np.cross(a, b)
    dot = np.sum(a * b, axis=-1, keepdims=True)
    q = np.concatenate([cross, 1.0 + dot], axis=-1)
    # Opposite directions: rotate by pi about any axis perpendicular to a.
    opposite = (1.0 + dot[..., 0]) < 1e-10
    if np.any(opposite):
        helper = np.where(np.abs(a[..., :1]) < 0.9, np.array([1.0, 0, 0]), np.array([0, 1.0, 0]))
        perp = np.cross(a, helper)
        perp /= np.linalg.norm(perp, axis=-1, keepdims=True)
        q = np.where(opposite[..., None], np.concatenate([perp, np.zeros_like(dot)], -1), q)
    return normalize(q)


def geodesic_angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle (rad) of the rotation between unit quaternions ``a`` and ``b`` ``(..., 4)``."""
    d = multiply(conjugate(a), b)
    return 2.0 * np.arctan2(np.linalg.norm(d[..., :3], axis=-1), np.abs(d[..., 3]))


def make_continuous(q: np.ndarray, axis: int = 0) -> np.ndarray:
    """Flip signs along ``axis`` (frames) so consecutive quaternions lie in one hemisphere."""
    q = np.moveaxis(q.copy(), axis, 0)
    dots = np.sum(q[1:] * q[:-1], axis=-1)
    flips = np.cumprod(np.where(dots < 0.0, -1.0, 1.0), axis=0)
    q[1:] *= flips[..., None]
    return np.moveaxis(q, 0, axis)


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation from ``a`` to ``b`` ``(..., 4)`` at fraction ``t`` (broadcast to ``(...)``)."""
    t = np.asarray(t, dtype=float)[..., None]
    dot = np.sum(a * b, axis=-1, keepdims=True)
    b = np.where(dot < 0.0, -b, b)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    sin_theta = np.sin(theta)
    near = sin_theta < 1e-6
    safe = np.where(near, 1.0, sin_theta)
    wa = np.where(near, 1.0 - t, np.sin((1.0 - t) * theta) / safe)
    wb = np.where(near, t, np.sin(t * theta) / safe)
    return normalize(wa * a + wb * b)


def reflect(q: np.ndarray, normal_axis: int) -> np.ndarray:
    """Mirror rotations ``(..., 4)`` through the plane whose normal is world axis ``normal_axis``."""
    flip = -np.ones(4)
    flip[normal_axis] = 1.0
    flip[3] = 1.0
    return q * flip

