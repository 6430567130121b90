"""Policy zips: vidmimic's own entries, and a reader for inference that unpickles nothing.

A policy zip is stable-baselines3's (SB3) zip with vidmimic's entries beside SB3's::

    policy.pth                   the networks' weights (torch tensors; read with ``weights_only=True``)
    policy.optimizer.pth         Adam's state (emptied in a shipped tracker's policy.zip)
    data                         SB3's settings: JSON with cloudpickled entries (spaces, schedules)
    pytorch_variables.pth, _stable_baselines3_version, system_info.txt
    vidmimic/normalization.npz   observation statistics (SB3's VecNormalize) and the action bounds
    vidmimic/config.json         the run's settings (TrainConfig, and EnvConfig or TrackerConfig)
    vidmimic/motion.txt          the reference motion (DeepMimic text; per-clip policies only)

Inference (:func:`load_network`) reads only ``policy.pth``, ``normalization.npz`` and
``config.json``, so a zip from someone else cannot run code through it. Only training
(``--resume``, ``--init``) loads ``data`` through SB3's ``PPO.load``, which unpickles: that is
the user's own run or a file they chose (the ``--help`` texts warn). Zips written by vidmimic
before 2026-12-04 hold ``vidmimic/normalization.pkl`` (a pickled VecNormalize) instead of the
npz: training still reads them, :func:`upgrade` converts them, and inference refuses them with
one line naming ``vidmimic policy upgrade``.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NORMALIZATION = "vidmimic/normalization.npz"
LEGACY_NORMALIZATION = "vidmimic/normalization.pkl"
CONFIG = "vidmimic/config.json"
MOTION = "vidmimic/motion.txt"
WEIGHTS = "policy.pth"
OPTIMIZER = "policy.optimizer.pth"

_SCALARS = ("obs_count", "ret_mean", "ret_var", "ret_count", "clip_obs", "clip_reward", "gamma", "epsilon", "norm_obs", "norm_reward")


def _error(path, problem: str):
    from characters.errors import input_error

    return input_error(path, " ".join(problem.split()))  # one line, whatever a library's message held


def upgrade_hint(path: str | Path) -> str:
    """Why an old-format zip is refused for inference, and the command that converts it."""
    return (f"written by an older vidmimic: its normalisation is a pickle, which vidmimic no longer loads to run a policy; "
            f"if you trust the file, convert it with `vidmimic policy upgrade {path}`")


@dataclass(frozen=True)
class Normalization:
    """SB3 VecNormalize's state as plain arrays, and the action bounds predictions are clipped to.

    ``obs_mean``/``obs_var`` are ``(O,)`` float64 running statistics of the raw observations;
    ``action_low``/``action_high`` are ``(A,)`` float32 (the environment's action space).
    """

    obs_mean: np.ndarray
    obs_var: np.ndarray
    obs_count: float
    ret_mean: float
    ret_var: float
    ret_count: float
    clip_obs: float
    clip_reward: float
    gamma: float
    epsilon: float
    norm_obs: bool
    norm_reward: bool
    action_low: np.ndarray
    action_high: np.ndarray

    def normalize(self, obs: np.ndarray) -> np.ndarray:
        """``(..., O)`` raw observations -> float32 normalised ones, as ``VecNormalize.normalize_obs``."""
        if not self.norm_obs:
            return np.asarray(obs)
        return np.clip((obs - self.obs_mean) / np.sqrt(self.obs_var + self.epsilon), -self.clip_obs, self.clip_obs).astype(np.float32)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, obs_mean=self.obs_mean, obs_var=self.obs_var, action_low=self.action_low, action_high=self.action_high,
                 **{k: np.float64(getattr(self, k)) for k in _SCALARS})
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, path: str | Path | None = None) -> Normalization:
        """Parse ``normalization.npz``; an InputError naming ``path`` for anything malformed."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in ("obs_mean", "obs_var", "action_low", "action_high", *_SCALARS)}
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise _error(path, f"malformed {NORMALIZATION} ({exc})") from None
        for name, value in arrays.items():
            if value.dtype.kind not in "fiub":
                raise _error(path, f"{NORMALIZATION}: {name} is not numeric ({value.dtype})")
            want = 0 if name in _SCALARS else 1
            if value.ndim != want:
                raise _error(path, f"{NORMALIZATION}: {name} has shape {value.shape}, expected {'a number' if want == 0 else 'a vector'}")
        obs, act = arrays["obs_mean"].shape, arrays["action_low"].shape
        if arrays["obs_var"].shape != obs or arrays["action_high"].shape != act or obs[0] == 0 or act[0] == 0:
            raise _error(path, f"{NORMALIZATION}: inconsistent sizes (mean {obs}, var {arrays['obs_var'].shape}, "
                               f"action bounds {act} and {arrays['action_high'].shape})")
        if not (np.all(np.isfinite(arrays["obs_mean"])) and np.all(arrays["obs_var"] >= 0) and np.isfinite(arrays["obs_var"]).all()):
            raise _error(path, f"{NORMALIZATION}: observation statistics are not finite, or a variance is negative")
        if not (all(np.isfinite(arrays[k]) for k in _SCALARS) and arrays["epsilon"] >= 0 and arrays["clip_obs"] > 0):
            raise _error(path, f"{NORMALIZATION}: a setting is not finite, or epsilon is negative, or clip_obs is not positive")
        if not (np.isfinite(arrays["action_low"]).all() and np.isfinite(arrays["action_high"]).all() and np.all(arrays["action_low"] <= arrays["action_high"])):
            raise _error(path, f"{NORMALIZATION}: the action bounds are not finite, or a lower bound is above its upper bound")
        return cls(
            obs_mean=arrays["obs_mean"].astype(np.float64), obs_var=arrays["obs_var"].astype(np.float64),
            action_low=arrays["action_low"].astype(np.float32), action_high=arrays["action_high"].astype(np.float32),
            **{k: (bool(arrays[k]) if k.startswith("norm_") else float(arrays[k])) for k in _SCALARS},
        )

    @classmethod
    def from_vec_normalize(cls, vec) -> Normalization:
        """The state of an SB3 ``VecNormalize`` (a live one, or one unpickled from an old zip)."""
        return cls(
            obs_mean=np.asarray(vec.obs_rms.mean, dtype=np.float64), obs_var=np.asarray(vec.obs_rms.var, dtype=np.float64),
            obs_count=float(vec.obs_rms.count), ret_mean=float(vec.ret_rms.mean), ret_var=float(vec.ret_rms.var), ret_count=float(vec.ret_rms.count),
            clip_obs=float(vec.clip_obs), clip_reward=float(vec.clip_reward), gamma=float(vec.gamma), epsilon=float(vec.epsilon),
            norm_obs=bool(vec.norm_obs), norm_reward=bool(vec.norm_reward),
            action_low=np.asarray(vec.action_space.low, dtype=np.float32), action_high=np.asarray(vec.action_space.high, dtype=np.float32),
        )

    def to_vec_normalize(self, venv, path: str | Path | None = None):
        """A training ``VecNormalize`` around ``venv`` holding these statistics."""
        from stable_baselines3.common.vec_env import VecNormalize

        if venv.observation_space.shape != self.obs_mean.shape:
            raise _error(path, f"its observations have {self.obs_mean.shape[0]} numbers, the environment's {venv.observation_space.shape[0]}")
        vec = VecNormalize(venv, training=True, norm_obs=self.norm_obs, norm_reward=self.norm_reward, clip_obs=self.clip_obs,
                           clip_reward=self.clip_reward, gamma=self.gamma, epsilon=self.epsilon)
        vec.obs_rms.mean, vec.obs_rms.var, vec.obs_rms.count = self.obs_mean.copy(), self.obs_var.copy(), self.obs_count
        vec.ret_rms.mean, vec.ret_rms.var, vec.ret_rms.count = np.float64(self.ret_mean), np.float64(self.ret_var), self.ret_count
        return vec


class PolicyNetwork:
    """The deterministic action of SB3's ``MlpPolicy`` for PPO, computed from its weights alone.

    SB3's actor: observation normalised (VecNormalize), float32, then ``tanh(W x + b)`` per
    hidden layer of ``net_arch`` (``mlp_extractor.policy_net``; tanh is MlpPolicy's default and
    vidmimic never changes it), then ``action_net`` gives the Gaussian's mean, which is the
    deterministic action, clipped to the action bounds (``BasePolicy.predict``).
    """

    def __init__(self, hidden: list[tuple[object, object]], head: tuple[object, object], normalization: Normalization):
        self.hidden = hidden
        self.head = head
        self.normalization = normalization

    @property
    def obs_size(self) -> int:
        return int(self.normalization.obs_mean.shape[0])

    @property
    def action_size(self) -> int:
        return int(self.normalization.action_low.shape[0])

    @property
    def observation_space(self):
        """The observation space it was trained on (as SB3's policy has it)."""
        import gymnasium as gym

        return gym.spaces.Box(-np.inf, np.inf, shape=(self.obs_size,), dtype=np.float32)

    @property
    def action_space(self):
        import gymnasium as gym

        return gym.spaces.Box(self.normalization.action_low, self.normalization.action_high, dtype=np.float32)

    def check_fits(self, env, path: str | Path | None = None) -> None:
        """An InputError naming ``path`` unless ``env``'s observations and actions are this network's sizes."""
        want = ((self.obs_size,), (self.action_size,))
        have = (tuple(env.observation_space.shape), tuple(env.action_space.shape))
        if have != want:
            raise _error(path, f"the policy takes {want[0][0]} observations and gives {want[1][0]} actions; "
                               f"its environment has {have[0][0] if have[0] else '?'} and {have[1][0] if have[1] else '?'} (settings and weights disagree)")

    def act(self, obs: np.ndarray) -> np.ndarray:
        """``(N, O)`` raw observations -> ``(N, A)`` float32 actions (or ``(O,)`` -> ``(A,)``)."""
        import torch
        from torch.nn.functional import linear

        obs = np.asarray(obs)
        single = obs.ndim == 1
        x = torch.as_tensor(self.normalization.normalize(obs[None] if single else obs)).float()
        with torch.no_grad():
            for weight, bias in self.hidden:
                x = torch.tanh(linear(x, weight, bias))
            mean = linear(x, *self.head)
        action = np.clip(mean.numpy(), self.normalization.action_low, self.normalization.action_high)
        return action[0] if single else action


@dataclass(frozen=True)
class PolicyFile:
    """What inference needs from a policy zip."""

    network: PolicyNetwork
    config: dict
    """vidmimic/config.json: the run's settings."""
    motion_text: str | None
    """The reference motion (DeepMimic text); None for a tracker."""


def _open(path: str | Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise _error(path, f"not a vidmimic policy ({exc})") from None


def _read(z: zipfile.ZipFile, name: str, path) -> bytes:
    try:
        return z.read(name)
    except KeyError:
        raise _error(path, f"not a vidmimic policy (no {name} in the zip)") from None
    except Exception as exc:  # a damaged entry: BadZipFile (CRC), zlib.error, EOFError, NotImplementedError ...
        raise _error(path, f"damaged zip entry {name} ({type(exc).__name__}: {exc})") from None


def _config(z: zipfile.ZipFile, path) -> dict:
    try:
        config = json.loads(_read(z, CONFIG, path))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise _error(path, f"malformed {CONFIG} ({exc})") from None
    if not isinstance(config, dict):
        raise _error(path, f"malformed {CONFIG} (not a JSON object)")
    return config


def read_config(path: str | Path) -> dict:
    """``vidmimic/config.json`` of a policy zip (nothing unpickled)."""
    with _open(path) as z:
        return _config(z, path)


def parse_config(path: str | Path, config: dict, parse):
    """``parse(config)`` (e.g. ``control.train.config_from_json``), its errors as one InputError naming ``path``."""
    try:
        return parse(config)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _error(path, f"{CONFIG}: not the settings of a vidmimic run ({type(exc).__name__}: {exc})") from None


def read_normalization(path: str | Path, allow_legacy: bool = False) -> Normalization:
    """The normalisation of a policy zip. ``allow_legacy`` lets an old zip's pickled VecNormalize
    be unpickled (training's resume and warm start, and ``upgrade``: files the user trusts)."""
    with _open(path) as z:
        names = set(z.namelist())
        if NORMALIZATION in names:
            return Normalization.from_bytes(_read(z, NORMALIZATION, path), path)
        if LEGACY_NORMALIZATION not in names:
            raise _error(path, f"not a vidmimic policy (no {NORMALIZATION} in the zip)")
        if not allow_legacy:
            raise _error(path, upgrade_hint(path))
        return _unpickle_legacy(_read(z, LEGACY_NORMALIZATION, path), path)


def _unpickle_legacy(data: bytes, path) -> Normalization:
    import pickle

    try:
        return Normalization.from_vec_normalize(pickle.loads(data))  # the caller trusts this file
    except Exception as exc:  # a damaged pickle raises nearly anything
        raise _error(path, f"malformed {LEGACY_NORMALIZATION} ({type(exc).__name__}: {exc})") from None


def _network_weights(state: dict, net_arch: list[int], normalization: Normalization, path) -> tuple[list, tuple]:
    """The actor's layers from SB3's state dict, checked against ``net_arch`` and the normalisation's sizes."""
    import torch

    sizes = [normalization.obs_mean.shape[0], *net_arch]
    hidden = []
    for i in range(len(net_arch)):
        w, b = state.get(f"mlp_extractor.policy_net.{2 * i}.weight"), state.get(f"mlp_extractor.policy_net.{2 * i}.bias")
        if not (isinstance(w, torch.Tensor) and isinstance(b, torch.Tensor)) or tuple(w.shape) != (sizes[i + 1], sizes[i]) or tuple(b.shape) != (sizes[i + 1],):
            raise _error(path, f"{WEIGHTS}: policy layer {i} is not {sizes[i]} -> {sizes[i + 1]} as its config and normalisation say")
        hidden.append((w.float(), b.float()))
    if f"mlp_extractor.policy_net.{2 * len(net_arch)}.weight" in state:
        raise _error(path, f"{WEIGHTS}: more policy layers than its config's net_arch {net_arch}")
    w, b = state.get("action_net.weight"), state.get("action_net.bias")
    actions = normalization.action_low.shape[0]
    if not (isinstance(w, torch.Tensor) and isinstance(b, torch.Tensor)) or tuple(w.shape) != (actions, sizes[-1]) or tuple(b.shape) != (actions,):
        raise _error(path, f"{WEIGHTS}: action layer is not {sizes[-1]} -> {actions} as its config and normalisation say")
    return hidden, (w.float(), b.float())


def _net_arch(config: dict, path) -> list[int]:
    try:
        arch = config["train"]["net_arch"]
        if not (isinstance(arch, list) and all(isinstance(n, int) and n > 0 for n in arch)):
            raise TypeError
        return arch
    except (KeyError, TypeError):
        raise _error(path, f"{CONFIG}: no train.net_arch list of layer sizes") from None


def read_weights(path: str | Path) -> dict:
    """SB3's state dict in ``policy.pth`` (name -> tensor), read with ``weights_only=True``."""
    import torch

    with _open(path) as z:
        weights = _read(z, WEIGHTS, path)
    try:
        state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types (UnpicklingError for anything but tensors)
        raise _error(path, f"malformed {WEIGHTS} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    if not isinstance(state, dict):
        raise _error(path, f"malformed {WEIGHTS} (not a state dict)")
    return state


def load_network(path: str | Path) -> PolicyFile:
    """A policy zip's actor, settings and motion for inference: ``policy.pth`` read with
    ``weights_only=True``, the npz and the JSON; nothing is unpickled. Malformed or old-format
    files raise one InputError naming the file."""
    normalization = read_normalization(path)
    with _open(path) as z:
        config = _config(z, path)
        motion = None
        if MOTION in z.namelist():
            try:
                motion = _read(z, MOTION, path).decode()
            except UnicodeDecodeError as exc:
                raise _error(path, f"malformed {MOTION} ({exc})") from None
    state = read_weights(path)
    hidden, head = _network_weights(state, _net_arch(config, path), normalization, path)
    return PolicyFile(PolicyNetwork(hidden, head, normalization), config, motion)


def rewrite(src: str | Path, out: str | Path, allow_legacy: bool = False, empty_optimizer: bool = False) -> bool:
    """Copy policy zip ``src`` to ``out`` (atomically; they may be the same file) in today's format.

    An old zip's ``normalization.pkl`` becomes ``normalization.npz`` (unpickled only with
    ``allow_legacy``). ``empty_optimizer`` keeps Adam's settings but drops its moments (SB3 still
    loads it; a shipped policy stays small). Returns whether the normalisation was converted.
    """
    import torch

    from characters.errors import atomic_output

    normalization = read_normalization(src, allow_legacy=allow_legacy)
    with _open(src) as z:
        items = [(item, _read(z, item.filename, src)) for item in z.infolist()]
    converted = False
    with atomic_output(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item, data in items:
            if item.filename in (NORMALIZATION, LEGACY_NORMALIZATION):
                converted |= item.filename == LEGACY_NORMALIZATION
                continue
            if empty_optimizer and item.filename == OPTIMIZER:
                state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
                buffer = io.BytesIO()
                torch.save({"state": {}, "param_groups": state["param_groups"]}, buffer)
                data = buffer.getvalue()
            dst.writestr(item, data)
        dst.writestr(NORMALIZATION, normalization.to_bytes())
    return converted


def upgrade(path: str | Path, out: str | Path | None = None) -> bool:
    """Convert an old policy zip (pickled normalisation) to today's format, in place or to ``out``.

    This unpickles the old file: only for files the user trusts. Returns False (and writes
    nothing unless ``out`` is another file) when ``path`` is already in today's format.
    """
    out = Path(out) if out is not None else Path(path)
    with _open(path) as z:
        names = set(z.namelist())
    if NORMALIZATION in names and LEGACY_NORMALIZATION not in names:
        if out != Path(path):
            rewrite(path, out)
        return False
    rewrite(path, out, allow_legacy=True)
    return True
