"""Output distributions (§3.5) and the NLL in the units the paper reports — the twin of src/model/heads.ts:
nats per image for binarised MNIST, bits per dimension otherwise (bits/dim = nats / (D · ln 2), D = H·W·C).
"""
import math

import torch
import torch.nn.functional as F


class BernoulliHead:
    """One logit per pixel and channel: p(x = 1) = σ(logit)."""
    levels = 2

    def __init__(self):
        self.config = {'kind': 'bernoulli'}

    def output_features(self, colours: int) -> int:
        return colours

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def to_logits(self, y: torch.Tensor, colours: int) -> torch.Tensor:
        """Last layer [B, F, H, W] → logits [B, H, W, C]."""
        return y.permute(0, 2, 3, 1)

    def log_probs(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        # log σ(l) if x = 1, log(1 − σ(l)) if x = 0, without overflow: l·x − (max(l, 0) + log(1 + e^−|l|)).
        return logits * x - (F.relu(logits) + torch.log1p(torch.exp(-logits.abs())))


class CategoricalHead:
    """A softmax over `levels` values per channel; channel c is predicted after channels < c of the same pixel."""

    def __init__(self, levels: int):
        self.levels = levels
        self.config = {'kind': 'categorical', 'levels': levels}

    def output_features(self, colours: int) -> int:
        return colours * self.levels

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x * (2 / (self.levels - 1)) - 1

    def to_logits(self, y: torch.Tensor, colours: int) -> torch.Tensor:
        """Last layer [B, C·L, H, W] (colour-major) → logits [B, H, W, C, L]."""
        b, _, h, w = y.shape
        return y.permute(0, 2, 3, 1).reshape(b, h, w, colours, self.levels)

    def log_probs(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(logits, -1).gather(-1, x.long().unsqueeze(-1)).squeeze(-1)


def create_head(config: dict):
    return BernoulliHead() if config['kind'] == 'bernoulli' else CategoricalHead(int(config['levels']))


def nats_to_bits_per_dim(nats: float, dims: int) -> float:
    return nats / (dims * math.log(2))
