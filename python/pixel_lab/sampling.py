"""Seeded sampling as the TS engine samples (src/model/sampling/index.ts): raster order and R → G → B within a
pixel, each value drawn from p(x_ijc | everything before) with the engine's own generator and draws — the same
uniform numbers in the same order, a Bernoulli threshold or an inverse-CDF categorical — so that the same weights
and seed give the same images in both engines. The model runs on rows 0 … i only (row i depends on nothing below
it): the naive, row-cropped way (the TS engine's cached sampling for PixelCNN and Gated PixelCNN draws the same).
"""
import math

import torch

from .data import Random


def draw_bernoulli(logit: float, temperature: float, u: float) -> int:
    """x = 1 with probability σ(logit / T)."""
    return 1 if u < 1 / (1 + math.exp(-logit / temperature)) else 0


def draw_categorical(logits, temperature: float, u: float) -> int:
    """Inverse-CDF draw from softmax(logits / T)."""
    top = max(logits)
    weights = [math.exp((l - top) / temperature) for l in logits]
    target, cumulative = u * sum(weights), 0.0
    for level, w in enumerate(weights[:-1]):
        cumulative += w
        if target < cumulative:
            return level
    return len(logits) - 1


@torch.no_grad()
def sample(model, count: int, seed: int, temperature: float = 1.0, classes=None) -> torch.Tensor:
    """[count, H, W, C] pixel values (uint8). A class-conditional model draws image n of class classes[n] (default
    n mod K, as the TS sampler does)."""
    if not temperature > 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')
    image = model.config['image']
    h, w, c = image['height'], image['width'], image['channels']
    device = next(model.parameters()).device
    rng = Random(seed)
    x = torch.zeros(count, h, w, c, device=device)
    if model.classes and classes is None:
        classes = [n % model.classes for n in range(count)]
    if classes is not None:
        classes = torch.as_tensor(classes, device=device).long()
    for i in range(h):
        for j in range(w):
            for ch in range(c):
                logits = model(x[:, :i + 1], classes)[:, i, j, ch].double().cpu().tolist()
                for n in range(count):
                    u = rng.next()
                    bernoulli = model.head.config['kind'] == 'bernoulli'
                    x[n, i, j, ch] = draw_bernoulli(logits[n], temperature, u) if bernoulli else draw_categorical(logits[n], temperature, u)
    return x.to(torch.uint8).cpu()
