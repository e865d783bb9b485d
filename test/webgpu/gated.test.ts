/**
 * Gated PixelCNN's gate fused on WebGPU (src/backend/webgpu/gated.ts) against the cpu backend's tanh(a) ⊙ σ(b):
 * value and gradient on an odd shape, with inputs large enough to saturate both — one dispatch each way.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { countDispatches } from '../../src/bench/dispatch-count';
import { gatedActivation } from '../../src/model/layers';
import { Random } from '../../src/model/random';
import { relativeError, useDawn } from './dawn';

beforeAll(useDawn);

const SHAPE = [2, 3, 5, 14];

function values(n: number, seed: number, scale: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

async function gate(backend: 'cpu' | 'webgpu'): Promise<{ y: Float32Array; dx: Float32Array }> {
  await tf.setBackend(backend);
  const x = tf.tensor4d(values(2 * 3 * 5 * 14, 1, 12), SHAPE as [number, number, number, number]);
  const dy = tf.tensor4d(values(2 * 3 * 5 * 7, 2, 1), [2, 3, 5, 7]);
  const y = gatedActivation(x);
  const dx = tf.grad((input: tf.Tensor) => gatedActivation(input))(x, dy);
  const out = { y: (await y.data()) as Float32Array, dx: (await dx.data()) as Float32Array };
  tf.dispose([x, dy, y, dx]);
  return out;
}

describe('fused gate on WebGPU', () => {
  it('value and gradient match the cpu backend within 1e-4', async () => {
    const expected = await gate('cpu');
    const actual = await gate('webgpu');
    expect(relativeError(actual.y, expected.y)).toBeLessThanOrEqual(1e-4);
    expect(relativeError(actual.dx, expected.dx)).toBeLessThanOrEqual(1e-4);
  });

  it('costs one dispatch forward and one backward', async () => {
    await tf.setBackend('webgpu');
    const x = tf.tensor4d(values(2 * 3 * 5 * 14, 1, 3), SHAPE as [number, number, number, number]);
    const dy = tf.ones([2, 3, 5, 7]);
    const counted = await countDispatches(async () => {
      const dx = tf.grad((input: tf.Tensor) => gatedActivation(input))(x, dy);
      await dx.data();
      dx.dispose();
    });
    expect(counted.dispatches).toBe(2);
    tf.dispose([x, dy]);
  });
});
