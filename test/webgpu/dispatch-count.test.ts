/** The dispatch counter of `bench --backend webgpu` counts what TF.js sends to the GPU. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { countDispatches } from '../../src/bench/dispatch-count';
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
