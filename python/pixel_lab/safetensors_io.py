"""safetensors in and out, with or without the `safetensors` package.

The layout (https://huggingface.co/docs/safetensors): an unsigned 64-bit little-endian header length N, N bytes
of JSON — {name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {str: str}} —
then the tensors' raw little-endian bytes, back to back, offsets relative to the end of the header.

A Pixel Lab model file holds every parameter under its TS engine name (`block0/conv/kernel`, kernels in TF.js's
[rows, cols, in, out] layout) and its configuration in the metadata: {"format": "pixel-lab-model",
"formatVersion": "1", "config": "<ModelConfig JSON>"}.
"""
import json
import os
import struct

import numpy as np
import torch

try:  # the package, where installed; the layout is simple enough to read and write without it
    import safetensors.torch as _st
except ImportError:
    _st = None

MODEL_FORMAT = 'pixel-lab-model'
MODEL_FORMAT_VERSION = '1'

_DTYPES = {'F64': np.float64, 'F32': np.float32, 'F16': np.float16, 'I64': np.int64, 'I32': np.int32,
           'I16': np.int16, 'I8': np.int8, 'U8': np.uint8, 'BOOL': np.bool_}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}


def encode(tensors: dict, metadata: dict = None) -> bytes:
    """Tensors by name → safetensors bytes (the header padded with spaces to a multiple of 8)."""
    header, chunks, at = {}, [], 0
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t)
        if a.dtype not in _NAMES:
            raise ValueError(f'{name}: dtype {a.dtype} cannot be stored (supported: {", ".join(_DTYPES)})')
        raw = a.astype(a.dtype.newbyteorder('<'), copy=False).tobytes()
        header[name] = {'dtype': _NAMES[a.dtype], 'shape': list(a.shape), 'data_offsets': [at, at + len(raw)]}
        chunks.append(raw)
        at += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    return struct.pack('<Q', len(text)) + text + b''.join(chunks)


def decode(data: bytes, name: str = 'safetensors data'):
    """safetensors bytes → (tensors by name, metadata); every malformation is named."""
    if len(data) < 8:
        raise ValueError(f'{name} is too short to be safetensors ({len(data)} bytes)')
    (n,) = struct.unpack('<Q', data[:8])
    if 8 + n > len(data):
        raise ValueError(f'{name} is truncated: its header says {n} bytes, the file holds {len(data) - 8}')
    try:
        header = json.loads(data[8:8 + n])
    except ValueError as e:
        raise ValueError(f'{name} has an unreadable header: {e}') from None
    metadata = header.pop('__metadata__', None) or {}
    body = memoryview(data)[8 + n:]
    tensors = {}
    for key, spec in header.items():
        begin, end = spec['data_offsets']
        dtype = _DTYPES.get(spec['dtype'])
        if dtype is None:
            raise ValueError(f'{name}: tensor {key} has dtype {spec["dtype"]}, which this reader does not support')
        count = int(np.prod(spec['shape'], dtype=np.int64))
        if end > len(body) or end - begin != count * np.dtype(dtype).itemsize:
            raise ValueError(f'{name}: tensor {key} ({spec["dtype"]} {spec["shape"]}) does not fit bytes {begin}–{end}')
        a = np.frombuffer(body[begin:end], dtype=np.dtype(dtype).newbyteorder('<')).reshape(spec['shape'])
        tensors[key] = torch.from_numpy(a.astype(dtype))
    return tensors, metadata


def write_file(path: str, tensors: dict, metadata: dict = None) -> None:
    """Write atomically: a temporary name, then renamed into place."""
    tmp = f'{path}.tmp-{os.getpid()}'
    if _st is not None:
        _st.save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, tmp,
                      metadata={str(k): str(v) for k, v in (metadata or {}).items()})
    else:
        with open(tmp, 'wb') as f:
            f.write(encode(tensors, metadata))
    os.replace(tmp, path)


def read_file(path: str):
    """(tensors by name, metadata) of a safetensors file."""
    if _st is not None:
        from safetensors import safe_open
        with safe_open(path, framework='pt') as f:
            return {k: f.get_tensor(k) for k in f.keys()}, f.metadata() or {}
    with open(path, 'rb') as f:
        return decode(f.read(), path)


def model_tensors(model) -> dict:
    """A model's parameters under their TS engine names."""
    from .model import ts_name
    return {ts_name(k): v for k, v in model.state_dict().items()}


def save_model(model, path: str, metadata: dict = None) -> None:
    meta = {'format': MODEL_FORMAT, 'formatVersion': MODEL_FORMAT_VERSION, 'config': json.dumps(model.config)}
    write_file(path, model_tensors(model), {**meta, **(metadata or {})})


def load_weights(model, tensors: dict) -> None:
    """Copy weights named as the TS engine names them into `model`; names and shapes must match exactly."""
    from .model import torch_key
    state = model.state_dict()
    wanted = {torch_key(k): k for k in tensors}
    missing = sorted(k for k in state if k not in wanted)
    extra = sorted(wanted[k] for k in wanted if k not in state)
    if missing or extra:
        raise ValueError(f'weights do not fit this architecture: missing {missing}, unexpected {extra}')
    for key, name in wanted.items():
        if tuple(tensors[name].shape) != tuple(state[key].shape):
            raise ValueError(f'weight {name} has shape {list(tensors[name].shape)}, the architecture needs {list(state[key].shape)}')
    model.load_state_dict({k: tensors[n].to(state[k].dtype) for k, n in wanted.items()})


def load_model(path: str):
    """A model from a Pixel Lab safetensors file (written by the TS engine or the twin)."""
    from . import create_model
    tensors, metadata = read_file(path)
    if metadata.get('format') != MODEL_FORMAT or 'config' not in metadata:
        raise ValueError(f'{path} is not a Pixel Lab model (its metadata has no "format": "{MODEL_FORMAT}" and "config")')
    model = create_model(json.loads(metadata['config']))
    load_weights(model, {k: v for k, v in tensors.items()})
    return model
