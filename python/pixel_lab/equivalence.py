"""The twin's side of the equivalence check (run by test/unit/torch-equivalence.test.ts).

  python3 -m pixel_lab.equivalence DIR

DIR holds one folder per case, written by the TS engine (cpu backend): `model.safetensors` (its weights and
config) and `io.safetensors` (`images` [N, H, W, C] pixel values, the TS `logits` and `nll` in nats per image,
and `field` [H, W, C, H, W, C], the TS structural map: 1 where output (i, j, c) can depend on input element
(i', j', c')); and, for a class-conditional model, `classes` [N], each image's class). For each case this prints one JSON line: the largest logit and NLL differences, and how many
entries of the field differ from the support of PyTorch's autograd Jacobian (on the same images, float64).
"""
import json
import os
import struct
import sys

import torch

from .model import ts_name
from .safetensors_io import load_model, read_file


def relative_error(ours: torch.Tensor, theirs: torch.Tensor) -> float:
    """max |ours − theirs| / max(1, |theirs|), elementwise: relative for large values, absolute near zero."""
    return ((ours.double() - theirs.double()).abs() / theirs.double().abs().clamp(min=1)).max().item()


def gradient_support(model, image: torch.Tensor, image_class=None) -> torch.Tensor:
    """Where ∂ log p(x_ijc | x_<ijc) / ∂x is non-zero, for every output (i, j, c) of one image: [H, W, C, H, W, C].
    The image is repeated once per output along the batch, so one backward pass gives the whole Jacobian; the
    labels are a separate tensor, so the gradient flows through the network only."""
    h, w, c = image.shape
    d = h * w * c
    inputs = image.double().expand(d, h, w, c).clone().requires_grad_(True)
    labels = image.double().expand(d, h, w, c)
    select = torch.eye(d, dtype=torch.float64).reshape(d, h, w, c)
    classes = None if image_class is None else image_class.expand(d)
    log_p = model.head.log_probs(model(inputs, classes), labels)
    (log_p * select).sum().backward()
    return (inputs.grad != 0).reshape(h, w, c, h, w, c)


def header_names(path: str) -> list:
    """Tensor names in the order the file's header lists them (the TS engine writes its creation order)."""
    with open(path, 'rb') as f:
        (n,) = struct.unpack('<Q', f.read(8))
        return [k for k in json.loads(f.read(n)) if k != '__metadata__']


def check_case(folder: str) -> dict:
    model = load_model(os.path.join(folder, 'model.safetensors'))
    # The optimiser slots of a TS checkpoint are positional: the twin must list its parameters in the same order.
    same_order = [ts_name(k) for k, _ in model.named_parameters()] == header_names(os.path.join(folder, 'model.safetensors'))
    io, _ = read_file(os.path.join(folder, 'io.safetensors'))
    images = io['images'].float()
    classes = io['classes'].long() if 'classes' in io else None
    with torch.no_grad():
        logits = model(images, classes)
        nll = model.nll_nats(images, logits)
    result = {
        'case': os.path.basename(folder),
        'sameParameterOrder': same_order,
        'logitsShape': list(logits.shape),
        'tsLogitsShape': list(io['logits'].shape),
        'logitsError': relative_error(logits, io['logits']) if logits.shape == io['logits'].shape else None,
        'nllError': ((nll.double() - io['nll'].double()).abs() / io['nll'].double().abs()).max().item(),
    }
    if 'field' in io:
        model.double()
        support = torch.zeros(io['field'].shape, dtype=torch.bool)
        for n, image in enumerate(images):
            support |= gradient_support(model, image, None if classes is None else classes[n])
        structural = io['field'].bool()
        result['fieldEntries'] = structural.numel()
        result['fieldDependencies'] = int(structural.sum())
        result['fieldMismatches'] = int((support != structural).sum())
        result['fieldLeaks'] = int((support & ~structural).sum())
    return result


def main(argv):
    if len(argv) != 1:
        print('usage: python3 -m pixel_lab.equivalence DIR', file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    for name in sorted(os.listdir(argv[0])):
        print(json.dumps(check_case(os.path.join(argv[0], name))), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
