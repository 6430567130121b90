"""Control steps per second of vidmimic's imitation environment against PyBullet's DeepMimic port.

    python benchmarks/env_throughput.py [--seconds 5] [--repeats 3] [--clip PATH]

Same clip, uniformly random actions, one process (one core), episodes reset when they end.
Prints JSON with ``ours_steps_per_s``, ``port_steps_per_s`` (the port's
``PyBulletDeepMimicEnv`` driven exactly as its gym wrapper does: 30 Hz policy, 240 Hz
physics), ``physics_only_steps_per_s`` (our stable-PD targets + ``stepSimulation`` alone,
the limit) and the share of our step spent outside PD + stepSimulation. Repeats are
interleaved and the median is reported.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
import time
import types
from pathlib import Path

import numpy as np
import pybullet_data

from characters.bullet_body import quiet_stdout
from control.imitation_env import EnvConfig, ImitationEnv

WALK = Path(pybullet_data.getDataPath()) / "data" / "motions" / "humanoid3d_walk.txt"


def _port_module():
    """The port's environment module, with ``pybullet_envs/__init__`` (legacy gym) bypassed."""
    spec = importlib.util.find_spec("pybullet")
    site = Path(spec.origin).parent
    for name in ("pybullet_envs", "pybullet_envs.deep_mimic", "pybullet_envs.deep_mimic.env"):
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__path__ = [str(site / name.replace(".", "/"))]
            sys.modules[name] = module
    return importlib.import_module("pybullet_envs.deep_mimic.env.pybullet_deep_mimic_env")


class PortRunner:
    """The port's internal env stepped like ``pybullet_envs.deep_mimic.gym_env.HumanoidDeepMimicGymEnv``."""

    def __init__(self, clip: Path, seed: int = 0):
        from pybullet_utils.arg_parser import ArgParser

        module = _port_module()
        parser = ArgParser()
        data = Path(pybullet_data.getDataPath())
        parser.load_args(["--motion_file", str(clip.relative_to(data)) if clip.is_relative_to(data) else str(clip)])
        with quiet_stdout():  # the port prints its set-up to stdout
            self.env = module.PyBulletDeepMimicEnv(parser, False, time_step=1.0 / 240, init_strategy=module.InitializationStrategy.RANDOM)
            self.env.reset()
        self.rng = np.random.default_rng(seed)
        offset = np.array(self.env.build_action_offset(-1))
        scale = np.array(self.env.build_action_scale(-1))
        self.low, self.high = -1.0 / scale - offset, 1.0 / scale - offset
        self.substeps = 8

    def step(self) -> None:
        env = self.env
        env.calc_reward(-1)
        env.set_action(-1, self.rng.uniform(self.low, self.high))
        for _ in range(self.substeps):
            env.update(1.0 / 240)
        env.record_state(-1)
        if env.is_episode_end():
            with quiet_stdout():
                env.reset()


class OursRunner:
    def __init__(self, clip: Path, seed: int = 0):
        self.env = ImitationEnv(clip, EnvConfig())
        self.env.reset(seed=seed)
        self.rng = np.random.default_rng(seed)
        self.shape = self.env.action_space.shape

    def step(self) -> None:
        _, _, terminated, truncated, _ = self.env.step(self.rng.uniform(-1, 1, self.shape))
        if terminated or truncated:
            self.env.reset()


class PhysicsOnlyRunner:
    """Our PD targets + stepSimulation per control step, nothing else (the attainable limit)."""

    def __init__(self, clip: Path, seed: int = 0):
        self.env = ImitationEnv(clip, EnvConfig())
        self.env.reset(seed=seed)
        self.targets = self.env.pd_targets(np.zeros(self.env.action_space.shape), 0.0)
        self.steps = 0

    def step(self) -> None:
        env = self.env
        for _ in range(env.substeps):
            env.sim.set_pd_targets(self.targets)
            env.client.stepSimulation()
        self.steps += 1
        if self.steps % 30 == 0:  # keep it walking-like: reset to the reference every second
            env.reset()


def rate(runner, seconds: float) -> float:
    for _ in range(20):
        runner.step()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(25):
            runner.step()
        count += 25
    return count / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clip", type=Path, default=WALK)
    args = parser.parse_args()
    runners = {"ours": OursRunner(args.clip), "port": PortRunner(args.clip), "physics_only": PhysicsOnlyRunner(args.clip)}
    rates: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(args.repeats):
        for name, runner in runners.items():
            rates[name].append(rate(runner, args.seconds))
    median = {k: float(np.median(v)) for k, v in rates.items()}
    result = {
        "clip": args.clip.name,
        "control_hz": 30,
        "ours_physics_hz": EnvConfig().physics_hz,
        "port_physics_hz": 240,
        "ours_steps_per_s": median["ours"],
        "port_steps_per_s": median["port"],
        "physics_only_steps_per_s": median["physics_only"],
        "speedup_vs_port": median["ours"] / median["port"],
        "share_outside_pd_and_step": 1.0 - median["ours"] / median["physics_only"],
        "runs": rates,
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
