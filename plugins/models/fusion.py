"""Multimodal fusion models on affrepro's fusion kernels (affrepro.kernels.fusion).

- :class:`TFN` — tensor fusion (Zadeh et al. 2017): per-modality subnets, then
  y = W · vec([1;h_a] ⊗ [1;h_v] ⊗ [1;h_t]) + b on the kernel, then a post-fusion MLP;
  MMSA's post-fusion dropout on the fused vector runs inside the kernel (``fusion_dropout``,
  a fresh seed per training step drawn from torch's generator, so a seeded run repeats).
- :class:`LMF` — low-rank multimodal fusion (Liu et al. 2018) on the kernel.
- :class:`MulT` — a compact multimodal transformer (Tsai et al. 2019): every modality
  attends to each of the other two through the cross-modal attention kernel (one layer per
  pair, pre-norm, residual, position-wise feed-forward), masked mean pooling, a linear head.
- :class:`EarlyFusionMLP` and :class:`EarlyFusionLSTM` — movie-affect-2019's early fusion:
  the audio and visual feature vectors of a time step concatenated, into fully connected
  layers (per step) or an LSTM over the steps. Concatenation needs no fusion kernel.

:class:`Trainer` gives each the ``fit(X, y)`` / ``predict(X)`` of a registered model:
seeded initialisation and batch order, Adam, mean-squared error (regression) — inputs are
tuples of float arrays/tensors, one per modality (plus a padding mask for MulT).
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from affrepro.kernels.fusion import cross_modal_attention, low_rank_fusion, tensor_fusion


def _subnet(d_in: int, d_out: int, dropout: float) -> nn.Module:
    return nn.Sequential(nn.Linear(d_in, d_out), nn.ReLU(), nn.Dropout(dropout))


class TFN(nn.Module):
    def __init__(self, dims=(5, 20, 300), hidden=(32, 128, 32), post_fusion=32, n_out=1,
                 dropout=0.2, backend="auto", fusion_dropout=0.0):
        super().__init__()
        if not 0.0 <= float(fusion_dropout) < 1.0:
            raise ValueError(f"fusion_dropout must be in [0, 1), got {fusion_dropout}")
        self.fusion_dropout = float(fusion_dropout)
        self.subnets = nn.ModuleList(_subnet(d, h, dropout) for d, h in zip(dims, hidden))
        fused = math.prod(h + 1 for h in hidden)
        self.fusion_weight = nn.Parameter(torch.empty(post_fusion, fused))
        self.fusion_bias = nn.Parameter(torch.zeros(post_fusion))
        nn.init.kaiming_uniform_(self.fusion_weight, a=math.sqrt(5))  # as nn.Linear
        self.post = nn.Sequential(nn.ReLU(), nn.Dropout(dropout), nn.Linear(post_fusion, post_fusion),
                                  nn.ReLU(), nn.Linear(post_fusion, n_out))
        self.backend = backend

    def forward(self, a, v, t):
        h = [net(x) for net, x in zip(self.subnets, (a, v, t))]
        p = self.fusion_dropout if self.training else 0.0
        seed = int(torch.randint(0, 2**32, (1,), dtype=torch.int64).item()) if p else None
        return self.post(tensor_fusion(*h, self.fusion_weight, self.fusion_bias, dropout=p,
                                       seed=seed, backend=self.backend))


class LMF(nn.Module):
    def __init__(self, dims=(5, 20, 300), hidden=(32, 32, 64), rank=4, n_out=1, dropout=0.2,
                 backend="auto"):
        super().__init__()
        self.subnets = nn.ModuleList(_subnet(d, h, dropout) for d, h in zip(dims, hidden))
        self.factors = nn.ParameterList(nn.Parameter(torch.empty(rank, h + 1, n_out))
                                        for h in hidden)
        for f in self.factors:
            nn.init.xavier_normal_(f)
        self.rank_weights = nn.Parameter(torch.empty(rank))
        nn.init.normal_(self.rank_weights, 0.0, 1.0 / math.sqrt(rank))
        self.bias = nn.Parameter(torch.zeros(n_out))
        self.backend = backend

    def forward(self, a, v, t):
        h = [net(x) for net, x in zip(self.subnets, (a, v, t))]
        return low_rank_fusion(*h, *self.factors, self.rank_weights, self.bias,
                               backend=self.backend)


class CrossModalLayer(nn.Module):
    """x ← x + Attn(LN(x), LN(y)); x ← x + FFN(LN(x)), heads through the fusion kernel."""

    def __init__(self, width: int, heads: int, dropout: float, backend: str):
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} must be a multiple of heads {heads}")
        self.heads, self.backend = heads, backend
        self.norm_q, self.norm_kv, self.norm_ff = (nn.LayerNorm(width) for _ in range(3))
        self.q, self.k, self.v, self.o = (nn.Linear(width, width) for _ in range(4))
        self.ff = nn.Sequential(nn.Linear(width, 4 * width), nn.ReLU(), nn.Dropout(dropout),
                                nn.Linear(4 * width, width))
        self.drop = nn.Dropout(dropout)

    def _split(self, x):
        b, n, w = x.shape
        return x.view(b, n, self.heads, w // self.heads).transpose(1, 2)

    def forward(self, x, y, y_pad):
        xq, yk = self.norm_q(x), self.norm_kv(y)
        out = cross_modal_attention(self._split(self.q(xq)), self._split(self.k(yk)),
                                    self._split(self.v(yk)), y_pad, backend=self.backend)
        out = out.transpose(1, 2).reshape(x.shape)
        x = x + self.drop(self.o(out))
        return x + self.drop(self.ff(self.norm_ff(x)))


class MulT(nn.Module):
    def __init__(self, dims=(5, 20, 300), width=30, heads=6, n_out=1, dropout=0.1,
                 backend="auto"):
        super().__init__()
        self.proj = nn.ModuleList(nn.Linear(d, width) for d in dims)
        self.cross = nn.ModuleList(CrossModalLayer(width, heads, dropout, backend)
                                   for _ in range(6))
        self.head = nn.Sequential(nn.Linear(6 * width, width), nn.ReLU(), nn.Linear(width, n_out))

    def forward(self, a, v, t, pads=None):
        """a, v, t (B, L_m, d_m); pads: three (B, L_m) bool masks, True = padded, or None."""
        xs = [p(x) for p, x in zip(self.proj, (a, v, t))]
        if pads is None:
            pads = [torch.zeros(x.shape[:2], dtype=torch.bool, device=x.device) for x in xs]
        pooled, layer = [], 0
        for i in range(3):
            for j in range(3):
                if i == j:
                    continue
                h = self.cross[layer](xs[i], xs[j], pads[j])
                layer += 1
                keep = (~pads[i]).unsqueeze(-1).to(h.dtype)
                pooled.append((h * keep).sum(1) / keep.sum(1).clamp_min(1.0))
        return self.head(torch.cat(pooled, -1))


class EarlyFusionMLP(nn.Module):
    """Concatenated [audio; visual] features of each time step → fully connected layers."""

    def __init__(self, dims=(1582, 2048), hidden=(512, 128), n_out=2, dropout=0.3):
        super().__init__()
        layers, d = [], sum(dims)
        for h in hidden:
            layers += [nn.Linear(d, h), nn.ReLU(), nn.Dropout(dropout)]
            d = h
        self.net = nn.Sequential(*layers, nn.Linear(d, n_out))

    def forward(self, *features):
        return self.net(torch.cat(features, -1))


class EarlyFusionLSTM(nn.Module):
    """Concatenated [audio; visual] features, (B, T, d), → LSTM → a prediction per step."""

    def __init__(self, dims=(1582, 2048), hidden=128, layers=1, n_out=2, dropout=0.3):
        super().__init__()
        self.lstm = nn.LSTM(sum(dims), hidden, num_layers=layers, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, n_out)

    def forward(self, *features):
        h, _ = self.lstm(torch.cat(features, -1))
        return self.out(self.drop(h))


class Trainer:
    """fit/predict around a fusion module: seeded init and batch order, Adam, MSE."""

    def __init__(self, module_cls, *, seed: int = 0, epochs: int = 20, lr: float = 1e-3,
                 batch_size: int = 32, weight_decay: float = 0.0, device: str = "cpu",
                 **params: Any):
        self.module_cls, self.params = module_cls, params
        self.seed, self.epochs, self.lr, self.batch_size = seed, epochs, lr, batch_size
        self.weight_decay, self.device = weight_decay, torch.device(device)
        self.module: nn.Module | None = None
        self.losses: list[float] = []

    def _tensors(self, X):
        return [torch.as_tensor(x).to(self.device) if x is not None else None for x in X]

    def fit(self, X, y):
        torch.manual_seed(self.seed)
        self.module = self.module_cls(**self.params).to(self.device)
        X = self._tensors(X)
        y = torch.as_tensor(y, dtype=torch.float32).to(self.device)
        X = [x.float() if x is not None and x.is_floating_point() else x for x in X]
        opt = torch.optim.Adam(self.module.parameters(), lr=self.lr,
                               weight_decay=self.weight_decay)
        g = torch.Generator().manual_seed(self.seed)
        n = y.shape[0]
        self.module.train()
        for _ in range(self.epochs):
            order = torch.randperm(n, generator=g)
            total = 0.0
            for start in range(0, n, self.batch_size):
                idx = order[start:start + self.batch_size].to(self.device)
                opt.zero_grad()
                pred = self._call([None if x is None else x[idx] for x in X])
                loss = nn.functional.mse_loss(pred.reshape(y[idx].shape), y[idx])
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            self.losses.append(total / max(n, 1))
        return self

    def _call(self, X):
        if isinstance(self.module, MulT) and len(X) == 6:
            return self.module(*X[:3], pads=X[3:])
        return self.module(*[x for x in X if x is not None])

    @torch.no_grad()
    def predict(self, X):
        if self.module is None:
            raise RuntimeError("predict() before fit()")
        self.module.eval()
        X = [x.float() if x is not None and x.is_floating_point() else x
             for x in self._tensors(X)]
        out = self._call(X)
        return out.cpu().numpy()
