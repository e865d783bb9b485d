/** Checkpoints and restores leave no tensors behind (each leak is GPU memory in the panel, click after click). */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../../src/model/index';
import { captureCheckpoint, createOptimizer, decodeCheckpoint, encodeCheckpoint, restoreCheckpoint, restoreModel } from '../../src/train/checkpoint';
import { trainStep } from '../../src/train/step';
import { CATEGORICAL, randomImages, smallConfig, useBackend } from '../support/engine';

beforeAll(() => useBackend('wasm'));

describe.each([['adam'], ['rmsprop']] as const)('%s', (name) => {
  it('capture + encode, and decode + restore + dispose, keep the number of tensors flat', async () => {
    const config = smallConfig('pixelcnn', 1, CATEGORICAL);
    const model = createModel(config);
    const optimizer = createOptimizer(name, 1e-3);
    const x = tf.tensor4d(randomImages(config, 2, 1), [2, 7, 7, 1]);
    for (let k = 0; k < 2; k++) await trainStep(model, optimizer, x); // the optimiser's slots exist
    const state = { step: 2, bestTestNats: null, bestStep: null };

    const beforeCapture = tf.memory().numTensors;
    let bytes: Uint8Array = new Uint8Array();
    for (let k = 0; k < 5; k++) bytes = encodeCheckpoint(await captureCheckpoint(model, optimizer, name, 1e-3, state));
    expect(tf.memory().numTensors).toBe(beforeCapture);

    const beforeRestore = tf.memory().numTensors;
    for (let k = 0; k < 5; k++) {
      const restored = await restoreCheckpoint(decodeCheckpoint(bytes));
      // The restored pair is usable: it trains on.
      await trainStep(restored.model, restored.optimizer, x);
      restored.model.dispose();
      restored.optimizer.dispose();
    }
    expect(tf.memory().numTensors).toBe(beforeRestore);

    // Showing a run needs the model only: restoring just it leaves nothing either.
    for (let k = 0; k < 5; k++) restoreModel(decodeCheckpoint(bytes)).dispose();
    expect(tf.memory().numTensors).toBe(beforeRestore);
    x.dispose();
    model.dispose();
    optimizer.dispose();
  });
});

describe('a checkpoint that does not fit', () => {
  it('is refused and leaves no tensors behind', async () => {
    const pixelcnn = createModel(smallConfig('pixelcnn', 1, CATEGORICAL));
    const gated = createModel(smallConfig('gated-pixelcnn', 1, CATEGORICAL));
    const optimizer = createOptimizer('adam', 1e-3);
    const state = { step: 0, bestTestNats: null, bestStep: null };
    const own = await captureCheckpoint(pixelcnn, optimizer, 'adam', 1e-3, state);
    const other = await captureCheckpoint(gated, optimizer, 'adam', 1e-3, state);
    const before = tf.memory().numTensors;
    // Another architecture's weights under this configuration.
    await expect(restoreCheckpoint({ ...own, model: { ...other.model, config: own.model.config } })).rejects.toThrow(/do not fit this architecture/);
    expect(tf.memory().numTensors).toBe(before);
    [pixelcnn, gated, optimizer].forEach((d) => d.dispose());
  });
});
