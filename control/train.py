"""``vidmimic train``: PPO (stable-baselines3) on ``vidmimic/Imitate-v0`` with MPI rollout workers.

Run folder layout::

    RUN_DIR/config.json        the TrainConfig and EnvConfig of the run
    RUN_DIR/motion.txt         the reference motion (DeepMimic format), as trained on
    RUN_DIR/checkpoint.zip     latest checkpoint (SB3 model + optimiser + step counter + obs normalisation)
    RUN_DIR/policy.zip         the usable policy (same format; always written when training stops)
    RUN_DIR/snapshots/         a copy of every checkpoint, named by step count and wall-clock
    RUN_DIR/progress.csv       one row per PPO iteration
    RUN_DIR/tb/                TensorBoard logs

Only rank 0 writes. A policy zip is self-contained: besides SB3's own entries it holds
``vidmimic/normalization.npz`` (VecNormalize statistics and the action bounds), ``vidmimic/motion.txt``
and ``vidmimic/config.json``, so replay and evaluation need nothing else and unpickle nothing
(see :mod:`control.policy_file`).
"""

from __future__ import annotations

import csv
import json
import signal
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from control import mpi
from control.imitation_env import EnvConfig, ImitationEnv
from control.rewards import RewardSpec
from control.train_config import TrainConfig

Progress = Callable[[int, int], None]


def config_from_json(data: dict) -> tuple[TrainConfig, EnvConfig]:
    """TrainConfig and EnvConfig of a run from its config.json contents."""
    train = TrainConfig(**{k: (tuple(v) if k == "net_arch" else v) for k, v in data["train"].items()})
    env_data = dict(data["env"])
    env_data["reward"] = RewardSpec(**env_data["reward"])
    return train, EnvConfig(**env_data)


def save_policy(model, normalization, out: Path, motion_text: str | None, config: dict) -> None:
    """Write an SB3 zip with vidmimic's extras (atomically); a tracker has no ``motion_text``.

    ``normalization`` is the training VecNormalize; its statistics go in as an npz, not a pickle.
    """
    from characters.errors import atomic_output
    from control import policy_file

    with atomic_output(out) as tmp:
        model.save(tmp)
        with zipfile.ZipFile(tmp, "a") as z:
            z.writestr(policy_file.NORMALIZATION, policy_file.Normalization.from_vec_normalize(normalization).to_bytes())
            if motion_text is not None:
                z.writestr(policy_file.MOTION, motion_text)
            z.writestr(policy_file.CONFIG, json.dumps(config, indent=1))


def training_normalization(path: str | Path, venv):
    """A training VecNormalize around ``venv`` from the statistics in policy zip ``path``.

    Only training calls this, on the run's own checkpoint or a warm start the user chose (SB3's
    ``PPO.load`` unpickles those zips anyway), so an old zip's pickled statistics are read too.
    """
    from control.policy_file import read_normalization

    return read_normalization(path, allow_legacy=True).to_vec_normalize(venv, path)


def policy_motion_text(path: str | Path) -> str:
    """The reference motion (DeepMimic text) a policy zip was trained on; no SB3 import needed."""
    from characters.errors import input_error

    try:
        with zipfile.ZipFile(path) as z:
            return z.read("vidmimic/motion.txt").decode()
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise input_error(path, f"not a vidmimic policy with a reference motion ({exc})") from None


def is_tracker(path: str | Path) -> bool:
    """True for a general tracker's policy zip (it has no motion of its own)."""
    try:
        with zipfile.ZipFile(path) as z:
            return json.loads(z.read("vidmimic/config.json")).get("kind") == "tracker"
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError):
        return False


def append_csv_row(path: Path, row: dict) -> None:
    """Append ``row`` to the CSV file ``path``, writing the header first if the file is new."""
    new = not path.exists()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


RATE_WINDOW_S = 60.0
"""The samples budget's ETA uses the rate of the last minute: throughput changes as episodes
lengthen and as other jobs share the machine."""


def seconds_left(samples_left: int, samples_per_s: float, deadline_s: float) -> float:
    """Wall-clock seconds until the run ends: when the samples budget runs out at the current
    rate or at the time budget's deadline, whichever comes first (never negative)."""
    return max(0.0, min(samples_left / max(samples_per_s, 1e-9), deadline_s))


def clock(seconds: float) -> str:
    """``seconds`` as ``m:ss`` or ``h:mm:ss``."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:4d}:{secs:02d}"


class _Monitor:
    """Progress line, CSV log, time limit and periodic checkpoints (an SB3 callback)."""

    def __init__(self, run_dir: Path, config: TrainConfig, save: Callable[[Path], None], deadline: float, progress: Progress | None,
                 periodic: Callable[[object], None] | None = None, periodic_minutes: float = 0.0):
        import torch
        from stable_baselines3.common.callbacks import BaseCallback

        monitor = self

        class Callback(BaseCallback):
            def _on_step(self) -> bool:
                return monitor.on_step(self.model, self.locals)

            def _on_rollout_end(self) -> None:
                monitor.on_rollout_end(self.model, self.logger)
                torch.set_num_threads(config.learner_threads)  # PPO's update comes next

            def _on_rollout_start(self) -> None:
                torch.set_num_threads(config.torch_threads)

        self.callback = Callback()
        self.run_dir = run_dir
        self.config = config
        self.save = save
        self.deadline = deadline
        self.progress = progress
        self.start = time.monotonic()
        self.start_steps: int | None = None
        self._rate_marks: list[tuple[float, int]] = []  # (wall s, steps) at recent rollout ends: the ETA's current rate
        self.last_checkpoint = time.monotonic()
        self.episode_returns: list[float] = []
        self.episode_lengths: list[int] = []
        self.falls = 0
        self.explosions = 0
        self._running_return = np.zeros(config.envs)
        self._running_length = np.zeros(config.envs, dtype=int)
        self.stop_requested = False
        self.periodic = periodic
        self.periodic_minutes = periodic_minutes
        self.last_periodic = time.monotonic()

    def on_step(self, model, local_vars) -> bool:
        if self.start_steps is None:
            self.start_steps = model.num_timesteps - self.config.envs
        rewards, dones, infos = local_vars["rewards"], local_vars["dones"], local_vars["infos"]
        self._running_return += rewards
        self._running_length += 1
        for i in np.flatnonzero(dones):
            self.episode_returns.append(float(self._running_return[i]))
            self.episode_lengths.append(int(self._running_length[i]))
            self.falls += int(bool(infos[i].get("fell")))
            self.explosions += int(bool(infos[i].get("exploded")))
            self._running_return[i] = 0.0
            self._running_length[i] = 0
        return not self.stop_requested and time.monotonic() < self.deadline

    def on_rollout_end(self, model, logger) -> None:
        now = time.monotonic()
        steps = model.num_timesteps
        done_here = steps - (self.start_steps or 0)
        rate = done_here / max(now - self.start, 1e-9)
        recent_len = np.mean(self.episode_lengths[-100:]) if self.episode_lengths else float("nan")
        recent_ret = np.mean(self.episode_returns[-100:]) if self.episode_returns else float("nan")
        self._rate_marks = [m for m in self._rate_marks if now - m[0] <= RATE_WINDOW_S] + [(now, steps)]
        first = self._rate_marks[0] if len(self._rate_marks) > 1 else (self.start, self.start_steps or 0)
        left = seconds_left(self.config.timesteps - steps, (steps - first[1]) / max(now - first[0], 1e-9), self.deadline - now)
        logger.record("vidmimic/samples_per_s", rate)
        logger.record("vidmimic/episode_length_steps", recent_len)
        logger.record("vidmimic/episode_return", recent_ret)
        logger.record("vidmimic/falls", self.falls)
        logger.record("vidmimic/explosions", self.explosions)
        row = {"steps": steps, "wall_s": round(now - self.start, 1), "samples_per_s": round(rate, 1), "episode_length": recent_len, "episode_return": recent_ret, "falls": self.falls, "explosions": self.explosions}
        append_csv_row(self.run_dir / "progress.csv", row)
        print(
            f"steps {steps:>10,d}  {rate:7.0f} samples/s  episode {recent_len:6.1f} steps  return {recent_ret:7.2f}"
            f"  reward/step {recent_ret / max(recent_len, 1e-9):5.3f}  ETA {clock(left)}",
            flush=True,
        )
        if self.progress:  # per mille of the run's wall-clock, whichever budget ends it
            elapsed = now - self.start
            self.progress(round(1000 * elapsed / max(elapsed + left, 1e-9)), 1000)
        if now - self.last_checkpoint >= 60 * self.config.checkpoint_minutes:
            self.save(self.run_dir / "checkpoint.zip")
            # Keep a copy per checkpoint too: benchmarks/learning_curve.py evaluates them.
            snapshots = self.run_dir / "snapshots"
            snapshots.mkdir(exist_ok=True)
            (snapshots / f"steps_{steps:010d}_wall_{round(now - self.start):06d}s.zip").write_bytes((self.run_dir / "checkpoint.zip").read_bytes())
            self.last_checkpoint = now
        if self.periodic is not None and now - self.last_periodic >= 60 * self.periodic_minutes:
            self.periodic(model)
            self.last_periodic = time.monotonic()


def train(
    motion_path: str | Path, run_dir: str | Path, config: TrainConfig = TrainConfig(), env_config: EnvConfig = EnvConfig(), resume: bool = False,
    progress: Progress | None = None, init: str | Path | None = None,
    train_overrides: dict | None = None, env_overrides: dict | None = None,
) -> Path | None:
    """Train (on every MPI rank: rank 0 learns, the others serve environments); returns the policy path on rank 0.

    ``resume`` continues RUN_DIR's own checkpoint exactly. ``init`` warm-starts a new run on
    ``motion_path`` from another policy zip: its weights, optimiser, observation normalisation
    and PPO/environment settings are taken, the step counter starts at 0, and ``config`` only
    contributes the budget and the seed. ``train_overrides`` (e.g. ``{"learning_rate": 5e-5}``) and
    ``env_overrides`` (e.g. ``{"max_root_deviation_m": 0.0}``) replace fields of the PPO and
    environment settings, also those taken from ``init``; a resumed run keeps its own.
    """
    import torch

    from retargeting.deepmimic_file import write_deepmimic

    run_dir = Path(run_dir)
    torch.set_num_threads(config.torch_threads)
    motion_file = run_dir / "motion.txt"
    config_file = run_dir / "config.json"
    if mpi.is_root():
        run_dir.mkdir(parents=True, exist_ok=True)
        if resume:
            if not (run_dir / "checkpoint.zip").exists():
                from characters.errors import input_error

                raise input_error(run_dir, "nothing to resume: no checkpoint.zip")
            stored, env_config = config_from_json(json.loads(config_file.read_text()))
            # The run's learning settings are kept; the budget is the one asked for now.
            config = replace(stored, timesteps=config.timesteps, minutes=config.minutes, checkpoint_minutes=config.checkpoint_minutes)
        else:
            run_config: dict = {"motion": str(motion_path)}
            if init is not None:
                from control.policy_file import parse_config, read_config

                stored, env_config = parse_config(init, read_config(init), config_from_json)
                config = replace(stored, timesteps=config.timesteps, minutes=config.minutes, checkpoint_minutes=config.checkpoint_minutes, seed=config.seed)
                run_config["init"] = str(init)
            if train_overrides:
                config = replace(config, **train_overrides)
            if env_overrides:
                env_config = replace(env_config, **env_overrides)
            env = ImitationEnv(motion_path, env_config)
            write_deepmimic(motion_file, env.motion)
            env.close()
            config_file.write_text(json.dumps({**run_config, "train": asdict(config), "env": asdict(env_config)}, indent=1))
    if mpi.size() > 1:
        config, env_config = mpi.comm().bcast((config, env_config), root=0)

    from characters.character import humanoid
    from retargeting.deepmimic_file import read_deepmimic

    motion = read_deepmimic(motion_file, humanoid()) if mpi.is_root() else None
    if mpi.size() > 1:
        motion = mpi.comm().bcast(motion, root=0)

    def make_env(index: int) -> ImitationEnv:
        env = ImitationEnv(motion, env_config)
        env.reset(seed=config.seed * 1000 + index)
        return env

    return learn(
        run_dir, make_env, config, resume=resume, init=init, motion_text=motion_file.read_text() if mpi.is_root() else None,
        run_config=json.loads(config_file.read_text()) if mpi.is_root() else {}, progress=progress,
    )


def _new_ppo(vec, config: TrainConfig, run_dir: Path):
    from stable_baselines3 import PPO

    return PPO(
        "MlpPolicy", vec, n_steps=config.n_steps, batch_size=min(config.batch_size, config.n_steps * config.envs), n_epochs=config.n_epochs,
        learning_rate=config.learning_rate, target_kl=config.target_kl, gamma=config.gamma, gae_lambda=config.gae_lambda, clip_range=config.clip_range,
        ent_coef=0.0, vf_coef=0.5, max_grad_norm=0.5, seed=config.seed, device="cpu", verbose=0,
        policy_kwargs={"log_std_init": config.log_std_init, "net_arch": {"pi": list(config.net_arch), "vf": list(config.net_arch)}},
        tensorboard_log=str(run_dir / "tb"),
    )


def _action_width(policy_zip: str | Path) -> int:
    """Number of actions of the policy in ``policy_zip`` (from its weights, without loading SB3)."""
    from characters.errors import input_error
    from control.policy_file import read_weights

    log_std = read_weights(policy_zip).get("log_std")
    if log_std is None or log_std.ndim != 1:
        raise input_error(policy_zip, "policy.pth has no action log std: not a vidmimic policy")
    return int(log_std.shape[0])


def _sb3_load(path: str | Path, **kwargs):
    """SB3's ``PPO.load`` (it unpickles: training's own checkpoint or a warm start the user chose),
    its failures on a damaged or mismatched zip as one InputError."""
    from stable_baselines3 import PPO

    from characters.errors import input_error

    try:
        return PPO.load(path, device="cpu", **kwargs)
    except Exception as exc:  # SB3 raises many types for a damaged zip or other spaces
        raise input_error(path, f"cannot load the PPO model ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None


def _transplant(source, target) -> None:
    """Copy ``source``'s weights into ``target`` (same network but more actions): the shared
    actions keep theirs, the extra ones start at zero mean with ``target``'s initial std."""
    import torch

    src, dst = source.state_dict(), target.state_dict()
    with torch.no_grad():
        for name, value in src.items():
            if dst[name].shape == value.shape:
                dst[name].copy_(value)
            else:
                rows = value.shape[0]
                dst[name][:rows].copy_(value)
                if name.startswith("action_net"):
                    dst[name][rows:].zero_()
    target.load_state_dict(dst)


def learn(
    run_dir: Path, make_env: Callable[[int], object], config: TrainConfig, resume: bool, init: str | Path | None,
    motion_text: str | None, run_config: dict, progress: Progress | None = None,
    periodic: Callable[[object, object], None] | None = None, periodic_minutes: float = 0.0,
) -> Path | None:
    """PPO over MPI ranks on environments from ``make_env(index)``; returns the policy path on rank 0.

    Rank 0 learns and writes ``checkpoint.zip``, ``policy.zip``, snapshots, ``progress.csv``
    and TensorBoard logs in ``run_dir``; the other ranks only serve environments. ``resume``
    continues ``run_dir/checkpoint.zip``; ``init`` starts from another policy zip's weights,
    optimiser and normalisation with the step counter at 0. ``periodic(model, normalization)``
    runs on rank 0 every ``periodic_minutes`` (e.g. a validation pass).
    """
    import torch

    torch.set_num_threads(config.torch_threads)
    if not mpi.is_root():
        mpi.worker_loop(make_env, config.envs)
        return None

    from stable_baselines3.common.vec_env import VecNormalize

    venv = mpi.MpiVecEnv(make_env, config.envs)
    venv.seed(config.seed)
    checkpoint = run_dir / "checkpoint.zip"
    if init is not None and not resume and _action_width(init) != venv.action_space.shape[0]:
        # A tracker fine-tuned with assistance has six more outputs (the root's force and torque).
        vec = training_normalization(init, venv)  # the action space is the new environment's
        model = _new_ppo(vec, config, run_dir)
        _transplant(_sb3_load(init).policy, model.policy)
    elif resume or init is not None:
        start_from = checkpoint if resume else Path(init)
        vec = training_normalization(start_from, venv)
        model = _sb3_load(start_from, env=vec, custom_objects={"learning_rate": config.learning_rate})
        model.tensorboard_log = str(run_dir / "tb")
        if not resume:
            model.num_timesteps = 0
            model.seed = config.seed
            model.set_random_seed(config.seed)  # PPO.load re-seeded everything with the init policy's own seed
    else:
        vec = VecNormalize(venv, norm_obs=True, norm_reward=False, clip_obs=10.0, gamma=config.gamma)
        model = _new_ppo(vec, config, run_dir)

    def save(path: Path) -> None:
        save_policy(model, vec, path, motion_text, run_config)

    hook = None if periodic is None else (lambda m: periodic(m, vec))
    monitor = _Monitor(run_dir, config, save, time.monotonic() + 60 * config.minutes, progress, hook, periodic_minutes)

    def request_stop(signum, frame):  # SIGTERM / Ctrl-C: stop after this step, then save
        monitor.stop_requested = True

    # The handlers stay until the policy is saved: a repeated stop signal must not kill the save.
    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        remaining = max(config.timesteps - model.num_timesteps, 0)
        if remaining > 0:
            model.learn(total_timesteps=remaining, callback=monitor.callback, reset_num_timesteps=not resume, tb_log_name="ppo")
    finally:
        try:
            save(checkpoint)
            save(run_dir / "policy.zip")
            venv.close()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
    print(f"saved {run_dir / 'policy.zip'} after {model.num_timesteps:,d} steps", file=sys.stderr)
    return run_dir / "policy.zip"

