"""The lifter's forward pass in NumPy, for ``vidmimic estimate``: no torch import at run time.

``import torch`` takes about 1.4 s of CPU here, which on 2 cores the front end cannot hide, so the
estimators that read the lifter run from a NumPy copy of its weights (``lifter.npz`` beside
``lifter.pt``, written by ``lifter_research.lifter_train.write_numpy_weights``; batch norm folded into the convolutions).
It computes what :class:`lifter.Lifter` computes in eval mode, in float32; training, evaluation
and the tables keep the torch network. The copy records the SHA-256 of the ``.pt`` it was made
from, so a copy that no longer matches its weights is never used (:func:`numpy_weights_for`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from characters.places import file_sha256
from pose_estimation.lifter_config import BODY_KEYPOINTS, FLOW_SCALE, GRID, NUM_BETAS, LifterConfig

BATCH_NORM_EPS = 1e-5  # torch.nn.BatchNorm2d's default, which the Lifter uses


class NumpyLifter:
    """The lifter in eval mode: ``self(batch) -> {"rotations" (B, T, 24, 3, 3), "betas" (B, T, 10),
    "camera" (B, T, 3)}`` from a batch of NumPy arrays shaped as :class:`lifter.Lifter` takes them
    (``keypoints (B, T, 17, 2)``, ``confidence (B, T, 17)``, ``occluded (B, T)``, ``flow (B, T, 32, 32, 2)``)."""

    def __init__(self, config, arrays: dict[str, np.ndarray]):
        self.config = config
        self.arrays = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}

    def _grid_input(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """``(N, GRID, GRID, C)`` channels-last CNN input, N = B·T, channels in the Lifter's order."""
        occluded = batch["occluded"].astype(np.float32).reshape(-1)
        parts = [np.broadcast_to(occluded[:, None, None, None], (len(occluded), GRID, GRID, 1))]
        if self.config.uses_flow:
            parts.append(batch["flow"].astype(np.float32).reshape(-1, GRID, GRID, 2) * FLOW_SCALE)
        if self.config.uses_keypoints:
            kp = batch["keypoints"].astype(np.float32).reshape(-1, 17, 2)[:, BODY_KEYPOINTS]
            conf = batch["confidence"].astype(np.float32).reshape(-1, 17)[:, BODY_KEYPOINTS]
            centres = (np.arange(GRID, dtype=np.float32) + 0.5) / GRID
            scale = np.float32(GRID / self.config.heatmap_sigma)
            gx = np.exp(-0.5 * ((centres - kp[..., 0:1]) * scale) ** 2)  # (N, 12, GRID)
            gy = np.exp(-0.5 * ((centres - kp[..., 1:2]) * scale) ** 2)
            parts.append(np.einsum("nky,nkx,nk->nyxk", gy, gx, conf))
        return np.concatenate(parts, axis=-1)

    def _conv(self, x: np.ndarray, layer: int) -> np.ndarray:
        """3 × 3 convolution, stride 2, padding 1, batch norm folded in, ReLU: ``(N, H, W, C) -> (N, H/2, W/2, C')``."""
        weight, bias = self.arrays[f"conv{layer}.weight"], self.arrays[f"conv{layer}.bias"]  # (C', 3, 3, C), (C',)
        n, h, w, c = x.shape
        padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        patches = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))[:, ::2, ::2]  # (N, H/2, W/2, C, 3, 3)
        columns = patches.transpose(0, 1, 2, 4, 5, 3).reshape(n * (h // 2) * (w // 2), 9 * c)
        out = columns @ weight.reshape(len(bias), 9 * c).T + bias
        return np.maximum(out, 0.0).reshape(n, h // 2, w // 2, len(bias))

    def _lstm(self, x: np.ndarray, suffix: str) -> np.ndarray:
        """One direction of torch's LSTM over ``(B, T, F)`` (gates i, f, g, o) -> ``(B, T, H)``."""
        w_ih, w_hh = self.arrays[f"lstm.weight_ih_l0{suffix}"], self.arrays[f"lstm.weight_hh_l0{suffix}"]
        bias = self.arrays[f"lstm.bias_ih_l0{suffix}"] + self.arrays[f"lstm.bias_hh_l0{suffix}"]
        b, t, _ = x.shape
        hidden = w_hh.shape[1]
        inputs = x @ w_ih.T + bias  # (B, T, 4H): the input part of every step at once
        h = np.zeros((b, hidden), np.float32)
        c = np.zeros((b, hidden), np.float32)
        out = np.empty((b, t, hidden), np.float32)
        for step in range(t):
            gates = inputs[:, step] + h @ w_hh.T
            i, f, g, o = np.split(gates, 4, axis=1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
            out[:, step] = h
        return out

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        a = self.arrays
        b, t = batch["occluded"].shape[:2]
        x = self._grid_input(batch)
        for layer in range(len(self.config.channels)):
            x = self._conv(x, layer)
        features = x.transpose(0, 3, 1, 2).reshape(b * t, -1)  # torch's (C, H, W) flattening
        if self.config.uses_keypoints:
            kp = np.concatenate([(batch["keypoints"].astype(np.float32) - 0.5).reshape(b, t, -1),
                                 batch["confidence"].astype(np.float32)], axis=-1).reshape(b * t, -1)
            features = np.concatenate([features, kp], axis=-1)
        frames = np.maximum(features @ a["frame.0.weight"].T + a["frame.0.bias"], 0.0).reshape(b, t, -1)
        reversed_ = self._lstm(frames[:, ::-1], "_reverse")[:, ::-1]
        context = np.concatenate([self._lstm(frames, ""), reversed_], axis=-1)
        params = np.broadcast_to(a["mean"], (b, t, len(a["mean"])))
        for _ in range(self.config.iterations):
            hidden = np.maximum(np.concatenate([context, params], axis=-1) @ a["regressor.0.weight"].T + a["regressor.0.bias"], 0.0)
            hidden = np.maximum(hidden @ a["regressor.2.weight"].T + a["regressor.2.bias"], 0.0)
            params = params + hidden @ a["regressor.4.weight"].T + a["regressor.4.bias"]
        return {
            "rotations": matrix_from_6d(params[..., : 24 * 6].reshape(b, t, 24, 6)),
            "betas": params[..., 24 * 6 : 24 * 6 + NUM_BETAS],
            "camera": params[..., 24 * 6 + NUM_BETAS :],
        }


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # overflow-free


def matrix_from_6d(x: np.ndarray) -> np.ndarray:
    """``(..., 6)`` -> ``(..., 3, 3)``, as :func:`body_model.matrix_from_6d` (torch's normalize: eps 1e-12)."""
    a, b = x[..., :3], x[..., 3:]
    c1 = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    b = b - np.sum(c1 * b, axis=-1, keepdims=True) * c1
    c2 = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    return np.stack([c1, c2, np.cross(c1, c2)], axis=-1)


def numpy_arrays(state: dict, channels: tuple[int, ...]) -> dict[str, np.ndarray]:
    """A Lifter's ``state_dict`` (tensors or arrays) -> :class:`NumpyLifter`'s arrays: each conv with
    its batch norm folded in, weights channels-last ``(C', 3, 3, C)``; the rest as they are."""
    state = {k: np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v, dtype=np.float64) for k, v in state.items()}
    arrays: dict[str, np.ndarray] = {}
    for layer in range(len(channels)):
        conv, norm = f"cnn.{3 * layer}", f"cnn.{3 * layer + 1}"
        scale = state[f"{norm}.weight"] / np.sqrt(state[f"{norm}.running_var"] + BATCH_NORM_EPS)
        arrays[f"conv{layer}.weight"] = (state[f"{conv}.weight"] * scale[:, None, None, None]).transpose(0, 2, 3, 1)
        arrays[f"conv{layer}.bias"] = (state[f"{conv}.bias"] - state[f"{norm}.running_mean"]) * scale + state[f"{norm}.bias"]
    for key, value in state.items():
        if not key.startswith("cnn."):
            arrays[key] = value
    return {k: v.astype(np.float32) for k, v in arrays.items()}


def numpy_weights_path(weights: str | Path) -> Path:
    return Path(weights).with_suffix(".npz")


def numpy_weights_for(weights: str | Path) -> NumpyLifter | None:
    """The NumPy lifter of torch weights ``weights`` from the ``.npz`` beside them, or None when
    there is none or it was made from other weights (no torch import either way)."""
    path = numpy_weights_path(weights)
    if not path.is_file():
        return None
    with np.load(path) as saved:
        meta = json.loads(str(saved["meta"]))
        if meta["source_sha256"] != file_sha256(weights):
            return None
        arrays = {k: saved[k] for k in saved.files if k != "meta"}
    return NumpyLifter(LifterConfig.from_dict(meta["config"]), arrays)
