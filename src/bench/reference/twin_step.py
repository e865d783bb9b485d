# The PyTorch reference of `npm run bench`: one training step of the PyTorch twin (python/pixel_lab) on the very
# model configuration the TS engine times (same layers and shapes by construction), timed the same way: Adam 1e-3,
# the mean NLL per dimension, one fixed batch of random binary images; median of STEPS steps after WARMUP.
# Usage: PYTHONPATH=python TORCH_THREADS=1 python3 twin_step.py '<ModelConfig JSON>' STEPS WARMUP
# Prints one JSON object: {"median_ms", "min_ms", "max_ms", "torch", "threads"}.
import json
import os
import statistics
import sys
import time

import torch

from pixel_lab import create_model


def main() -> None:
    config, steps, warmup = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(int(os.environ.get('TORCH_THREADS', '1')))
    torch.manual_seed(1)
    model = create_model(config)
    image = config['image']
    x = (torch.rand(16, image['height'], image['width'], image['channels']) > 0.5).float()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for step in range(warmup + steps):
        began = time.perf_counter()
        loss = model.nll_nats(x).mean() / model.dims
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()
        if step >= warmup:
            times.append((time.perf_counter() - began) * 1000)
    print(json.dumps({'median_ms': round(statistics.median(times), 1), 'min_ms': round(min(times), 1), 'max_ms': round(max(times), 1),
                      'torch': torch.__version__, 'threads': torch.get_num_threads()}))


if __name__ == '__main__':
    main()
