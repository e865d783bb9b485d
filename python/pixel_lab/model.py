"""What every model offers — the twin of src/model/model.ts: logits for every pixel and channel, the NLL in nats
per image, parameters named as the TS engine names them.

A model's configuration is the TS engine's ModelConfig as JSON (camelCase keys): type, image {height, width,
channels}, head {kind, levels?}, layers, hidden, firstKernel, kernel, residual, outputHidden, seed, and classes
(absent or 0: unconditional; K: class-conditional, each image's class given to forward).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

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
        self.classes = int(config.get('classes') or 0)

    @torch.no_grad()
    def initialise(self) -> None:
        """Draw the initial weights as the TS engine does for this seed (see init.py): the same values."""
        seed = int(self.config['seed'])
        for key, p in self.named_parameters():
            name = ts_name(key)
            p.copy_(torch.from_numpy(glorot_uniform(p.shape, seed, name)) if name.endswith('/kernel') else torch.zeros_like(p))

    def forward(self, x: torch.Tensor, classes: torch.Tensor = None) -> torch.Tensor:
        """Logits of p(x_ijc | x_<ijc) for images x [B, H, W, C] of pixel values 0 … levels − 1: [B, H, W, C]
        (Bernoulli) or [B, H, W, C, L]. H may be less than the configured height (row-cropped sampling).
        `classes` [B]: each image's class 0 … K − 1, required by a class-conditional model, refused by others."""
        image = self.config['image']
        b, h, w, c = x.shape
        if w != image['width'] or c != image['channels'] or not 1 <= h <= image['height']:
            raise ValueError(f"model expects images [B, ≤{image['height']}, {image['width']}, {image['channels']}], "
                             f'got {list(x.shape)}')
        y = self.network(self.head.encode(x).permute(0, 3, 1, 2), self.one_hot(classes, b, x))
        return self.head.to_logits(y, self.colours)

    def one_hot(self, classes, count: int, like: torch.Tensor):
        """h, each image's one-hot class [B, K] (None for an unconditional model), checked as the TS engine does."""
        if self.classes == 0:
            if classes is not None:
                raise ValueError('this model is not class-conditional: it takes no classes')
            return None
        if classes is None:
            raise ValueError(f'this model is class-conditional ({self.classes} classes): it needs the class of each image')
        classes = torch.as_tensor(classes, device=like.device).long().reshape(-1)
        if classes.numel() != count:
            raise ValueError(f'{classes.numel()} classes for {count} images: give one class per image')
        if classes.numel() and (classes.min() < 0 or classes.max() >= self.classes):
            raise ValueError(f"a class is not one of the model's classes 0 … {self.classes - 1}")
        return F.one_hot(classes, self.classes).to(like.dtype if like.is_floating_point() else torch.float32)

    def network(self, x: torch.Tensor, h: torch.Tensor = None) -> torch.Tensor:
        """Encoded input [B, C, H, W] (and the one-hot classes h [B, K], or None) → last layer [B, F, H, W]."""
        raise NotImplementedError

    def nll_nats(self, x: torch.Tensor, logits: torch.Tensor = None, classes: torch.Tensor = None) -> torch.Tensor:
        """−log p(x) of each image in nats (conditional models: −log p(x | class)): [B]."""
        if logits is None:
            logits = self(x, classes)
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
