/** The dispatch counter of `bench --backend webgpu` counts what TF.js sends to the GPU; what a training step costs. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { countDispatches } from '../../src/bench/dispatch-count';
import { REFERENCE } from '../../src/bench/speed';
import { countTraining, WEBGPU_BATCH } from '../../src/bench/webgpu';
import { useDawn } from './dawn';

beforeAll(useDawn);

describe('countDispatches', () => {
  it('counts one dispatch for one elementwise op, and the submit that reading it back makes', async () => {
    // Big enough that TF.js runs it on the GPU (it hands tensors under 128 values on the CPU to its cpu kernels).
    const a = tf.range(0, 1000);
    const b = tf.fill([1000], 2);
    const counted = await countDispatches(async () => {
      const c = tf.add(a, b);
      const values = await c.data();
      c.dispose();
      return Array.from(values);
    });
    expect(counted.result.slice(0, 3)).toEqual([2, 3, 4]);
    expect(counted.result[999]).toBe(1001);
    expect(counted.dispatches).toBe(1);
    expect(counted.submits).toBeGreaterThanOrEqual(1);
    tf.dispose([a, b]);
  });

  it('counts every op of a chain, and one submit per WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE dispatches', async () => {
    const batch = tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE');
    const x = tf.zeros([1000]);
    const ops = 2 * batch;
    const counted = await countDispatches(() => {
      let y: tf.Tensor = x;
      for (let k = 0; k < ops; k++) {
        const next = tf.add(y, 1);
        if (y !== x) y.dispose();
        y = next;
      }
      y.dispose();
    });
    expect(counted.dispatches).toBe(ops);
    expect(counted.submits).toBe(2);
    x.dispose();
  });
});

/**
 * Issue 12 §2: one training step at the reference configuration of `bench --backend webgpu` (batch 2, 28×28×1,
 * h = 32, Adam), counted as the bench counts it. Counts are deterministic: these are the counts measured, held
 * as upper bounds (the targets: PixelCNN ≤ 60, Row LSTM ≤ 150, Diagonal BiLSTM ≤ 450, Gated ≤ 150).
 */
const TRAINING_STEP_BOUNDS: Record<string, number> = { pixelcnn: 46, 'row-lstm': 74, 'diagonal-bilstm': 288, 'gated-pixelcnn': 132 };

describe('a training step at the reference configuration', () => {
  it.each(Object.entries(TRAINING_STEP_BOUNDS))('%s: at most %i dispatches, with a finite loss', async (name, bound) => {
    await tf.setBackend('webgpu');
    const config = { ...REFERENCE[name].config, image: { height: 28, width: 28, channels: 1 as const } };
    const counted = await countTraining(config, WEBGPU_BATCH, 0);
    expect(counted.dispatches).toBeLessThanOrEqual(bound);
    expect(Number.isFinite(counted.loss)).toBe(true);
  });
});
