"""An experiment's images and batches, with the TS trainer's semantics (src/data/*, src/model/random.ts): the same
seeded split, the same batch of step s (also after a resume), the same stochastic binarisation and quantisation,
bit for bit — the generator is the engine's xoshiro128**, ported.

Sources: the bundled sets (dist/data/<name>-images.idx.gz and their labels, built by `npm run build`) and IDX files
(.gz or raw) with their labels and an official test set (data.labels, data.test, data.testLabels).
Folders of PNG / JPEG images need an image decoder the twin does not carry: convert them to IDX first.
"""
import gzip
import math
import os
import struct

import numpy as np

M32 = 0xFFFFFFFF


def _imul(a: int, b: int) -> int:
    return (a * b) & M32


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & M32


class Random:
    """xoshiro128** seeded through splitmix32, as src/model/random.ts."""

    def __init__(self, seed: int):
        x, s = seed & M32, []
        for _ in range(4):
            x = (x + 0x9E3779B9) & M32
            z = _imul(x ^ (x >> 16), 0x85EBCA6B)
            z = _imul(z ^ (z >> 13), 0xC2B2AE35)
            s.append(z ^ (z >> 16))
        self.s = s

    def next_uint32(self) -> int:
        s = self.s
        result = _imul(_rotl(_imul(s[1], 5), 7), 9)
        t = (s[1] << 9) & M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 11)
        return result

    def next(self) -> float:
        return self.next_uint32() / 4294967296

    def int(self, n: int) -> int:
        return math.floor(self.next() * n)


def uniform_streams(seeds: np.ndarray, count: int) -> np.ndarray:
    """`count` draws of next() from one generator per seed, all at once: [len(seeds), count] float64."""
    x = seeds.astype(np.uint64) & M32
    s = []
    for _ in range(4):
        x = (x + 0x9E3779B9) & M32
        z = ((x ^ (x >> 16)) * 0x85EBCA6B) & M32
        z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
        s.append(z ^ (z >> 16))
    s0, s1, s2, s3 = s
    out = np.empty((len(seeds), count))
    for k in range(count):
        a = (s1 * 5) & M32
        out[:, k] = ((((a << 7) | (a >> 25)) & M32) * 9 & M32) / 4294967296
        t = (s1 << 9) & M32
        s2 = s2 ^ s0
        s3 = s3 ^ s1
        s1 = s1 ^ s2
        s0 = s0 ^ s3
        s2 = s2 ^ t
        s3 = ((s3 << 11) | (s3 >> 21)) & M32
    return out


def permutation(n: int, seed: int) -> np.ndarray:
    order = list(range(n))
    random = Random(seed)
    for k in range(n - 1, 0, -1):
        j = random.int(k + 1)
        order[k], order[j] = order[j], order[k]
    return np.array(order, dtype=np.int64)


def image_seed(seed: int, epoch: int, index: int) -> int:
    """A seed for one image in one epoch (src/data/encoding.ts)."""
    h = (seed ^ 0x9E3779B9) & M32
    for v in (epoch, index):
        h = _imul(h ^ (v & M32), 0x85EBCA6B)
        h ^= h >> 13
    return h


def split_images(count: int, test_fraction: float, seed: int):
    """(train, test) indices: a seeded split with at least one image on each side."""
    if count < 2:
        raise ValueError(f'a dataset needs at least 2 images to split, it has {count}')
    order = permutation(count, seed)
    tests = min(count - 1, max(1, math.floor(count * test_fraction + 0.5)))
    return order[tests:], order[:tests]


VALIDATION_SALT = 0x2545F491


def hold_out_validation(train: np.ndarray, fraction: float, seed: int):
    """(train, validation): `fraction` of the training images (at least one, at least one left; none when 0), a seeded
    choice, as src/data/batches.ts holdOutValidation; the training images keep their order."""
    if fraction <= 0:
        return train, np.zeros(0, dtype=np.int64)
    if len(train) < 2:
        raise ValueError(f'a validation set needs at least 2 training images to split, there are {len(train)} '
                         '(set data.validationFraction to 0, or use more images)')
    size = min(len(train) - 1, max(1, math.floor(len(train) * fraction + 0.5)))
    chosen = permutation(len(train), (seed ^ VALIDATION_SALT) & M32)[:size]
    held = np.zeros(len(train), dtype=bool)
    held[chosen] = True
    return train[~held], train[chosen]


def split_of(experiment: dict) -> str:
    """'official' or 'random': data.split, else official when data.test names an official test set."""
    data = experiment['data']
    return data.get('split') or ('official' if data.get('test') else 'random')


def experiment_split(experiment: dict, count: int, test_count: int = 0):
    """(train, validation, test) indices, as src/data/batches.ts experimentSplit: the official test set is the last
    `test_count` images; else a seeded testFraction. Then a seeded validationFraction of the training images."""
    data = experiment['data']
    if split_of(experiment) == 'official':
        if test_count < 1:
            raise ValueError('the experiment uses the official test set (data.test) but its images came without it: load them with load_dataset')
        if count - test_count < 1:
            raise ValueError(f'the official split leaves no training images ({count - test_count})')
        train, test = np.arange(count - test_count, dtype=np.int64), np.arange(count - test_count, count, dtype=np.int64)
    else:
        if test_count:
            raise ValueError(f"the images hold an official test set ({test_count} images) but the experiment's split is random")
        train, test = split_images(count, data['testFraction'], data['seed'])
    train, validation = hold_out_validation(train, data.get('validationFraction', 0), data['seed'])
    return train, validation, test


# ---- reading images --------------------------------------------------------------------------------------------

def _read_idx_array(file: str):
    with open(file, 'rb') as f:
        data = f.read()
    if data[:2] == b'\x1f\x8b':
        data = gzip.decompress(data)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f'{file} is not an IDX file (it does not start with two zero bytes)')
    if data[2] != 0x08:
        raise ValueError(f'{file} holds IDX type 0x{data[2]:x}; only unsigned bytes (0x08) are supported')
    rank = data[3]
    dims = list(struct.unpack(f'>{rank}I', data[4:4 + 4 * rank]))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank)
    if body.size != int(np.prod(dims)):
        raise ValueError(f'{file} declares {"×".join(map(str, dims))} values but holds {body.size}')
    return dims, body


def read_idx(file: str) -> np.ndarray:
    """An IDX file of unsigned bytes (.gz or raw) as [count, H, W, C] uint8."""
    dims, body = _read_idx_array(file)
    rank = len(dims)
    if not (rank == 3 or (rank == 4 and dims[3] in (1, 3))):
        raise ValueError(f'{file} holds an array of {"×".join(map(str, dims))}: images need count × height × width (× 1 or 3 channels)')
    return body.reshape(dims[0], dims[1], dims[2], dims[3] if rank == 4 else 1)


def read_idx_labels(file: str) -> np.ndarray:
    """An IDX labels file (1-D, one unsigned byte per image) as uint8."""
    dims, body = _read_idx_array(file)
    if len(dims) != 1:
        raise ValueError(f'{file} holds an array of {"×".join(map(str, dims))}, not labels (a 1-D array, one byte per image)')
    return body


def _coverage(n_from: int, n_to: int) -> np.ndarray:
    """[n_to, n_from] area weights of each source index for each destination index."""
    scale = n_from / n_to
    w = np.zeros((n_to, n_from), dtype=np.float32)
    for d in range(n_to):
        lo, hi = d * scale, (d + 1) * scale
        for s in range(math.floor(lo), min(n_from, math.ceil(hi))):
            w[d, s] = (min(hi, s + 1) - max(lo, s)) / scale
    return w


def fit_images(images: np.ndarray, height: int, width: int, channels: int) -> np.ndarray:
    """Resample (area-weighted) and convert grey ↔ RGB, as src/data/images.ts."""
    n, h, w, c = images.shape
    if (h, w, c) == (height, width, channels):
        return images
    x = images.astype(np.float32)
    x = np.einsum('xw,nhwc->nhxc', _coverage(w, width), x)
    x = np.einsum('yh,nhxc->nyxc', _coverage(h, height), x)
    if c == 3 and channels == 1:
        x = 0.299 * x[..., :1] + 0.587 * x[..., 1:2] + 0.114 * x[..., 2:3]
    elif c == 1 and channels == 3:
        x = np.repeat(x, 3, axis=-1)
    elif c != channels:
        raise ValueError(f'cannot convert images with {c} channels to {channels}')
    return np.floor(x + 0.5).astype(np.uint8)


DATASET_SHAPES = {'mnist': (28, 28, 1), 'fashion-mnist': (28, 28, 1), 'emoji': (32, 32, 3), 'folder': (32, 32, 3)}


def bundled_data_dir() -> str:
    """Where the bundled sets are: $PIXEL_LAB_DATA, data/ beside this package (a folder made by `pixel-lab export`),
    or the repository's dist/data (built by `npm run build`)."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.environ.get('PIXEL_LAB_DATA'), os.path.join(os.path.dirname(here), 'data'), os.path.join(os.path.dirname(os.path.dirname(here)), 'dist', 'data')]
    return next((c for c in candidates if c and os.path.isdir(c)), candidates[-1])


DATASET_CLASSES = {'mnist': [str(k) for k in range(10)],
                   'fashion-mnist': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']}


class Dataset:
    """An experiment's images at its size, [count, H, W, C] uint8, as src/data/node-load.ts loads them: the official
    test set (data.test) appended as the last `test_count`; `labels` one per image (or None) and `class_names`."""

    def __init__(self, images: np.ndarray, labels=None, test_count: int = 0, class_names=None):
        self.images, self.labels, self.test_count, self.class_names = images, labels, test_count, class_names


def _labels_for(file: str, images: str, count: int, key: str, experiment_file: str) -> np.ndarray:
    labels = read_idx_labels(file)
    if len(labels) != count:
        raise ValueError(f'{experiment_file}: {key}: {file} holds {len(labels):,} labels but {images} holds {count:,} images: '
                         'a labels file needs one label per image')
    return labels


def _limited(images: np.ndarray, labels, data: dict):
    if data.get('limit') and data['limit'] < len(images):
        chosen = permutation(len(images), (data['seed'] ^ 0x5BD1E995) & M32)[:data['limit']]
        return images[chosen], (labels[chosen] if labels is not None else None)
    return images, labels


def load_dataset(experiment: dict, experiment_file: str) -> Dataset:
    """The experiment's images, labels and official test set (see Dataset)."""
    data = experiment['data']
    dataset = data['dataset']
    if dataset == 'folder':
        raise ValueError('the PyTorch trainer reads bundled datasets and IDX files; convert an image folder to IDX first')
    base = os.path.dirname(os.path.abspath(experiment_file))
    labels, class_names, test_count = None, None, 0
    if dataset == 'idx':
        file = os.path.join(base, data['path'])
        if not os.path.isfile(file):
            raise ValueError(f'{experiment_file}: data.path: no such file: {file}')
        images = read_idx(file)
        if data.get('labels'):
            labels = _labels_for(os.path.join(base, data['labels']), file, len(images), 'data.labels', experiment_file)
        if data.get('test'):
            test_file = os.path.join(base, data['test'])
            if not os.path.isfile(test_file):
                raise ValueError(f'{experiment_file}: data.test: no such file: {test_file}')
            test = read_idx(test_file)
            if test.shape[1:] != images.shape[1:]:
                raise ValueError(f'{experiment_file}: data.test: {test_file} holds {"×".join(map(str, test.shape[1:]))} images but {file} '
                                 f'holds {"×".join(map(str, images.shape[1:]))}: the test set must be the same kind of image')
            test_labels = _labels_for(os.path.join(base, data['testLabels']), test_file, len(test), 'data.testLabels', experiment_file) if data.get('testLabels') else None
            if labels is not None and test_labels is None:
                raise ValueError(f'{experiment_file}: data.test: the training images have labels (data.labels), so the test set needs its own: add data.testLabels')
            images, labels = _limited(images, labels, data)
            images = np.concatenate([images, test])
            labels = np.concatenate([labels, test_labels]) if labels is not None and test_labels is not None else None
            test_count = len(test)
        if labels is not None:
            class_names = [str(k) for k in range(int(labels.max()) + 1)]
    else:
        file = os.path.join(bundled_data_dir(), f'{dataset}-images.idx.gz')
        if not os.path.isfile(file):
            raise ValueError(f'the bundled {dataset} dataset is not built ({file} is missing): run npm run build')
        images = read_idx(file)
        labels_file = os.path.join(bundled_data_dir(), f'{dataset}-labels.idx.gz')
        if dataset in DATASET_CLASSES and os.path.isfile(labels_file):
            labels = _labels_for(labels_file, file, len(images), 'the bundled labels', file)
            class_names = DATASET_CLASSES[dataset]
    if not test_count:
        images, labels = _limited(images, labels, data)
    shape = image_shape(experiment, images.shape[1:])
    return Dataset(fit_images(images, *shape), labels, test_count, class_names)


def load_images(experiment: dict, experiment_file: str) -> np.ndarray:
    """The experiment's images at its size, [count, H, W, C] uint8 (bytes 0–255; an official test set appended)."""
    return load_dataset(experiment, experiment_file).images


def image_shape(experiment: dict, own) -> tuple:
    """(height, width, channels): the experiment's where it sets them, else the dataset's own images'."""
    data = experiment['data']
    base = own if data['dataset'] == 'idx' else DATASET_SHAPES[data['dataset']]
    return (data.get('height') or base[0], data.get('width') or base[1], data.get('channels') or (3 if base[2] == 3 else 1))


# ---- batches ---------------------------------------------------------------------------------------------------

class Batches:
    """The batch of training step s and the validation and test images, encoded exactly as src/data/batches.ts
    encodes them: training images seeded by training.seed (per epoch), validation and test images by data.seed."""

    def __init__(self, images, experiment: dict):
        data = experiment['data']
        dataset = images if isinstance(images, Dataset) else Dataset(images)
        self.images = dataset.images
        self.labels = dataset.labels
        self.levels = data['levels']
        self.binarize = data['binarize']
        self.threshold = data['threshold']
        self.seed = experiment['training']['seed']
        self.held_out_seed = data['seed']
        self.train_indices, self.validation_indices, self.test_indices = experiment_split(experiment, len(self.images), dataset.test_count)
        self._epoch, self._order = -1, None

    def _encode(self, indices, epochs, seed: int) -> np.ndarray:
        x = self.images[indices].astype(np.float64)
        if len(x) == 0:
            return x.astype(np.float32)
        if self.levels > 2:
            return np.floor(x * self.levels / 256).astype(np.float32)
        if self.binarize == 'stochastic':
            seeds = np.array([image_seed(seed, e, int(i)) for i, e in zip(indices, epochs)], dtype=np.uint64)
            u = uniform_streams(seeds, x[0].size).reshape(x.shape)
            return (u < x / 255).astype(np.float32)
        return (x >= self.threshold * 255).astype(np.float32)

    def _train_images(self, step: int, size: int, part: slice):
        """Which images the batch of training step `step` holds (its `part`), and the epoch of each."""
        n = len(self.train_indices)
        indices, epochs = [], []
        for k in range(size)[part]:
            position = step * size + k
            epoch = position // n
            if epoch != self._epoch:
                self._epoch, self._order = epoch, permutation(n, image_seed(self.seed, epoch, -1))
            indices.append(self.train_indices[self._order[position % n]])
            epochs.append(epoch)
        return np.array(indices, dtype=np.int64), epochs

    def train(self, step: int, size: int, part: slice = slice(None)) -> np.ndarray:
        """The batch of training step `step` (0-based), [size, H, W, C]; `part` picks some of its images (one
        rank's share under DDP) without encoding the others."""
        indices, epochs = self._train_images(step, size, part)
        return self._encode(indices, epochs, self.seed)

    def _labels(self) -> np.ndarray:
        if self.labels is None:
            raise ValueError('these images have no class labels (a class-conditional model needs one per image)')
        return self.labels

    def train_labels(self, step: int, size: int, part: slice = slice(None)) -> np.ndarray:
        """The class label of each image of train(step, size, part), in the same order (int64)."""
        labels = self._labels()
        return labels[self._train_images(step, size, part)[0]].astype(np.int64)

    def _held_out_indices(self, split: str, start: int, size: int) -> np.ndarray:
        return (self.validation_indices if split == 'validation' else self.test_indices)[start:start + size]

    def held_out(self, split: str, start: int, size: int) -> np.ndarray:
        """Validation or test images start … start + size − 1, encoded the same way every time."""
        indices = self._held_out_indices(split, start, size)
        return self._encode(indices, [-1] * len(indices), self.held_out_seed)

    def held_out_labels(self, split: str, start: int, size: int) -> np.ndarray:
        """The class label of each image of held_out(split, start, size), in the same order (int64)."""
        return self._labels()[self._held_out_indices(split, start, size)].astype(np.int64)

    def test(self, start: int, size: int) -> np.ndarray:
        return self.held_out('test', start, size)
