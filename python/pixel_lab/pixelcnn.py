"""PixelCNN — van den Oord, Kalchbrenner, Kavukcuoglu, "Pixel Recurrent Neural Networks" (2016), §3.4, Figure 5.
The twin of src/model/pixelcnn.ts (same layers, same parameter names).

  h⁰   = Conv_A^{7×7}(x)                                                                   2h features
  hˡ   = hˡ⁻¹ + Conv^{1×1}( ReLU(Conv_B^{3×3}( ReLU(Conv^{1×1}( ReLU(hˡ⁻¹) )) )) )          2h → h → h → 2h
  out  = Conv_B^{1×1}( ReLU(Conv_B^{1×1}( ReLU(hᴸ) )) )

Without residual connections a layer is hˡ = ReLU(Conv_B^{3×3}(hˡ⁻¹)) on h features. A masked 3×3 reaches one
pixel up-right per layer at most: the blind spot that Gated PixelCNN removes.

Class-conditional (classes > 0): V·h added to the first convolution's and every k×k convolution's pre-activations
(`input-class`, `block{l}/conv-class`).
"""
import torch.nn as nn
import torch.nn.functional as F

from .layers import OutputStack, add_class, class_embedding, masked_conv
from .model import PixelModel, layer_features


class ResidualBlock(nn.Module):
    """2h → ReLU → 1×1 → h → ReLU → k×k (mask B) → h → ReLU → 1×1 → 2h, added to its input."""

    def __init__(self, h: int, k: int, colours: int, classes: int = 0):
        super().__init__()
        self.down = masked_conv(1, 1, 'B', 2 * h, h, colours)
        self.conv = masked_conv(k, k, 'B', h, h, colours)
        self.conv_class = class_embedding(classes, h)
        self.up = masked_conv(1, 1, 'B', h, 2 * h, colours)

    def forward(self, x, classes=None):
        a = F.relu(self.down(F.relu(x)))
        b = F.relu(add_class(self.conv(a), self.conv_class, classes))
        return x + self.up(b)


class PlainLayer(nn.Module):
    """h → k×k (mask B) → ReLU → h."""

    def __init__(self, h: int, k: int, colours: int, classes: int = 0):
        super().__init__()
        self.conv = masked_conv(k, k, 'B', h, h, colours)
        self.conv_class = class_embedding(classes, h)

    def forward(self, x, classes=None):
        return F.relu(add_class(self.conv(x), self.conv_class, classes))


class PixelCNN(PixelModel):
    def __init__(self, config: dict):
        super().__init__(config)
        c = self.colours
        h, k, features = config['hidden'], config['kernel'], layer_features(config)
        self.input = masked_conv(config['firstKernel'], config['firstKernel'], 'A', c, features, c)
        self.input_class = class_embedding(self.classes, features)
        self.blocks = []
        for l in range(config['layers']):
            layer_type, name = (ResidualBlock, f'block{l}') if config['residual'] else (PlainLayer, f'layer{l}')
            layer = layer_type(h, k, c, self.classes)
            self.add_module(name, layer)
            self.blocks.append(layer)
        self.output = OutputStack(features, config['outputHidden'], self.head.output_features(c), c)
        self.initialise()

    def network(self, x, classes=None):
        h = add_class(self.input(x), self.input_class, classes)
        if not self.config['residual']:
            h = F.relu(h)
        for block in self.blocks:
            h = block(h, classes)
        return self.output(h)
