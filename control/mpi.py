"""MPI in one place: rank helpers, launching under the venv's ``mpiexec``, and rollout workers.

Rank 0 is the learner and also steps its own environments; every other rank only steps
environments. :class:`MpiVecEnv` (on rank 0) is a stable-baselines3 ``VecEnv`` whose
environments are spread over all ranks: each ``step`` sends every rank its actions, every rank
steps its share, and the results come back. Waiting ranks sleep between polls instead of
spinning, so the learner can use their cores during a PPO update. A single process (no
``mpiexec``) works too.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv


def comm():
    from mpi4py import MPI

    return MPI.COMM_WORLD


def rank() -> int:
    return comm().Get_rank()


def size() -> int:
    return comm().Get_size()


def is_root() -> bool:
    return rank() == 0


def mpiexec_path() -> str:
    """The ``mpiexec`` installed next to this Python (the ``mpich`` wheel), else one on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.exists():
        return str(beside)
    found = shutil.which("mpiexec")
    if found is None:
        raise RuntimeError("no mpiexec: install the 'mpich' package into this environment")
    return found


def relaunch_under_mpiexec(workers: int, argv: Sequence[str], module: str) -> int:
    """Run ``python -m MODULE ARGV`` as ``workers`` MPI ranks and wait; returns the exit code.

    SIGINT/SIGTERM are passed on to ``mpiexec`` (which forwards them to the ranks), so stopping
    this process stops training cleanly: rank 0 saves the policy before everything exits.
    ``mpiexec`` runs in its own session, so a signal sent to this process's whole group (Ctrl-C,
    ``kill -TERM -PGID``) reaches each rank once, through this forwarding, not twice; it gets
    SIGTERM if this process dies without forwarding anything (e.g. SIGKILL).
    """
    cmd = [mpiexec_path(), "-n", str(workers), sys.executable, "-m", module, *argv]
    env = dict(os.environ, VIDMIMIC_MPI_CHILD="1")
    child = subprocess.Popen(cmd, env=env, preexec_fn=_own_session_ended_with_parent)
    forward = lambda signum, frame: child.send_signal(signum)  # noqa: E731
    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return child.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _own_session_ended_with_parent() -> None:
    """In a forked child before exec: new session, and SIGTERM when the parent dies (Linux)."""
    os.setsid()
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class _LocalEnvs:
    """A rank's share of environments, stepped in turn with auto-reset (SB3 conventions)."""

    def __init__(self, make_env: Callable[[int], gym.Env], indices: Sequence[int]):
        self.envs = [make_env(i) for i in indices]
        self.indices = list(indices)

    def reset(self, seeds: list[int | None]) -> list[np.ndarray]:
        return [env.reset(seed=s)[0] for env, s in zip(self.envs, seeds)]

    def step(self, actions: np.ndarray) -> list[tuple]:
        out = []
        for env, action in zip(self.envs, actions):
            obs, reward, terminated, truncated, info = env.step(action)
            done = terminated or truncated
            info["TimeLimit.truncated"] = truncated and not terminated
            if done:
                info["terminal_observation"] = obs
                obs, _ = env.reset()
            out.append((obs, reward, done, info))
        return out

    def close(self) -> None:
        for env in self.envs:
            env.close()


def split(total: int, parts: int) -> list[list[int]]:
    """Environment indices per rank, as even as possible."""
    return [list(range(total))[r::parts] for r in range(parts)]


_COMMAND, _RESULT = 1, 2
_IDLE_SLEEP_S = 2e-4


def _wait_for_command(c) -> tuple:
    """The next command from rank 0, sleeping between polls: a blocking MPI receive spins at
    100 % CPU, which would take the core rank 0's learner could use between rollouts."""
    request = c.irecv(source=0, tag=_COMMAND)
    while True:
        done, message = request.test()
        if done:
            return message
        time.sleep(_IDLE_SLEEP_S)


def worker_loop(make_env: Callable[[int], gym.Env], envs_total: int) -> None:
    """Body of ranks > 0: serve step/reset commands from rank 0 until told to close."""
    c = comm()
    # A stop signal is rank 0's to act on (it saves the policy, then tells us to close);
    # dying here first would leave rank 0 waiting in the middle of a rollout.
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_IGN)
    local = _LocalEnvs(make_env, split(envs_total, c.Get_size())[c.Get_rank()])
    while True:
        command, payload = _wait_for_command(c)
        if command == "step":
            c.send(local.step(payload), dest=0, tag=_RESULT)
        elif command == "reset":
            c.send(local.reset(payload), dest=0, tag=_RESULT)
        elif command == "close":
            local.close()
            return


class MpiVecEnv(VecEnv):
    """``envs_total`` environments over all MPI ranks, seen from rank 0 as one ``VecEnv``."""

    def __init__(self, make_env: Callable[[int], gym.Env], envs_total: int):
        self._comm = comm()
        self._ranks = self._comm.Get_size()
        self._shares = split(envs_total, self._ranks)
        if min(len(s) for s in self._shares) == 0:
            raise ValueError(f"{envs_total} environments cannot be spread over {self._ranks} ranks; use at least one per rank")
        self._local = _LocalEnvs(make_env, self._shares[0])
        first = self._local.envs[0]
        super().__init__(envs_total, first.observation_space, first.action_space)
        self._actions: np.ndarray | None = None
        self._seeds: list[int | None] = [None] * envs_total

    def _exchange(self, command: str, per_env: Sequence[Any]) -> list:
        """Send each rank its slice of ``per_env``, run rank 0's own share, gather in env order."""
        payloads = [(command, [per_env[i] for i in share]) for share in self._shares]
        for r in range(1, self._ranks):
            self._comm.send(payloads[r], dest=r, tag=_COMMAND)
        mine = payloads[0]
        result = getattr(self._local, command)(mine[1] if command != "step" else np.asarray(mine[1]))
        gathered = [result] + [self._comm.recv(source=r, tag=_RESULT) for r in range(1, self._ranks)]
        ordered: list = [None] * self.num_envs
        for share, values in zip(self._shares, gathered):
            for i, v in zip(share, values):
                ordered[i] = v
        return ordered

    def reset(self):
        obs = self._exchange("reset", self._seeds)
        self._seeds = [None] * self.num_envs
        return np.stack(obs)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self):
        results = self._exchange("step", list(self._actions))
        obs, rewards, dones, infos = zip(*results)
        return np.stack(obs), np.array(rewards, dtype=np.float32), np.array(dones), list(infos)

    def seed(self, seed: int | None = None):
        self._seeds = [None if seed is None else seed + i for i in range(self.num_envs)]
        return self._seeds

    def close(self) -> None:
        for r in range(1, self._ranks):
            self._comm.send(("close", None), dest=r, tag=_COMMAND)
        self._local.close()

    # Attribute access is only needed for rank 0's own environments here.
    def get_attr(self, attr_name, indices=None):
        return [getattr(env, attr_name) for env in self._local.envs]

    def set_attr(self, attr_name, value, indices=None):
        for env in self._local.envs:
            setattr(env, attr_name, value)

    def env_method(self, method_name, *method_args, indices=None, **method_kwargs):
        return [getattr(env, method_name)(*method_args, **method_kwargs) for env in self._local.envs]

    def env_is_wrapped(self, wrapper_class, indices=None):
        return [False] * self.num_envs
