/** Save and load: a loaded model gives exactly the same NLL; broken or mismatched files are refused clearly. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODEL_TYPES } from '../../src/model/config';
import { nllNats } from '../../src/model/heads';
import { createModel } from '../../src/model/index';
import type { PixelModel } from '../../src/model/model';
import { fromModelJson, loadModel, saveModel, toModelJson } from '../../src/model/serialize';
import { CATEGORICAL, randomImages, randomizeWeights, smallConfig, useBackend } from '../support/engine';

beforeAll(() => useBackend('wasm'));

async function nll(model: PixelModel, x: Float32Array): Promise<Float32Array> {
  const { height, width, channels } = model.config.image;
  const t = tf.tidy(() => {
    const images = tf.tensor4d(x, [x.length / (height * width * channels), height, width, channels]);
    return nllNats(model.head, model.logits(images), images);
  });
  const values = (await t.data()) as Float32Array;
  t.dispose();
  return values;
}

describe('save and load', () => {
  it.each(MODEL_TYPES.map((t) => [t]))('%s: through model.json and weights.bin, the loaded model gives identical NLL', async (type) => {
    const config = smallConfig(type, 3, CATEGORICAL, { seed: 3 });
    const model = createModel(config);
    randomizeWeights(model, 9); // trained-looking weights, not the seed's initialisation
    const x = randomImages(config, 3, 2);
    const before = await nll(model, x);
    const saved = await saveModel(model);
    const json = JSON.parse(JSON.stringify(toModelJson(saved)));
    const bytes = saved.weightData.slice(0);
    const loaded = loadModel(fromModelJson(json, bytes));
    expect([...(await nll(loaded, x))]).toEqual([...before]);
    expect(loaded.config).toEqual(config);
    // And it is the weights that carry it: a fresh model of the same architecture differs.
    const fresh = createModel(config);
    expect([...(await nll(fresh, x))]).not.toEqual([...before]);
    [model, loaded, fresh].forEach((m) => m.dispose());
  });

  it('refuses truncated weights, another architecture’s weights and foreign files, saying what is wrong', async () => {
    const model = createModel(smallConfig('pixelcnn', 1, CATEGORICAL));
    const saved = await saveModel(model);
    expect(() => loadModel({ ...saved, weightData: saved.weightData.slice(0, 100) })).toThrow(/truncated/);
    const other = await saveModel(createModel(smallConfig('gated-pixelcnn', 1, CATEGORICAL)));
    expect(() => loadModel({ ...other, config: saved.config })).toThrow(/do not fit this architecture/);
    expect(() => fromModelJson({ hello: 1 }, saved.weightData)).toThrow(/not a Pixel Lab model/);
    const json = toModelJson(saved);
    expect(() => fromModelJson({ ...json, config: { ...json.config, hidden: -2 } }, saved.weightData)).toThrow(/hidden must be/);
    expect(() => fromModelJson({ ...json, formatVersion: 99 }, saved.weightData)).toThrow(/version 99/);
    model.dispose();
  });

  it('a loaded model samples the same images for the same seed', async () => {
    const { sample } = await import('../../src/model/sampling/index');
    const model = createModel(smallConfig('row-lstm', 1, CATEGORICAL));
    randomizeWeights(model, 2);
    const loaded = loadModel(await saveModel(model));
    expect([...(await sample(loaded, { count: 2, seed: 5 }))]).toEqual([...(await sample(model, { count: 2, seed: 5 }))]);
  });
});

describe('a checkpoint read straight from disk', () => {
  it('decodes from a Node Buffer (whose slice is a view, not a copy) as from a Uint8Array', async () => {
    const { createModel } = await import('../../src/model/index');
    const { captureCheckpoint, createOptimizer, decodeCheckpoint, encodeCheckpoint } = await import('../../src/train/checkpoint');
    const model = createModel({ type: 'pixelcnn', layers: 1, hidden: 4, firstKernel: 3, kernel: 3, residual: true, outputHidden: 4, image: { height: 6, width: 6, channels: 1 }, head: { kind: 'bernoulli' }, seed: 1 });
    const optimizer = createOptimizer('adam', 0.001);
    const bytes = encodeCheckpoint(await captureCheckpoint(model, optimizer, 'adam', 0.001, { step: 3, bestTestNats: null, bestStep: null }));
    // A Buffer in a larger pool, as readFileSync gives for small files.
    const pool = Buffer.alloc(bytes.length + 64);
    pool.set(bytes, 32);
    const buffer = pool.subarray(32, 32 + bytes.length);
    const fromBuffer = decodeCheckpoint(buffer);
    const fromCopy = decodeCheckpoint(new Uint8Array(bytes));
    expect(fromBuffer.state.step).toBe(3);
    expect(new Uint8Array(fromBuffer.model.weightData as ArrayBuffer)).toEqual(new Uint8Array(fromCopy.model.weightData as ArrayBuffer));
    expect(new Uint8Array(fromBuffer.optimizer.data)).toEqual(new Uint8Array(fromCopy.optimizer.data));
    model.dispose();
    optimizer.dispose();
  });
});
