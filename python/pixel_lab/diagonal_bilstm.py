"""Diagonal BiLSTM — van den Oord, Kalchbrenner, Kavukcuoglu, "Pixel Recurrent Neural Networks" (2016), §3.2.
The twin of src/model/diagonal-bilstm.ts (same layers, same parameter names).

Skewing the map (row i shifted right by i, n × (2n − 1)) turns every diagonal into a column; the recurrence runs
column by column:

  [oₖ, fₖ, iₖ, gₖ] = σ( K^ss ⊛ hₖ₋₁ + K^is ⊛ xₖ )        (tanh for g)
  cₖ = fₖ ⊙ cₖ₋₁ + iₖ ⊙ gₖ,    hₖ = oₖ ⊙ tanh(cₖ)

K^is is 1×1 (mask B; mask A when it reads the image itself); K^ss a 2×1 convolution over the previous column,
rows r − 1 and r (the pixel above and the pixel to the left). The second direction runs on the width-mirrored
map and its output is shifted down one row before the two are added, so no future pixel leaks.

Class-conditional (classes > 0): V·h added to each direction's input-to-state gates before the skew
(`bilstm{l}/left-to-right/input-to-state-class`, and right-to-left).
"""
import torch.nn as nn
import torch.nn.functional as F

from .layers import (Conv2D, OutputStack, add_class, class_embedding, flip_width, lstm_recurrence, masked_conv, residual_output, shift_down, skew,
                     unskew)
from .masks import KernelGeometry
from .model import PixelModel, layer_features

# Rows r − 1 and r of the previous column of the skewed map.
PREVIOUS_COLUMN = KernelGeometry(rows=2, cols=1, cy=1, cx=0, mask='none')


class DiagonalLSTM(nn.Module):
    """One direction: a diagonal LSTM scanning left to right."""

    def __init__(self, in_features: int, h: int, colours: int, reads_image: bool, classes: int = 0):
        super().__init__()
        self.input_to_state = masked_conv(1, 1, 'A' if reads_image else 'B', in_features, 4 * h, colours, out_chunks=4)
        self.state_to_state = Conv2D(PREVIOUS_COLUMN, h, 4 * h, colours, out_chunks=4, bias=False)
        self.input_to_state_class = class_embedding(classes, 4 * h)

    def forward(self, x, classes=None):
        # A 1×1 kernel commutes with the skew; applying it first costs half the positions. V·h before the skew.
        gates = add_class(self.input_to_state(x), self.input_to_state_class, classes)
        states = lstm_recurrence(skew(gates), self.state_to_state, 3)
        return unskew(states, x.shape[3])


class DiagonalBiLSTMLayer(nn.Module):
    def __init__(self, in_features: int, h: int, colours: int, reads_image: bool, residual: bool, classes: int = 0):
        super().__init__()
        self.left_to_right = DiagonalLSTM(in_features, h, colours, reads_image, classes)
        self.right_to_left = DiagonalLSTM(in_features, h, colours, reads_image, classes)
        self.up = masked_conv(1, 1, 'B', h, 2 * h, colours) if residual else None
        self.add_input = residual and not reads_image

    def forward(self, x, classes=None):
        forward = self.left_to_right(x, classes)
        backward = flip_width(self.right_to_left(flip_width(x), classes))
        return residual_output(x, forward + shift_down(backward), self.up, self.add_input)


class DiagonalBiLSTM(PixelModel):
    def __init__(self, config: dict):
        super().__init__(config)
        c, features = self.colours, layer_features(config)
        k0 = config['firstKernel']
        self.input = masked_conv(k0, k0, 'A', c, features, c) if k0 > 0 else None
        self.bilstms = []
        for l in range(config['layers']):
            reads_image = l == 0 and self.input is None
            layer = DiagonalBiLSTMLayer(c if reads_image else features, config['hidden'], c, reads_image,
                                        config['residual'], self.classes)
            self.add_module(f'bilstm{l}', layer)
            self.bilstms.append(layer)
        self.output = OutputStack(features, config['outputHidden'], self.head.output_features(c), c)
        self.initialise()

    def network(self, x, classes=None):
        h = x
        if self.input is not None:
            h = self.input(x)
            if not self.config['residual']:
                h = F.relu(h)
        for layer in self.bilstms:
            h = layer(h, classes)
        return self.output(h)
