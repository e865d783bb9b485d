/**
 * The Bernoulli training loss fused on WebGPU (src/backend/webgpu/bernoulli-loss.ts) against the cpu backend's
 * unfused ops: the mean NLL per dimension and its gradient, on an odd shape, with logits large enough to saturate
 * σ both ways and images cast from bool as the trainer makes them — one dispatch each way.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { countDispatches } from '../../src/bench/dispatch-count';
import { BernoulliHead, meanNllPerDim } from '../../src/model/heads';
import { Random } from '../../src/model/random';
import { relativeError, useDawn } from './dawn';

beforeAll(useDawn);

const SHAPE: [number, number, number, number] = [3, 5, 7, 3];
const head = new BernoulliHead();

function values(n: number, seed: number, scale: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

function inputs(): { logits: tf.Tensor4D; x: tf.Tensor4D } {
  const n = SHAPE.reduce((a, b) => a * b, 1);
  const logits = tf.tensor4d(values(n, 1, 30), SHAPE);
  const x = tf.tidy(() => tf.cast(tf.greater(tf.tensor4d(values(n, 2, 1), SHAPE), 0), 'float32')) as tf.Tensor4D;
  return { logits, x };
}

async function loss(backend: 'cpu' | 'webgpu'): Promise<{ value: Float32Array; dLogits: Float32Array }> {
  await tf.setBackend(backend);
  const { logits, x } = inputs();
  const { value, grad } = tf.valueAndGrad((l: tf.Tensor) => meanNllPerDim(head, l, x))(logits);
  const out = { value: (await value.data()) as Float32Array, dLogits: (await grad.data()) as Float32Array };
  tf.dispose([logits, x, value, grad]);
  return out;
}

describe('fused Bernoulli loss on WebGPU', () => {
  it('value and gradient match the cpu backend within 1e-4', async () => {
    const expected = await loss('cpu');
    const actual = await loss('webgpu');
    expect(actual.value[0]).toBeGreaterThan(1);
    expect(relativeError(actual.value, expected.value)).toBeLessThanOrEqual(1e-4);
    expect(relativeError(actual.dLogits, expected.dLogits)).toBeLessThanOrEqual(1e-4);
  });

  it('costs one dispatch forward and one backward', async () => {
    await tf.setBackend('webgpu');
    const { logits, x } = inputs();
    const counted = await countDispatches(async () => {
      const { value, grad } = tf.valueAndGrad((l: tf.Tensor) => meanNllPerDim(head, l, x))(logits);
      await Promise.all([value.data(), grad.data()]);
      tf.dispose([value, grad]);
    });
    expect(counted.dispatches).toBe(2);
    tf.dispose([logits, x]);
  });
});
