/**
 * The kernels supplied for the wasm backend match the cpu backend (relative error ≤ 1e-4) on the shapes the
 * models use: 1×1, 1×3, 2×1, 3×3 and 7×7 kernels, with 'same', 'valid' and explicit asymmetric padding.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../support/engine';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

beforeAll(async () => {
  await useBackend('wasm');
  await useBackend('cpu');
});

async function onBackend(name: 'cpu' | 'wasm', f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(name);
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const values = await Promise.all(list.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(list);
  return values;
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let k = 0; k < expected.length; k++) {
    diff = Math.max(diff, Math.abs(actual[k] - expected[k]));
    scale = Math.max(scale, Math.abs(expected[k]));
  }
  return diff / Math.max(scale, 1e-12);
}

function seeded(shape: number[], seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 1073741824 - 1;
  });
}

const convCases: [string, number[], number[], Pad][] = [
  ['1×1', [2, 5, 6, 4], [1, 1, 4, 8], 'same'],
  ['1×3 same', [3, 1, 9, 5], [1, 3, 5, 12], 'same'],
  ['1×3 one input channel (a Row LSTM reading the image)', [3, 4, 8, 1], [1, 3, 1, 12], 'same'],
  ['1×3 wide (the Row LSTM state-to-state, steps as batch)', [40, 1, 9, 32], [1, 3, 32, 48], 'same'],
  ['1×2 left-padded (a stored causal 1×3)', [2, 4, 7, 6], [1, 2, 6, 8], [[0, 0], [0, 0], [1, 0], [0, 0]]],
  ['2×1 top-padded (diagonal state-to-state)', [2, 9, 1, 8], [2, 1, 8, 16], [[0, 0], [1, 0], [0, 0], [0, 0]]],
  ['3×3 same', [2, 6, 7, 5], [3, 3, 5, 6], 'same'],
  ['2×3 causal (stored 3×3 mask)', [2, 8, 8, 6], [2, 3, 6, 6], [[0, 0], [1, 0], [1, 1], [0, 0]]],
  ['7×7 same', [2, 9, 10, 3], [7, 7, 3, 4], 'same'],
  ['4×7 causal (stored 7×7 mask)', [2, 9, 9, 1], [4, 7, 1, 8], [[0, 0], [3, 0], [3, 3], [0, 0]]],
  ['3×3 valid', [2, 6, 6, 3], [3, 3, 3, 4], 'valid'],
];

describe('convolution gradients on wasm match cpu', () => {
  it.each(convCases)('%s', async (_, xShape, wShape, pad) => {
    const x0 = seeded(xShape, 1);
    const w0 = seeded(wShape, 2);
    const compute = () => {
      const x = tf.tensor4d(x0, xShape as [number, number, number, number]);
      const w = tf.tensor4d(w0, wShape as [number, number, number, number]);
      const y = tf.conv2d(x, w, 1, pad);
      const dy = tf.tensor(seeded(y.shape, 3), y.shape);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad), dy)))([x, w]);
      return [y, dx, dw];
    };
    const expected = await onBackend('cpu', compute);
    const actual = await onBackend('wasm', compute);
    ['forward', 'dx', 'dW'].forEach((what, k) => {
      expect(actual[k].length, what).toBe(expected[k].length);
      expect(relativeError(actual[k], expected[k]), what).toBeLessThanOrEqual(1e-4);
    });
  });
});

describe('slicing, reversing, concatenating, tanh, sums on wasm match cpu', () => {
  const x0 = seeded([3, 5, 7, 6], 4);
  const cases: [string, () => tf.Tensor | tf.Tensor[]][] = [
    ['slice inner box', () => tf.slice(tf.tensor4d(x0, [3, 5, 7, 6]), [1, 2, 3, 1], [2, 2, 3, 4])],
    ['slice full rows (one run)', () => tf.slice(tf.tensor4d(x0, [3, 5, 7, 6]), [1, 0, 0, 0], [1, 5, 7, 6])],
    ['slice last axis only', () => tf.slice(tf.tensor4d(x0, [3, 5, 7, 6]), [0, 0, 0, 2], [3, 5, 7, 3])],
    ['slice rank 5', () => tf.slice(tf.tensor(x0, [3, 5, 7, 3, 2]), [1, 1, 2, 0, 1], [2, 3, 4, 3, 1])],
    ['slice rank 1', () => tf.slice(tf.tensor1d(x0), [17], [40])],
    ['unstack axis 1', () => tf.unstack(tf.tensor4d(x0, [3, 5, 7, 6]), 1)],
    ['unstack axis 2', () => tf.unstack(tf.tensor4d(x0, [3, 5, 7, 6]), 2)],
    ['unstack axis 0', () => tf.unstack(tf.tensor4d(x0, [3, 5, 7, 6]), 0)],
    ['split last axis in 3', () => tf.split(tf.tensor4d(x0, [3, 5, 7, 6]), 3, -1)],
    ['split uneven sizes', () => tf.split(tf.tensor4d(x0, [3, 5, 7, 6]), [1, 3, 1], 1)],
    ['reverse width', () => tf.reverse(tf.tensor4d(x0, [3, 5, 7, 6]), 2)],
    ['reverse two axes', () => tf.reverse(tf.tensor4d(x0, [3, 5, 7, 6]), [1, 3])],
    ['reverse rank 1', () => tf.reverse(tf.tensor1d(x0), 0)],
    ['concat gate blocks', () => tf.concat(tf.split(tf.tensor4d(x0, [3, 5, 7, 6]), [1, 2, 3], 3).reverse(), 3)],
    ['concat along rows', () => tf.concat([tf.tensor4d(x0, [3, 5, 7, 6]), tf.ones([3, 2, 7, 6])], 1)],
    ['clone and same-type cast share data correctly', () => [tf.clone(tf.tensor4d(x0, [3, 5, 7, 6])), tf.cast(tf.tensor1d(x0), 'float32')]],
    ['tanh over a wide range', () => tf.tanh(tf.mul(tf.tensor4d(x0, [3, 5, 7, 6]), 12))],
    ['sum over leading axes (a bias gradient)', () => tf.sum(tf.tensor4d(x0, [3, 5, 7, 6]), [0, 1, 2])],
    ['sum over leading axes, dims kept', () => tf.sum(tf.tensor4d(x0, [3, 5, 7, 6]), [1, 0], true)],
    ['sum over inner axes (the stock kernel)', () => tf.sum(tf.tensor4d(x0, [3, 5, 7, 6]), [1, 3])],
    ['sum over everything', () => tf.sum(tf.tensor4d(x0, [3, 5, 7, 6]))],
    ['int32 slice', () => tf.cast(tf.slice(tf.cast(tf.mul(tf.tensor4d(x0, [3, 5, 7, 6]), 100), 'int32'), [0, 1, 1, 1], [2, 2, 2, 2]), 'float32')],
  ];
  it.each(cases)('%s', async (name, f) => {
    const expected = await onBackend('cpu', f);
    const actual = await onBackend('wasm', f);
    expect(actual.length).toBe(expected.length);
    // Copies are exact; tanh (computed as 2σ(2x) − 1) within 1e-6, sums (in another order) within 1e-5.
    const tolerance = name.startsWith('tanh') ? 1e-6 : name.startsWith('sum') ? 1e-5 : 0;
    actual.forEach((a, k) => expect(relativeError(a, expected[k])).toBeLessThanOrEqual(tolerance));
  });
});
