"""Gated PixelCNN — van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves, Kavukcuoglu, "Conditional Image
Generation with PixelCNN Decoders" (2016), §2.1–2.2, Figure 2. The twin of src/model/gated-pixelcnn.ts.

  vertical     v̂ˡ = W_v ∗ vˡ⁻¹                          (k//2+1) × k kernel over rows i − k//2 … i, unmasked
               vˡ = tanh(v̂ˡ_f) ⊙ σ(v̂ˡ_g)
  horizontal   ĥˡ = W_h ∗ hˡ⁻¹ + W_{v→h} ∗ shift↓(v̂ˡ)    1 × (k//2+1) kernel over columns j − k//2 … j, masked at j
               hˡ = hˡ⁻¹ + W_o ∗ (tanh(ĥˡ_f) ⊙ σ(ĥˡ_g))  1×1, mask B; no residual add in the first layer

The vertical stack reaches the horizontal one only shifted down a row, so there it shows rows < i: no blind spot.

Class-conditional (§2.3, classes > 0): V·h added to both stacks' pre-gate activations, a V per stack and layer
(`gated{l}/vertical-class`, `gated{l}/horizontal-class`).
"""
import torch.nn as nn

from .layers import Conv2D, OutputStack, add_class, class_embedding, gated_activation, masked_conv, shift_down
from .masks import KernelGeometry
from .model import PixelModel


def vertical_geometry(k: int) -> KernelGeometry:
    """Rows i − k//2 … i, columns j − k//2 … j + k//2."""
    reach = (k - 1) // 2
    return KernelGeometry(rows=reach + 1, cols=k, cy=reach, cx=reach, mask='none')


class GatedLayer(nn.Module):
    def __init__(self, in_features: int, h: int, k: int, colours: int, first: bool, residual: bool, classes: int = 0):
        super().__init__()
        self.vertical = Conv2D(vertical_geometry(k), in_features, 2 * h, colours, out_chunks=2)
        self.vertical_to_horizontal = masked_conv(1, 1, 'none', 2 * h, 2 * h, colours, in_chunks=2, out_chunks=2)
        self.horizontal = masked_conv(1, k, 'A' if first else 'B', in_features, 2 * h, colours, out_chunks=2)
        self.horizontal_out = masked_conv(1, 1, 'B', h, h, colours)
        self.vertical_class = class_embedding(classes, 2 * h)
        self.horizontal_class = class_embedding(classes, 2 * h)
        # The first layer reads the image: adding it would hand x_ij to its own prediction.
        self.adds_input = residual and not first

    def forward(self, v, h, classes=None):
        v_pre = add_class(self.vertical(v), self.vertical_class, classes)
        h_pre = add_class(self.horizontal(h) + self.vertical_to_horizontal(shift_down(v_pre)), self.horizontal_class, classes)
        h_out = self.horizontal_out(gated_activation(h_pre))
        return gated_activation(v_pre), (h + h_out if self.adds_input else h_out)


class GatedPixelCNN(PixelModel):
    def __init__(self, config: dict):
        super().__init__(config)
        c, h = self.colours, config['hidden']
        self.gated = []
        for l in range(config['layers']):
            first = l == 0
            layer = GatedLayer(c if first else h, h, config['firstKernel'] if first else config['kernel'], c, first,
                               config['residual'], self.classes)
            self.add_module(f'gated{l}', layer)
            self.gated.append(layer)
        self.output = OutputStack(h, config['outputHidden'], self.head.output_features(c), c)
        self.initialise()

    def network(self, x, classes=None):
        v = h = x
        for layer in self.gated:
            v, h = layer(v, h, classes)
        return self.output(h)
