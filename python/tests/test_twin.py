"""Unit tests of the twin's own pieces (python3 -m unittest discover -s python/tests; run by npm test through
test/unit/torch-python.test.ts). The cross-engine checks are the TS tests test/unit/torch-*.test.ts."""
import os
import struct
import sys
import tempfile
import unittest
import zlib

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

from pixel_lab import create_model  # noqa: E402
from pixel_lab.data import Random, uniform_streams  # noqa: E402
from pixel_lab.layers import skew, unskew  # noqa: E402
from pixel_lab.masks import build_mask, causal_geometry, colour_groups  # noqa: E402
from pixel_lab.png import encode_png, grid_pixels  # noqa: E402
from pixel_lab.safetensors_io import decode, encode, load_model, save_model  # noqa: E402


def config(type_, channels=3, head=None):
    return {'type': type_, 'image': {'height': 5, 'width': 4, 'channels': channels},
            'head': head or {'kind': 'categorical', 'levels': 4}, 'layers': 2, 'hidden': 6, 'firstKernel': 3,
            'kernel': 3, 'residual': True, 'outputHidden': 6, 'seed': 2}


class Masks(unittest.TestCase):
    def test_centre_taps_follow_the_colour_order(self):
        groups = colour_groups(3, 3)
        a = build_mask(causal_geometry(3, 3, 'A'), groups, groups)
        b = build_mask(causal_geometry(3, 3, 'B'), groups, groups)
        self.assertEqual(tuple(a.shape), (2, 3, 3, 3))  # the rows below the centre are not stored
        self.assertEqual(a[1, 1].tolist(), [[0, 1, 1], [0, 0, 1], [0, 0, 0]])  # R → G → B, not itself
        self.assertEqual(b[1, 1].tolist(), [[1, 1, 1], [0, 1, 1], [0, 0, 1]])
        self.assertEqual(a[1, 2].abs().sum().item(), 0)  # right of the centre
        self.assertTrue(bool(a[0].eq(1).all()))  # the row above

    def test_gate_blocks_share_the_unit_groups(self):
        self.assertEqual(colour_groups(12, 3, chunks=4).tolist(), [0, 1, 2] * 4)


class Layers(unittest.TestCase):
    def test_unskew_inverts_skew(self):
        x = torch.randn(2, 3, 5, 4)
        s = skew(x)
        self.assertEqual(tuple(s.shape), (2, 3, 5, 8))
        self.assertTrue(torch.equal(s[:, :, 2, 2:6], x[:, :, 2]))
        self.assertTrue(torch.equal(unskew(s, 4), x))


class Safetensors(unittest.TestCase):
    def test_round_trip_and_damage(self):
        tensors = {'a/kernel': torch.randn(2, 3), 'n': torch.tensor([1, 2], dtype=torch.int32)}
        data = encode(tensors, {'k': 'v'})
        (n,) = struct.unpack('<Q', data[:8])
        self.assertEqual(n % 8, 0)
        back, meta = decode(data)
        self.assertEqual(meta, {'k': 'v'})
        for k, v in tensors.items():
            self.assertTrue(torch.equal(back[k], v))
        with self.assertRaisesRegex(ValueError, 'truncated'):
            decode(data[:20])
        with self.assertRaisesRegex(ValueError, 'does not fit'):
            decode(data[:-4])

    def test_every_model_saves_and_loads_with_the_same_logits(self):
        for type_ in ('pixelcnn', 'row-lstm', 'diagonal-bilstm', 'gated-pixelcnn'):
            model = create_model(config(type_))
            x = torch.randint(0, 4, (2, 5, 4, 3)).float()
            with tempfile.TemporaryDirectory() as d:
                save_model(model, os.path.join(d, 'm.safetensors'))
                loaded = load_model(os.path.join(d, 'm.safetensors'))
            with torch.no_grad():
                self.assertTrue(torch.equal(model(x), loaded(x)), type_)


class Causality(unittest.TestCase):
    def test_no_output_depends_on_its_own_or_a_later_input(self):
        for type_ in ('pixelcnn', 'row-lstm', 'diagonal-bilstm', 'gated-pixelcnn'):
            model = create_model(config(type_)).double()
            x = torch.randint(0, 4, (1, 5, 4, 3)).double().requires_grad_(True)
            logits = model(x)
            d = 5 * 4 * 3
            for e in range(d):
                grad, = torch.autograd.grad(logits.reshape(d, 4)[e].sum(), x, retain_graph=True)
                self.assertEqual(grad.reshape(d)[e:].abs().sum().item(), 0, f'{type_} output {e}')


class Data(unittest.TestCase):
    def test_vectorised_streams_equal_the_generator(self):
        seeds = np.array([0, 1, 2 ** 32 - 1], dtype=np.uint64)
        streams = uniform_streams(seeds, 50)
        for s, row in zip(seeds, streams):
            r = Random(int(s))
            self.assertEqual(row.tolist(), [r.next() for _ in range(50)])


class Png(unittest.TestCase):
    def test_grid_is_a_valid_png_of_the_grid_size(self):
        images = np.random.default_rng(0).integers(0, 2, (5, 6, 7, 1))
        rgba = grid_pixels(images, 2)
        png = encode_png(rgba)
        self.assertEqual(png[:8], b'\x89PNG\r\n\x1a\n')
        width, height = struct.unpack('>II', png[16:24])
        self.assertEqual((height, width), rgba.shape[:2])
        idat = png[png.index(b'IDAT') + 4:png.index(b'IEND') - 8]
        self.assertEqual(len(zlib.decompress(idat)), height * (1 + 4 * width))


if __name__ == '__main__':
    unittest.main()
