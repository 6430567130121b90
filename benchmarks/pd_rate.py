"""Choose the physics rate: open-loop stable-PD tracking of the reference at several rates.

    python benchmarks/pd_rate.py [--clip PATH] [--starts 20]

For each physics rate and contact ERP (PyBullet's default 0.2, and 0.9), the character starts on the reference at evenly spaced phases and
the PD targets follow the reference with zero policy action. Reported per rate: mean time
until a non-foot body touches the ground (s, capped at 2 s), mean root-relative body
position error over the first 0.5 s (mm), and the cost of one 30 Hz control step of PD +
stepSimulation (ms). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pybullet_data

from control.imitation_env import EnvConfig, ImitationEnv

WALK = Path(pybullet_data.getDataPath()) / "data" / "motions" / "humanoid3d_walk.txt"


def measure(clip: Path, physics_hz: float, contact_erp: float, starts: int) -> dict:
    env = ImitationEnv(clip, EnvConfig(physics_hz=physics_hz, contact_erp=contact_erp, max_root_deviation_m=0.0, episode_seconds=2.0))
    zero = np.zeros(env.action_space.shape)
    survival, errors, physics = [], [], []
    for k in range(starts):
        env.reset(options={"start_time": k * env.reference.duration / starts})
        for step in range(int(2.0 * env.config.control_hz)):
            start = time.perf_counter()
            targets = env.pd_targets(zero, env.time + env.dt)
            for _ in range(env.substeps):
                env.sim.set_pd_targets(targets)
                env.client.stepSimulation()
            physics.append(time.perf_counter() - start)
            env.time += env.dt
            env._read_state()
            if step < 0.5 * env.config.control_hz:
                errors.append(env.tracking_errors()["body_pos_error_mm"])
            if env.sim.illegal_contact(env.ground):
                break
        survival.append((step + 1) * env.dt)
    env.close()
    return {
        "physics_hz": physics_hz,
        "contact_erp": contact_erp,
        "mean_seconds_before_fall": float(np.mean(survival)),
        "body_pos_error_mm_first_0_5_s": float(np.mean(errors)),
        "pd_and_step_ms_per_control_step": float(1000 * np.median(physics)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=WALK)
    parser.add_argument("--starts", type=int, default=20)
    args = parser.parse_args()
    rows = [measure(args.clip, hz, erp, args.starts) for hz in (60.0, 120.0, 240.0, 480.0) for erp in (0.2, 0.9)]
    print(json.dumps({"clip": args.clip.name, "rates": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
