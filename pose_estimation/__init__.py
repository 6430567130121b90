"""Video -> SMPL motion: the front end, the estimators and the lifter's training.

``DEFAULT_ESTIMATOR`` lives here, away from the heavy modules, so that ``vidmimic --help`` and the
run options can name it without importing OpenCV or torch.
"""

ESTIMATOR_NAMES = ("mediapipe_ik", "lifter", "fused")
"""The registered estimators, in ``estimate.ESTIMATORS``'s order (a test keeps the two the same)."""

DEFAULT_ESTIMATOR = "fused"
"""The estimator of ``vidmimic estimate``, ``vidmimic run`` and the web app when none is named:
the lifter and MediaPipe-IK averaged, ahead of both on every real recording scored (docs/estimator.md)."""
