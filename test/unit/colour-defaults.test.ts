/** The minimal colour experiment trains with every model: the default features follow the channel count. */
import * as tf from '@tensorflow/tfjs-core';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { experimentBatches } from '../../src/data/batches';
import { loadImages } from '../../src/data/node-load';
import { modelConfigOf, parseExperiment } from '../../src/experiment/experiment';
import { MODEL_TYPES } from '../../src/model/config';
import { createModel } from '../../src/model/index';
import { createOptimizer } from '../../src/train/checkpoint';
import { trainStep } from '../../src/train/step';
import { useBackend } from '../support/engine';

beforeAll(() => useBackend('wasm'));

describe('minimal colour experiments', () => {
  it.each(MODEL_TYPES.map((t) => [t]))('%s trains from {"model": {"type": …}, "data": {"dataset": "emoji", 8×8}}', async (type) => {
    const text = JSON.stringify({ model: { type }, data: { dataset: 'emoji', height: 8, width: 8 } });
    const file = path.resolve(__dirname, `../../minimal-${type}.pixel.json`);
    const e = parseExperiment(text, file);
    const batches = experimentBatches(e, loadImages(e, file, text).set);
    expect(batches.shape).toEqual({ height: 8, width: 8, channels: 3 });
    const model = createModel(modelConfigOf(e, batches.shape));
    const optimizer = createOptimizer(e.training.optimizer, e.training.learningRate);
    const losses: number[] = [];
    for (let step = 0; step < 2; step++) {
      const x = tf.tensor4d(batches.train(step, e.training.batchSize), [e.training.batchSize, 8, 8, 3]);
      losses.push(await trainStep(model, optimizer, x));
      x.dispose();
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    optimizer.dispose();
    model.dispose();
  });
});
