"""The optimisers of the TS engine, with its update rules and constants (src/train/checkpoint.ts uses TF.js's
`adam(lr)` and `rmsprop(lr, 0.9)`; TF.js's epsilon on float32 backends is 1e-7)."""
import torch

EPSILON = 1e-7


class RMSprop(torch.optim.Optimizer):
    """TF.js's RMSProp without momentum: ms = ρ·ms + (1 − ρ)·g²,  w −= lr · g / sqrt(ms + ε).
    (torch.optim.RMSprop puts ε outside the square root.)"""

    def __init__(self, params, lr: float, decay: float = 0.9, eps: float = EPSILON):
        super().__init__(params, dict(lr=lr, decay=decay, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                state = self.state[p]
                if 'rms' not in state:
                    state['rms'] = torch.zeros_like(p)
                ms = state['rms']
                ms.mul_(group['decay']).addcmul_(p.grad, p.grad, value=1 - group['decay'])
                p.addcdiv_(p.grad, (ms + group['eps']).sqrt(), value=-group['lr'])


def create_optimizer(name: str, parameters, learning_rate: float) -> torch.optim.Optimizer:
    """TF.js's Adam is torch's (bias-corrected moments, ε added to the corrected √v) with ε = 1e-7."""
    if name == 'adam':
        return torch.optim.Adam(parameters, lr=learning_rate, eps=EPSILON)
    if name == 'rmsprop':
        return RMSprop(parameters, lr=learning_rate)
    raise ValueError(f"unknown optimizer '{name}' (adam or rmsprop)")
