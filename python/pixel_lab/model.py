"""What every model offers — the twin of src/model/model.ts: logits for every pixel and channel, the NLL in nats
per image, parameters named as the TS engine names them.

A model's configuration is the TS engine's ModelConfig as JSON (camelCase keys): type, image {height, width,
channels}, head {kind, levels?}, layers, hidden, firstKernel, kernel, residual, outputHidden, seed.
"""
import torch
import torch.nn as nn

from .heads import create_head
from .init import glorot_uniform


def layer_features(config: dict) -> int:
    """Features carried between layers: 2h with residual connections, h without."""
    return 2 * config['hidden'] if config['residual'] else config['hidden']


class PixelModel(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        self.config = config
        self.colours = config['image']['channels']
        self.head = create_head(config['head'])

    @torch.no_grad()
    def initialise(self) -> None:
        """Draw the initial weights as the TS engine does for this seed (see init.py): the same values."""
        seed = int(self.config['seed'])
        for key, p in self.named_parameters():
            name = ts_name(key)
            p.copy_(torch.from_numpy(glorot_uniform(p.shape, seed, name)) if name.endswith('/kernel') else torch.zeros_like(p))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of p(x_ijc | x_<ijc) for images x [B, H, W, C] of pixel values 0 … levels − 1: [B, H, W, C]
        (Bernoulli) or [B, H, W, C, L]. H may be less than the configured height (row-cropped sampling)."""
        image = self.config['image']
        _, h, w, c = x.shape
        if w != image['width'] or c != image['channels'] or not 1 <= h <= image['height']:
            raise ValueError(f"model expects images [B, ≤{image['height']}, {image['width']}, {image['channels']}], "
                             f'got {list(x.shape)}')
        y = self.network(self.head.encode(x).permute(0, 3, 1, 2))
        return self.head.to_logits(y, self.colours)

    def network(self, x: torch.Tensor) -> torch.Tensor:
        """Encoded input [B, C, H, W] → last layer [B, F, H, W]."""
        raise NotImplementedError

    def nll_nats(self, x: torch.Tensor, logits: torch.Tensor = None) -> torch.Tensor:
        """−log p(x) of each image in nats: [B]."""
        if logits is None:
            logits = self(x)
        return -self.head.log_probs(logits, x).sum((1, 2, 3))

    @property
    def dims(self) -> int:
        image = self.config['image']
        return image['height'] * image['width'] * image['channels']


def ts_name(key: str) -> str:
    """A state_dict key → the TS engine's parameter name: `lstm0.input_to_state.kernel` → `lstm0/input-to-state/kernel`."""
    return key.replace('.', '/').replace('_', '-')


def torch_key(name: str) -> str:
    """The inverse of `ts_name`."""
    return name.replace('/', '.').replace('-', '_')
