"""The TS engine's weight initialisation, value for value, so that a model built from the same configuration and
seed starts from the same weights in both engines: every kernel is Glorot-uniform in [−l, l], l = √(6 / (fan-in +
fan-out)) over the whole, unmasked kernel, drawn by TF.js's `randomUniform` seeded with "<seed>/<parameter name>"
— the Alea generator of the `seedrandom` package, ported here — and stored as float32; biases are zero.
(Python draws one value at a time: about a second per million parameters.)
"""
import math

import numpy as np


def _mash():
    n = 0xEFC8249D

    def mash(data: str) -> float:
        nonlocal n
        for ch in data:
            n += ord(ch)
            h = 0.02519603282416938 * n
            n = int(h) % 4294967296
            h -= n
            h *= n
            n = int(h) % 4294967296
            h -= n
            n += h * 4294967296
        return (int(n) % 4294967296) * 2.3283064365386963e-10
    return mash


def alea(seed: str):
    """seedrandom's `alea(seed)`: a function returning uniform doubles in [0, 1)."""
    mash = _mash()
    s = [mash(' '), mash(' '), mash(' ')]
    for k in range(3):
        s[k] -= mash(seed)
        if s[k] < 0:
            s[k] += 1
    c = 1

    def next_value() -> float:
        nonlocal c
        t = 2091639 * s[0] + c * 2.3283064365386963e-10
        s[0], s[1] = s[1], s[2]
        c = int(t)
        s[2] = t - c
        return s[2]
    return next_value


def glorot_uniform(shape, seed: int, name: str) -> np.ndarray:
    """A kernel [rows, cols, in, out] as ParamStore.glorot draws it."""
    rows, cols, n_in, n_out = shape
    limit = math.sqrt(6 / (rows * cols * n_in + rows * cols * n_out))
    random, low, span = alea(f'{seed}/{name}'), -limit, limit - -limit
    count = rows * cols * n_in * n_out
    return np.array([low + span * random() for _ in range(count)], dtype=np.float32).reshape(shape)
