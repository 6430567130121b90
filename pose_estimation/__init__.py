"""Video -> SMPL motion, the product path: the front end (video, subject, MediaPipe pose, keypoints,
flow, the camera conventions), the estimators' inference (MediaPipe-IK, the lifter's NumPy forward
pass, fused, upright) and the ``estimate`` stage. It imports no torch and nothing of the lifter's
training, which lives in ``lifter_research`` (a test keeps it so: ``tests/test_architecture.py``).

``DEFAULT_ESTIMATOR`` lives here, away from the heavy modules, so that ``vidmimic --help`` and the
run options can name it without importing OpenCV or torch.
"""

ESTIMATOR_NAMES = ("mediapipe_ik", "lifter", "fused")
"""The registered estimators, in ``estimate.ESTIMATORS``'s order (a test keeps the two the same)."""

DEFAULT_ESTIMATOR = "fused"
"""The estimator of ``vidmimic estimate``, ``vidmimic run`` and the web app when none is named:
the lifter and MediaPipe-IK averaged, ahead of both on every real recording scored (docs/estimator.md)."""


def check_estimator(name: str) -> str:
    """``name`` if it names a registered estimator; else an :class:`characters.errors.InputError`
    listing them (the name cut to 40 characters, as it may come from a web form)."""
    if name not in ESTIMATOR_NAMES:
        from characters.errors import input_error

        raise input_error(None, f"unknown estimator {name[:40]!r}; registered: {', '.join(ESTIMATOR_NAMES)}")
    return name
