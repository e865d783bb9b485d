"""The pieces every model is built from — masked convolutions, the LSTM cell and its scan, the skew, the output
stack — the twin of src/model/layers.ts. Maps are NCHW here (PyTorch's layout); kernels are stored as TF.js
stores them, [rows, cols, in, out], so that parameter names and shapes are the same in both engines.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .masks import KernelGeometry, build_mask, causal_geometry, colour_groups, same_padding


class Conv2D(nn.Module):
    """A stride-1 convolution that keeps the map's size, its kernel multiplied by a causal mask unless unmasked."""

    def __init__(self, geometry: KernelGeometry, n_in: int, n_out: int, colours: int, in_chunks: int = 1,
                 out_chunks: int = 1, bias: bool = True):
        super().__init__()
        self.geometry = geometry
        self.in_groups = colour_groups(n_in, colours, in_chunks)
        self.out_groups = colour_groups(n_out, colours, out_chunks)
        # Initial values are drawn by the model once it is built (PixelModel.initialise), as the TS engine draws them.
        self.kernel = nn.Parameter(torch.zeros(geometry.rows, geometry.cols, n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out)) if bias else None
        mask = None if geometry.mask == 'none' else build_mask(geometry, self.in_groups, self.out_groups)
        self.register_buffer('mask', mask, persistent=False)
        top, bottom, left, right = same_padding(geometry)
        self.padding = (left, right, top, bottom)

    def weights(self) -> torch.Tensor:
        """The kernel as applied, zero wherever the mask forbids a connection, in PyTorch's [out, in, rows, cols]."""
        k = self.kernel if self.mask is None else self.kernel * self.mask
        return k.permute(3, 2, 0, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weights()
        # A dilation changes nothing for a 1×1 kernel, but steers PyTorch's CPU convolution off its slow path for
        # 1×1 kernels on batches under 16 with one thread (a step on 8 images: 51 → 19 ms here).
        slow_path = w.shape[2:] == (1, 1) and x.shape[0] < 16
        return F.conv2d(F.pad(x, self.padding), w, self.bias, dilation=2 if slow_path else 1)


class ClassEmbedding(nn.Module):
    """Class conditioning (Conditional PixelCNN, van den Oord et al. 2016, §2.3): V·h added to a layer's
    pre-activations, h the image's one-hot class; V [classes, features] (`…-class/embedding`), zero at first."""

    def __init__(self, classes: int, features: int):
        super().__init__()
        self.embedding = nn.Parameter(torch.zeros(classes, features))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """V·h for each image, [B, features, 1, 1], to add to a [B, features, H, W] map."""
        return (h @ self.embedding)[:, :, None, None]


def class_embedding(classes: int, features: int) -> Optional[ClassEmbedding]:
    """A class embedding for a conditional model (classes > 0), None otherwise."""
    return ClassEmbedding(classes, features) if classes > 0 else None


def add_class(x: torch.Tensor, embedding: Optional[ClassEmbedding], h: Optional[torch.Tensor]) -> torch.Tensor:
    """x + V·h, or x itself for an unconditional layer."""
    return x if embedding is None else x + embedding(h)


def masked_conv(kh: int, kw: int, mask: str, n_in: int, n_out: int, colours: int, **options) -> Conv2D:
    """A kh × kw convolution under mask A or B (or none), stored without its always-zero taps."""
    return Conv2D(causal_geometry(kh, kw, mask), n_in, n_out, colours, **options)


def lstm_cell(gates: torch.Tensor, c_prev: Optional[torch.Tensor]):
    """§3.1: [o, f, i, g] = [σ, σ, σ, tanh](gates), c = f ⊙ c_prev + i ⊙ g, h = o ⊙ tanh(c). Gates on dim 1."""
    h = gates.shape[1] // 4
    o, f, i = torch.sigmoid(gates[:, :3 * h]).chunk(3, dim=1)
    g = torch.tanh(gates[:, 3 * h:])
    c = i * g if c_prev is None else f * c_prev + i * g
    return o * torch.tanh(c), c


def lstm_recurrence(from_input: torch.Tensor, state_to_state: Conv2D, axis: int) -> torch.Tensor:
    """An LSTM scanned along one axis of an NCHW map (2: rows, for the Row LSTM; 3: skewed columns, for the
    Diagonal LSTM). Slice t of `from_input` (K^is ⊛ x, [B, 4h, H, W]) plus K^ss applied to the states of slice
    t − 1 gives the gates of slice t. Returns the states of every slice, [B, h, H, W]. Autograd does the BPTT."""
    hs, h, c = [], None, None
    for t, gates in enumerate(from_input.unbind(axis)):
        gates = gates.unsqueeze(axis)
        if t > 0:
            gates = gates + state_to_state(h)
        h, c = lstm_cell(gates, c)
        hs.append(h)
    return torch.cat(hs, axis)


def gated_activation(x: torch.Tensor) -> torch.Tensor:
    """Gated PixelCNN's tanh(a) ⊙ σ(b) of the two halves of the features."""
    a, b = x.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


def skew(x: torch.Tensor) -> torch.Tensor:
    """Row i shifted right by i: [B, C, H, W] → [B, C, H, W + H − 1] (the Diagonal BiLSTM's skew, §3.2)."""
    b, c, h, w = x.shape
    flat = F.pad(x, (0, h)).reshape(b, c, h * (w + h))
    return flat[:, :, :h * (w + h - 1)].reshape(b, c, h, w + h - 1)


def unskew(s: torch.Tensor, width: int) -> torch.Tensor:
    """The inverse of `skew`: row i read from column i on."""
    b, c, h, sw = s.shape
    flat = F.pad(F.pad(s, (0, 1)).reshape(b, c, h * (sw + 1)), (0, h))
    return flat.reshape(b, c, h, sw + 2)[:, :, :, :width]


def shift_down(x: torch.Tensor) -> torch.Tensor:
    """(i, j) takes what (i − 1, j) held; zeros enter at the top."""
    return F.pad(x, (0, 0, 1, 0))[:, :, :x.shape[2]]


def flip_width(x: torch.Tensor) -> torch.Tensor:
    return x.flip(3)


class OutputStack(nn.Module):
    """ReLU → 1×1 → ReLU → 1×1, both 1×1s under mask B (`output/hidden`, `output/logits`)."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int, colours: int):
        super().__init__()
        self.hidden = masked_conv(1, 1, 'B', n_in, n_hidden, colours) if n_hidden > 0 else None
        self.logits = masked_conv(1, 1, 'B', n_hidden if n_hidden > 0 else n_in, n_out, colours)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(x)
        if self.hidden is not None:
            y = F.relu(self.hidden(y))
        return self.logits(y)


def residual_output(x: torch.Tensor, states: torch.Tensor, up: Optional[Conv2D], add_input: bool) -> torch.Tensor:
    """§3.3: a 1×1 (mask B) brings the h state features back to 2h and adds the layer's input."""
    if up is None:
        return states
    out = up(states)
    return x + out if add_input else out
