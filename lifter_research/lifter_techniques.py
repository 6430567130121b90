"""The optional training techniques of one lifter run: their modules, optimisers and per-step work.

``train_lifter`` asks this object which clips to draw (the adversarial teacher), what the
network sees of them (the refined keypoint tracks), which real clips join the batch (mixture,
DANN) and which extra losses to add (SimPose's 2D-only terms, the domain classifier, the motion
discriminator's adversarial loss). With every technique off it does nothing and draws nothing,
so a plain run is unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from lifter_research.body_model import TorchSkeleton
from lifter_research.lifter import LifterConfig


class Techniques:
    def __init__(self, options, config: LifterConfig, data: dict[str, np.ndarray], run: Path):
        self.options = options
        self.config = config
        self.rng = np.random.default_rng([options.seed, 7])
        self.real_clips = None
        self.report: dict = {"techniques": {k: v for k, v in options.technique_flags().items() if v}}
        if options.needs_real:
            from lifter_research.real_clips import prepare_real_inputs

            if not options.real_videos:
                raise ValueError("the sim+real mixture, the refiner and DANN need --real-videos (a folder of real, unlabelled videos)")
            self.real_clips = prepare_real_inputs(options.real_videos, run / "real_inputs.npz", options.real_max_frames)
            self.report["real_videos"] = {"folder": str(options.real_videos), "clips": len(self.real_clips),
                                          "frames": int(sum(len(c["occluded"]) for c in self.real_clips))}
        self.teacher = None
        if options.adversarial_teacher:
            from lifter_research.lifter_teacher import AdversarialTeacher, clip_groups

            self.teacher = AdversarialTeacher(clip_groups(data), options.teacher_history, options.teacher_alpha, options.teacher_epsilon)
        self.refiner = None
        self.refiner_trained = False
        if options.refiner:
            from lifter_research.lifter_refiner import HistoryBuffer, KeypointRefiner, PatchDiscriminator

            self.refiner, self.patch_discriminator = KeypointRefiner(), PatchDiscriminator()
            self.refiner_optimisers = (torch.optim.Adam(self.refiner.parameters(), lr=1e-3), torch.optim.Adam(self.patch_discriminator.parameters(), lr=1e-3))
            self.history = HistoryBuffer(256, self.rng)
        self.classifier = None
        if options.dann:
            from lifter_research.sim2real import DomainClassifier

            self.classifier = DomainClassifier(config.features)
        self.motion = None
        if options.motion_discriminator:
            from lifter_research.motion_prior import MocapWindows, MotionDiscriminator

            self.motion = MotionDiscriminator()
            self.motion_optimiser = torch.optim.Adam(self.motion.parameters(), lr=1e-4)
            self.mocap = MocapWindows([Path(f) for f in options.mocap_folders])

    def trained_parameters(self) -> list[torch.nn.Parameter]:
        """Parameters that train with the lifter's own optimiser (the domain classifier's)."""
        return list(self.classifier.parameters()) if self.classifier else []

    def pick(self, rng: np.random.Generator, clips: int, batch: int) -> tuple[int | None, np.ndarray]:
        """The batch's clips: the teacher's group, or uniformly from all clips."""
        if self.teacher:
            return self.teacher.pick(rng, batch)
        return None, rng.integers(0, clips, batch)

    def real_batch(self) -> dict[str, torch.Tensor]:
        from lifter_research.real_clips import real_batch

        return real_batch(self.real_clips, self.rng, self.options.real_batch, self.config.window)

    def pretrain_refiner(self, sample_synthetic) -> None:
        """SimGAN's refiner, before the lifter sees any refined track; ``sample_synthetic()`` gives a batch."""
        if not self.refiner or self.refiner_trained:
            return
        from lifter_research.lifter_refiner import refiner_step

        last: dict = {}
        for _ in range(self.options.refiner_steps):
            last = refiner_step(self.refiner, self.patch_discriminator, self.refiner_optimisers, self.history, sample_synthetic(),
                                self.real_batch(), self.options.refiner_regularisation)
        self.refiner.eval()
        self.refiner_trained = True
        self.report["refiner"] = {"steps": self.options.refiner_steps, **{k: round(v, 4) for k, v in last.items()}}

    def network_inputs(self, batch: dict[str, torch.Tensor], keys: tuple[str, ...]) -> tuple[dict[str, torch.Tensor], int | None, dict | None]:
        """What the lifter reads — the synthetic inputs (refined tracks if on), then real clips if any —,
        the real clips' first index and the real clips themselves."""
        inputs = {k: batch[k] for k in keys}
        if self.refiner:
            with torch.no_grad():
                inputs["keypoints"], inputs["confidence"] = self.refiner(inputs["keypoints"], inputs["confidence"], inputs["occluded"])
        if not (self.options.sim_real_mix or self.options.dann):
            return inputs, None, None
        real = self.real_batch()
        split = len(inputs["occluded"])
        return {k: torch.cat([inputs[k], real[k].to(inputs[k].dtype)]) for k in keys}, split, real

    def extra_losses(self, out: dict[str, torch.Tensor], split: int | None, real: dict | None, skeleton: TorchSkeleton,
                     fraction: float) -> dict[str, torch.Tensor]:
        """Weighted extra terms (keys name them) for outputs ``out`` over synthetic ``[:split]`` and ``real`` ``[split:]`` clips."""
        o = self.options
        terms: dict[str, torch.Tensor] = {}
        if o.sim_real_mix:
            from lifter_research.sim2real import reprojection_to_detections, temporal_consistency

            joints = skeleton(out["rotations"][split:], out["betas"][split:])
            terms["real_2d"] = o.weight_real_2d * reprojection_to_detections(joints, out["camera"][split:], real["keypoints"], real["confidence"])
            terms["temporal"] = o.weight_temporal * temporal_consistency(joints, out["camera"][split:])
        if self.classifier:
            from lifter_research.sim2real import dann_schedule, domain_loss

            terms["domain"] = o.weight_domain * domain_loss(self.classifier, out["features"][:split], out["features"][split:], dann_schedule(fraction))
        if self.motion:
            from lifter_research.motion_prior import adversarial_loss, body_pose_6d, discriminator_loss

            poses = body_pose_6d(out["rotations"])
            mocap = self.mocap.sample(self.rng, min(len(poses), 16), poses.shape[1])
            self.motion_optimiser.zero_grad()
            d_loss = discriminator_loss(self.motion, mocap, poses)
            d_loss.backward()
            self.motion_optimiser.step()
            self.report["motion_discriminator_loss"] = round(float(d_loss), 4)
            terms["motion_adversarial"] = o.weight_motion_adversarial * adversarial_loss(self.motion, poses)
        return terms

    def after_step(self, group: int | None, synthetic_loss: float) -> None:
        if self.teacher and group is not None:
            self.teacher.update(group, synthetic_loss)

    def state_dict(self) -> dict:
        state: dict = {"rng": self.rng.bit_generator.state}
        if self.teacher:
            state["teacher"] = self.teacher.state_dict()
        if self.refiner:
            state["refiner"] = {"refiner": self.refiner.state_dict(), "discriminator": self.patch_discriminator.state_dict(),
                                "trained": self.refiner_trained, "report": self.report.get("refiner")}
        if self.classifier:
            state["classifier"] = self.classifier.state_dict()
        if self.motion:
            state["motion"] = {"discriminator": self.motion.state_dict(), "optimiser": self.motion_optimiser.state_dict()}
        return state

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]
        if self.teacher:
            self.teacher.load_state_dict(state["teacher"])
        if self.refiner:
            self.refiner.load_state_dict(state["refiner"]["refiner"])
            self.patch_discriminator.load_state_dict(state["refiner"]["discriminator"])
            self.refiner_trained = state["refiner"]["trained"]
            if state["refiner"]["report"]:
                self.report["refiner"] = state["refiner"]["report"]
            if self.refiner_trained:
                self.refiner.eval()
        if self.classifier:
            self.classifier.load_state_dict(state["classifier"])
        if self.motion:
            self.motion.load_state_dict(state["motion"]["discriminator"])
            self.motion_optimiser.load_state_dict(state["motion"]["optimiser"])

    def summary(self) -> dict:
        """What train.json records about the techniques."""
        out = dict(self.report)
        if self.teacher:
            out["teacher"] = {"groups": [int(g) for g in self.teacher.names], "clips_per_group": [len(m) for m in self.teacher.members],
                              "probabilities": [round(float(p), 4) for p in self.teacher.probabilities()]}
        return out
