"""Row LSTM — van den Oord, Kalchbrenner, Kavukcuoglu, "Pixel Recurrent Neural Networks" (2016), §3.1.
The twin of src/model/row-lstm.ts (same layers, same parameter names).

The map is processed one row at a time from the top, a whole row at once:

  [oᵢ, fᵢ, iᵢ, gᵢ] = σ( K^ss ⊛ hᵢ₋₁ + K^is ⊛ xᵢ )        (tanh for g)
  cᵢ = fᵢ ⊙ cᵢ₋₁ + iᵢ ⊙ gᵢ
  hᵢ = oᵢ ⊙ tanh(cᵢ)

K^is is a 1×k convolution along the row, masked (mask B; mask A when it reads the image itself), computed for the
whole map at once. K^ss is an unmasked 1×k convolution over the previous row's state. Layers take 2h features,
produce h, and a 1×1 brings them back to 2h for the residual add.

Class-conditional (classes > 0): V·h added to every layer's input-to-state gates (`lstm{l}/input-to-state-class`).
"""
import torch.nn as nn
import torch.nn.functional as F

from .layers import OutputStack, add_class, class_embedding, lstm_recurrence, masked_conv, residual_output
from .model import PixelModel, layer_features


class RowLSTMLayer(nn.Module):
    def __init__(self, k: int, in_features: int, h: int, colours: int, reads_image: bool, residual: bool,
                 classes: int = 0):
        super().__init__()
        self.input_to_state = masked_conv(1, k, 'A' if reads_image else 'B', in_features, 4 * h, colours, out_chunks=4)
        self.state_to_state = masked_conv(1, k, 'none', h, 4 * h, colours, out_chunks=4, bias=False)
        self.up = masked_conv(1, 1, 'B', h, 2 * h, colours) if residual else None
        self.input_to_state_class = class_embedding(classes, 4 * h)
        self.add_input = residual and not reads_image

    def forward(self, x, classes=None):
        # K^is ⊛ x (+ V·h) for every row at once, then the recurrence down the rows.
        gates = add_class(self.input_to_state(x), self.input_to_state_class, classes)
        states = lstm_recurrence(gates, self.state_to_state, 2)
        return residual_output(x, states, self.up, self.add_input)


class RowLSTM(PixelModel):
    def __init__(self, config: dict):
        super().__init__(config)
        c, features = self.colours, layer_features(config)
        k0 = config['firstKernel']
        self.input = masked_conv(k0, k0, 'A', c, features, c) if k0 > 0 else None
        self.lstms = []
        for l in range(config['layers']):
            reads_image = l == 0 and self.input is None
            layer = RowLSTMLayer(config['kernel'], c if reads_image else features, config['hidden'], c, reads_image,
                                 config['residual'], self.classes)
            self.add_module(f'lstm{l}', layer)
            self.lstms.append(layer)
        self.output = OutputStack(features, config['outputHidden'], self.head.output_features(c), c)
        self.initialise()

    def network(self, x, classes=None):
        h = x
        if self.input is not None:
            h = self.input(x)
            if not self.config['residual']:
                h = F.relu(h)
        for layer in self.lstms:
            h = layer(h, classes)
        return self.output(h)
