/** The training-memory estimate errs high: it is checked against the peak memory of real training steps. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatBytes, parameterBound, trainingMemory } from '../../src/experiment/estimate';
import { MODEL_TYPES, type ModelConfig } from '../../src/model/config';
import { createModel } from '../../src/model/index';
import { createOptimizer } from '../../src/train/checkpoint';
import { batchLoss } from '../../src/train/step';
import { useBackend } from '../support/engine';

beforeAll(() => useBackend('wasm'));

/** Peak bytes of tensors while one model exists and takes two training steps (the second has the optimiser's slots). */
async function measuredPeak(config: ModelConfig, batchSize: number, optimizerName: 'adam' | 'rmsprop'): Promise<{ peak: number; parameters: number }> {
  const before = tf.memory().numBytes;
  const model = createModel(config);
  const optimizer = createOptimizer(optimizerName, 1e-3);
  const { height, width, channels } = config.image;
  const x = tf.zeros([batchSize, height, width, channels]) as tf.Tensor4D;
  const step = () => {
    optimizer.minimize(() => batchLoss(model, x), false, model.params.variables);
  };
  await tf.profile(step);
  const { peakBytes } = await tf.profile(step);
  const parameters = model.params.variables.reduce((n, v) => n + v.size, 0);
  optimizer.dispose();
  model.dispose();
  x.dispose();
  return { peak: peakBytes - before, parameters };
}

describe('training memory estimate', () => {
  const shapes: [string, Partial<ModelConfig>, number][] = [
    ['grey, binary, 2 layers', { image: { height: 8, width: 8, channels: 1 }, head: { kind: 'bernoulli' }, layers: 2, hidden: 12, outputHidden: 24 }, 4],
    ['colour, 16 levels, no residual, kernel 5', { image: { height: 6, width: 10, channels: 3 }, head: { kind: 'categorical', levels: 16 }, layers: 1, hidden: 9, outputHidden: 0, residual: false, kernel: 5 }, 3],
  ];
  it.each(MODEL_TYPES.flatMap((type) => shapes.map(([name, o, batch]) => [type, name, o, batch] as const)))('%s, %s: at or above the measured peak', async (type, _name, overrides, batch) => {
    const config = { type, image: { height: 8, width: 8, channels: 1 }, head: { kind: 'bernoulli' }, layers: 2, hidden: 12, firstKernel: 5, kernel: 3, residual: true, outputHidden: 24, seed: 1, ...overrides } as ModelConfig;
    const { peak, parameters } = await measuredPeak(config, batch, type === 'row-lstm' ? 'rmsprop' : 'adam');
    const estimate = trainingMemory(config, batch);
    expect(parameterBound(config)).toBeGreaterThanOrEqual(parameters);
    expect(estimate.bytes).toBeGreaterThanOrEqual(peak);
    // High, but not wildly so: a tight enough estimate does not refuse what would fit.
    expect(estimate.bytes).toBeLessThan(3 * peak);
  });

  it('writes sizes as people read them', () => {
    expect([300 * 1024 ** 2, 9.31 * 1024 ** 3, 3 * 1024 ** 3, 2416.4 * 1024 ** 3].map(formatBytes)).toEqual(['300 MiB', '9.3 GiB', '3 GiB', '2,416 GiB']);
  });
});
