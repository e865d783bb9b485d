"""Seeded sampling in raster order and R → G → B within a pixel, each value drawn from p(x_ijc | everything
before) — naive and row-cropped: the model runs on rows 0 … i only (row i depends on nothing below it).
(The TS engine also has cached sampling for PixelCNN and Gated PixelCNN; the draws differ from the TS ones,
which use the engine's own generator.)
"""
import torch


@torch.no_grad()
def sample(model, count: int, seed: int, temperature: float = 1.0) -> torch.Tensor:
    """[count, H, W, C] pixel values (uint8)."""
    if not temperature > 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')
    image = model.config['image']
    h, w, c = image['height'], image['width'], image['channels']
    device = next(model.parameters()).device
    generator = torch.Generator(device='cpu').manual_seed(seed)
    x = torch.zeros(count, h, w, c, device=device)
    for i in range(h):
        for j in range(w):
            for ch in range(c):
                logits = model(x[:, :i + 1])[:, i, j, ch].float().cpu() / temperature
                if logits.dim() == 1:  # Bernoulli
                    value = (torch.rand(count, generator=generator) < torch.sigmoid(logits)).float()
                else:
                    value = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)[:, 0].float()
                x[:, i, j, ch] = value.to(device)
    return x.to(torch.uint8).cpu()
