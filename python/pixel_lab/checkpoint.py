"""Checkpoints of a twin-trained run, written atomically in two forms side by side:

  checkpoints/<kind>.safetensors  the model under its TS engine names, the optimiser's slots as
                                  `optimizer/<parameter>/<slot>`, and in the metadata the model config, the
                                  optimiser (name, learning rate) and the training state — for PyTorch tools, and
                                  what the twin resumes from (on any number of ranks);
  checkpoints/<kind>.ckpt         the TS engine's own checkpoint (src/train/checkpoint.ts: "PIXLCKPT" · u32 header
                                  length · header JSON · model weights · optimiser weights, TF.js slot names and
                                  order), so `pixel-lab eval / sample / deps / resume` and the panel open the run as
                                  their own.
"""
import json
import os
import struct

import numpy as np
import torch

from .model import ts_name
from .safetensors_io import MODEL_FORMAT, MODEL_FORMAT_VERSION, load_weights, read_file, write_file

MAGIC = b'PIXLCKPT'


def _named_parameters(model):
    """(TS name, parameter) in the TS engine's creation order (the order its optimiser slots are in)."""
    return [(ts_name(k), p) for k, p in model.named_parameters()]


def _write_atomic(path: str, data: bytes) -> None:
    tmp = f'{path}.tmp-{os.getpid()}'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)


def save_checkpoint(folder: str, kinds, model, optimizer, optimizer_name: str, learning_rate: float, state: dict) -> None:
    tensors = {name: p.detach().float().cpu() for name, p in _named_parameters(model)}
    for name, p in _named_parameters(model):
        for slot, value in optimizer.state.get(p, {}).items():
            tensors[f'optimizer/{name}/{slot}'] = torch.as_tensor(value).detach().float().cpu()
    metadata = {'format': MODEL_FORMAT, 'formatVersion': MODEL_FORMAT_VERSION, 'config': json.dumps(model.config),
                'optimizer': json.dumps({'name': optimizer_name, 'learningRate': learning_rate}), 'state': json.dumps(state)}
    ckpt = encode_ts_checkpoint(model, optimizer, optimizer_name, learning_rate, state)
    for kind in kinds:
        write_file(os.path.join(folder, f'{kind}.safetensors'), tensors, metadata)
        _write_atomic(os.path.join(folder, f'{kind}.ckpt'), ckpt)


def load_checkpoint(path: str, model, optimizer) -> dict:
    """Restore the model and optimiser from a checkpoint — the twin's `.safetensors` or the TS engine's `.ckpt`
    (a run started in the panel or the CLI, continued here); returns the training state."""
    if path.endswith('.ckpt'):
        return load_ts_checkpoint(path, model, optimizer)
    tensors, metadata = read_file(path)
    if 'state' not in metadata or 'optimizer' not in metadata:
        raise ValueError(f'{path} is a model, not a training checkpoint (its metadata has no optimizer and state)')
    load_weights(model, {k: v for k, v in tensors.items() if not k.startswith('optimizer/')})
    by_name = dict(_named_parameters(model))
    for key, value in tensors.items():
        if key.startswith('optimizer/'):
            name, slot = key[len('optimizer/'):].rsplit('/', 1)
            p = by_name[name]
            optimizer.state[p][slot] = value.to(p.device) if value.dim() else value.clone()
    return json.loads(metadata['state'])


def _ts_slots(model, optimizer, name: str):
    """The optimiser's slots as TF.js saves them: one slot kind for every variable, then the next (the momentum
    slot of TF.js's RMSProp is multiplied by a momentum of 0: zeros do)."""
    params = _named_parameters(model)
    kinds = [('m', 'exp_avg'), ('v', 'exp_avg_sq')] if name == 'adam' else [('rms', 'rms'), ('momentum', None)]
    slots = []
    for ts_slot, torch_slot in kinds:
        for n, p in params:
            value = optimizer.state.get(p, {}).get(torch_slot) if torch_slot else None
            slots.append((f'{n}/{ts_slot}', (value if value is not None else torch.zeros_like(p)).detach().float().cpu()))
    return slots


def encode_ts_checkpoint(model, optimizer, optimizer_name: str, learning_rate: float, state: dict) -> bytes:
    params = _named_parameters(model)
    slots = _ts_slots(model, optimizer, optimizer_name)
    spec = lambda n, t: {'name': n, 'shape': list(t.shape), 'dtype': 'float32'}
    header = {
        'model': {'format': MODEL_FORMAT, 'formatVersion': int(MODEL_FORMAT_VERSION), 'config': model.config,
                  'weightsManifest': [{'paths': ['weights.bin'], 'weights': [spec(n, p) for n, p in params]}]},
        'optimizer': {'name': optimizer_name, 'learningRate': learning_rate,
                      'specs': [{'name': 'iter', 'shape': [], 'dtype': 'int32'}] + [spec(n, t) for n, t in slots]},
        'state': state,
    }
    head = json.dumps(header, separators=(',', ':')).encode()
    body = [p.detach().float().cpu().numpy().astype('<f4').tobytes() for _, p in params]
    body.append(np.array([state['step']], dtype='<i4').tobytes())
    body += [t.numpy().astype('<f4').tobytes() for _, t in slots]
    return MAGIC + struct.pack('<I', len(head)) + head + b''.join(body)


def load_ts_checkpoint(path: str, model, optimizer) -> dict:
    """Restore the model and optimiser from the TS engine's checkpoint (src/train/checkpoint.ts)."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:len(MAGIC)] != MAGIC:
        raise ValueError(f'{path} is not a Pixel Lab checkpoint')
    (n,) = struct.unpack('<I', data[len(MAGIC):len(MAGIC) + 4])
    at = len(MAGIC) + 4
    header = json.loads(data[at:at + n])
    at += n

    def read(specs):
        nonlocal at
        out = []
        for spec in specs:
            count = int(np.prod(spec['shape'], dtype=np.int64))
            dtype = '<i4' if spec['dtype'] == 'int32' else '<f4'
            if at + 4 * count > len(data):
                raise ValueError(f'{path} is truncated (it ends inside {spec["name"]})')
            out.append((spec['name'], torch.from_numpy(np.frombuffer(data, dtype=dtype, count=count, offset=at).astype(dtype[1:]).reshape(spec['shape']))))
            at += 4 * count
        return out

    config = header['model']['config']
    differ = sorted(k for k in set(config) | set(model.config) if config.get(k) != model.config.get(k))
    if differ:
        raise ValueError(f'{path} holds a model of another architecture (it differs in {", ".join(differ)})')
    load_weights(model, dict(read(header['model']['weightsManifest'][0]['weights'])))
    slots = read(header['optimizer']['specs'])
    iterations = int(slots[0][1].item()) if slots and slots[0][0] == 'iter' else header['state']['step']
    # The slots are positional, one kind for every variable in the engine's creation order, then the next kind.
    params = [p for _, p in _named_parameters(model)]
    values = [t for name, t in slots if name != 'iter']
    name = header['optimizer']['name']
    kinds = ['exp_avg', 'exp_avg_sq'] if name == 'adam' else ['rms', None]
    if len(values) not in (0, len(kinds) * len(params)):
        raise ValueError(f'{path}: {len(values)} optimiser slots for {len(params)} parameters')
    for k, kind in enumerate(kinds if values else []):
        for p, value in zip(params, values[k * len(params):(k + 1) * len(params)]):
            if kind:
                optimizer.state[p][kind] = value.to(p.device)
                if name == 'adam':
                    optimizer.state[p]['step'] = torch.tensor(float(iterations))
    return header['state']
