"""The lifter's training options (no torch here: the command line reads their defaults)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainOptions:
    minutes: float = 20.0
    """Wall-clock budget (the learning-rate schedule spans it)."""
    steps: int | None = None
    """Optional step budget: training stops at whichever budget runs out first, and the schedule
    follows the step count (rows of a table then get equal training whatever the machine's load)."""
    batch: int = 16
    """Clips per batch."""
    learning_rate: float = 1e-3
    seed: int = 0
    checkpoint_minutes: float = 3.0
    weight_3d: float = 10.0
    weight_2d: float = 10.0
    weight_rotation: float = 1.0
    weight_camera_frame_3d: float = 0.0
    """Weight of the pelvis-centred 3D joint error in the camera frame (no rotation aligned): it
    teaches the body's orientation to the camera, which Procrustes alignment forgives and the
    character needs (0: off, the paper's losses only)."""
    weight_betas: float = 0.01
    max_clips: int | None = None
    """Use only the first N clips of the dataset (tests, ablations)."""
    real_videos: str | None = None
    """Folder of real, unlabelled videos (the sim+real mixture, the refiner and DANN need it)."""
    real_max_frames: int | None = None
    """Use only the first N frames of each real video (tests)."""
    real_batch: int = 8
    """Real clips added to every batch (mixture, DANN) or to every refiner step."""
    sim_real_mix: bool = True
    """SimPose: real clips in every batch, 2D-only losses on them (on by default: it helped in the
    ablation, docs/estimator.md)."""
    weight_real_2d: float = 10.0
    weight_temporal: float = 100.0
    adversarial_teacher: bool = False
    """Draw each batch from one group of synthetic clips chosen by an adversarial teacher (off by
    default since 2026-11-28: in longer runs it puts about 90 % of its draws on one group of 16,
    and a fine-tune without it did better held-out and on the real harness, docs/estimator.md)."""
    teacher_history: int = 20
    teacher_alpha: float = 0.2
    teacher_epsilon: float = 0.1
    refiner: bool = False
    """SimGAN: refine synthetic keypoint tracks towards real detector output before training."""
    refiner_steps: int = 300
    refiner_regularisation: float = 10.0
    dann: bool = False
    """A domain classifier on the per-frame features behind a gradient-reversal layer."""
    weight_domain: float = 0.1
    motion_discriminator: bool = False
    """VIBE: a sequence discriminator against mocap on the estimated poses."""
    weight_motion_adversarial: float = 0.1
    mocap_folders: tuple[str, ...] = ()
    """More mocap for the motion discriminator (BVH / AMASS npz / DeepMimic txt folders)."""

    @property
    def needs_real(self) -> bool:
        return self.sim_real_mix or self.refiner or self.dann

    def technique_flags(self) -> dict[str, bool]:
        """Which training techniques are on (a resumed run must keep them)."""
        return {k: getattr(self, k) for k in ("sim_real_mix", "adversarial_teacher", "refiner", "dann", "motion_discriminator")}
