/**
 * Class-conditional models (Conditional PixelCNN, van den Oord et al. 2016, §2.3): every model takes a class per
 * image, each class embedding is used (changing one class's row changes that class's predictions and no other's),
 * cached sampling draws exactly what naive sampling draws with classes, and save / load / safetensors carry the
 * embeddings. (Causality of the conditional variants is proven in causality.test.ts with the others.)
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { configProblems, type ModelConfig, MODEL_TYPES } from '../../src/model/config';
import { pixelBeliefs } from '../../src/model/beliefs';
import { gradientMaps, gradientMapsFull } from '../../src/model/dependency';
import { nllNats } from '../../src/model/heads';
import { createModel } from '../../src/model/index';
import type { PixelModel } from '../../src/model/model';
import { loadSafetensorsModel, saveSafetensorsModel } from '../../src/model/safetensors';
import { perClassClasses, sample } from '../../src/model/sampling/index';
import { fromModelJson, loadModel, saveModel, toModelJson } from '../../src/model/serialize';
import { BERNOULLI, CATEGORICAL, randomImages, randomizeWeights, smallConfig, useBackend } from '../support/engine';

beforeAll(() => useBackend('wasm'));

const CLASSES = 3;

async function logitsOf(model: PixelModel, x: Float32Array, classes: ArrayLike<number>): Promise<Float32Array> {
  const { height: H, width: W, channels: C } = model.config.image;
  const t = tf.tidy(() => model.logits(tf.tensor4d(x, [classes.length, H, W, C]), classes));
  const values = (await t.data()) as Float32Array;
  t.dispose();
  return values;
}

async function nll(model: PixelModel, x: Float32Array, classes: ArrayLike<number>): Promise<Float32Array> {
  const { height: H, width: W, channels: C } = model.config.image;
  const t = tf.tidy(() => {
    const images = tf.tensor4d(x, [classes.length, H, W, C]);
    return nllNats(model.head, model.logits(images, classes), images);
  });
  const values = (await t.data()) as Float32Array;
  t.dispose();
  return values;
}

const embeddingsOf = (model: PixelModel) => model.params.named().filter(([name]) => name.endsWith('-class/embedding'));

describe.each(MODEL_TYPES.map((t) => [t]))('conditional %s', (type) => {
  const config = smallConfig(type, 3, CATEGORICAL, { classes: CLASSES });

  it('has a class embedding in every layer, and each is used: one class’s row changes that class’s predictions only', async () => {
    const model = createModel(config);
    randomizeWeights(model, 3);
    const embeddings = embeddingsOf(model);
    const expected = { pixelcnn: 1 + config.layers, 'gated-pixelcnn': 2 * config.layers, 'row-lstm': config.layers, 'diagonal-bilstm': 2 * config.layers }[type];
    expect(embeddings.length).toBe(expected);
    const one = randomImages(config, 1, 4);
    const x = new Float32Array(CLASSES * one.length);
    for (let k = 0; k < CLASSES; k++) x.set(one, k * one.length);
    const classes = [0, 1, 2];
    const before = await logitsOf(model, x, classes);
    const per = before.length / CLASSES;
    // The same image as of another class is predicted otherwise.
    expect([...before.subarray(0, per)]).not.toEqual([...before.subarray(per, 2 * per)]);
    for (const [name, v] of embeddings) {
      const saved = v.clone();
      tf.tidy(() => v.assign(tf.add(v, tf.mul(tf.tensor2d([0, 1, 0], [CLASSES, 1]), 0.5))));
      const after = await logitsOf(model, x, classes);
      expect([...after.subarray(0, per)], `${name}: class 0 unchanged`).toEqual([...before.subarray(0, per)]);
      expect([...after.subarray(2 * per)], `${name}: class 2 unchanged`).toEqual([...before.subarray(2 * per)]);
      expect([...after.subarray(per, 2 * per)], `${name}: class 1 changed`).not.toEqual([...before.subarray(per, 2 * per)]);
      v.assign(saved);
      saved.dispose();
    }
    model.dispose();
  });

  it('the embeddings learn: a gradient reaches every one of them', () => {
    const model = createModel(config);
    randomizeWeights(model, 5);
    const { height: H, width: W, channels: C } = config.image;
    const x = tf.tensor4d(randomImages(config, 2, 6), [2, H, W, C]);
    const tables = embeddingsOf(model).map(([, v]) => v);
    const { grads } = tf.variableGrads(() => tf.mean(nllNats(model.head, model.logits(x, [0, 2]), x)) as tf.Scalar, tables);
    for (const [name, g] of Object.entries(grads)) {
      const rows = g.arraySync() as number[][];
      expect(rows[0].some((v) => v !== 0), `${name}, class 0`).toBe(true);
      expect(rows[1].every((v) => v === 0), `${name}, class 1 (not in the batch)`).toBe(true);
    }
    tf.dispose([x, ...Object.values(grads)]);
    model.dispose();
  });

  it('is refused without classes, with the wrong number, or with a class out of range; an unconditional model refuses classes', () => {
    const model = createModel(config);
    const { height: H, width: W, channels: C } = config.image;
    const x = tf.zeros([2, H, W, C]) as tf.Tensor4D;
    expect(() => model.logits(x)).toThrow(/class-conditional \(3 classes\): it needs the class of each image/);
    expect(() => model.logits(x, [0])).toThrow(/1 classes for 2 images/);
    expect(() => model.logits(x, [0, 3])).toThrow(/class 3 \(image 1\) is not one of the model's classes 0 … 2/);
    const plain = createModel({ ...config, classes: undefined });
    expect(() => plain.logits(x, [0, 1])).toThrow(/not class-conditional/);
    x.dispose();
    model.dispose();
    plain.dispose();
  });

  it('beliefs and gradient maps read the image as of a class: the NLL map sums to that class’s NLL; cropped maps equal full ones', async () => {
    const model = createModel({ ...config, image: { height: 4, width: 4, channels: 3 } });
    randomizeWeights(model, 5);
    const x = randomImages(model.config, 1, 6);
    for (const k of [0, 2]) {
      const b = await pixelBeliefs(model, x, k);
      expect(b.nats).toBeCloseTo((await nll(model, x, [k]))[0], 3);
    }
    // The default (no class given) is class 0, as gradient maps' is.
    expect((await pixelBeliefs(model, x)).nats).toBeCloseTo((await pixelBeliefs(model, x, 0)).nats, 5);
    const outputs = [{ i: 1, j: 2, c: 1 }, { i: 2, j: 0, c: 2 }];
    const [cropped, full] = [await gradientMaps(model, x, outputs, 2), await gradientMapsFull(model, x, outputs, 2)];
    cropped.forEach((map, n) => map.forEach((v, e) => expect(v).toBeCloseTo(full[n][e], 4)));
    model.dispose();
  });

  it('samples by class, naively: each image as of its class; a seed gives the same images', async () => {
    const model = createModel({ ...config, image: { height: 4, width: 4, channels: 3 } });
    randomizeWeights(model, 7);
    const a = await sample(model, { count: 3, seed: 2, classes: [2, 2, 0], method: 'naive' });
    const b = await sample(model, { count: 3, seed: 2, classes: [2, 2, 0], method: 'naive' });
    const c = await sample(model, { count: 3, seed: 2, classes: [1, 1, 1], method: 'naive' });
    expect([...a]).toEqual([...b]);
    expect([...a]).not.toEqual([...c]);
    // The default: image n of class n mod K.
    const cycled = await sample(model, { count: 3, seed: 2, method: 'naive' });
    const explicit = await sample(model, { count: 3, seed: 2, classes: [0, 1, 2], method: 'naive' });
    expect([...cycled]).toEqual([...explicit]);
    await expect(sample(model, { count: 2, seed: 1, classes: [0, 5] })).rejects.toThrow(/class 5/);
    // The default sampler (whichever is fast for this model) draws the classes' images too: the naive ones.
    const fast = await sample(model, { count: 3, seed: 2, classes: [2, 2, 0] });
    expect([...fast]).toEqual([...a]);
    model.dispose();
  });

  it('saves and loads with its embeddings (model.json and safetensors): the same NLL per class', async () => {
    const model = createModel(config);
    randomizeWeights(model, 9);
    const x = randomImages(config, 3, 2);
    const classes = [2, 0, 1];
    const before = await nll(model, x, classes);
    const saved = await saveModel(model);
    expect(saved.weightSpecs.filter((s) => s.name.endsWith('-class/embedding')).every((s) => s.shape[0] === CLASSES)).toBe(true);
    const loaded = loadModel(fromModelJson(JSON.parse(JSON.stringify(toModelJson(saved))), saved.weightData.slice(0)));
    expect(loaded.config).toEqual(config);
    expect(loaded.classes).toBe(CLASSES);
    expect([...(await nll(loaded, x, classes))]).toEqual([...before]);
    const fromSafetensors = loadSafetensorsModel(await saveSafetensorsModel(model));
    expect([...(await nll(fromSafetensors, x, classes))]).toEqual([...before]);
    // An unconditional model's weights do not fit a conditional architecture, and the reverse.
    const plain = await saveModel(createModel({ ...config, classes: undefined }));
    expect(() => loadModel({ ...plain, config })).toThrow(/missing \[.*-class\/embedding/);
    [model, loaded, fromSafetensors].forEach((m) => m.dispose());
  });
});

const cachedCases: ModelConfig[] = [];
for (const type of ['pixelcnn', 'gated-pixelcnn'] as const) {
  cachedCases.push(smallConfig(type, 1, BERNOULLI, { classes: CLASSES, image: { height: 6, width: 5, channels: 1 } }));
  cachedCases.push(smallConfig(type, 3, CATEGORICAL, { classes: CLASSES, image: { height: 5, width: 4, channels: 3 } }));
}
cachedCases.push(smallConfig('pixelcnn', 3, CATEGORICAL, { classes: CLASSES, residual: false, layers: 3, image: { height: 5, width: 4, channels: 3 } }));
cachedCases.push(smallConfig('gated-pixelcnn', 1, CATEGORICAL, { classes: CLASSES, residual: false, kernel: 5, image: { height: 6, width: 5, channels: 1 } }));

describe.each(cachedCases.map((c) => [`${c.type} ${c.image.channels}ch ${c.head.kind}${c.residual ? '' : ' plain'}`, c] as const))('conditional cached sampling, %s', (_, config) => {
  it('draws exactly the naive sampler’s images for the same seed and classes, also when completing', async () => {
    const model = createModel(config);
    randomizeWeights(model, 5);
    const classes = [2, 0, 1, 2];
    const naive = await sample(model, { count: 4, seed: 21, method: 'naive', classes });
    const cached = await sample(model, { count: 4, seed: 21, method: 'cached', classes });
    expect([...cached]).toEqual([...naive]);
    const prefix = { images: Uint8Array.from(randomImages(config, 4, 8)), rows: 2 };
    const naiveDone = await sample(model, { count: 4, seed: 4, method: 'naive', prefix, classes });
    const cachedDone = await sample(model, { count: 4, seed: 4, method: 'cached', prefix, classes });
    expect([...cachedDone]).toEqual([...naiveDone]);
    model.dispose();
  });
});

describe('conditional configuration', () => {
  it('takes 2 to 256 classes; 0 or none is unconditional', () => {
    const base = smallConfig('pixelcnn', 1, BERNOULLI);
    expect(configProblems({ ...base, classes: 10 })).toEqual([]);
    expect(configProblems({ ...base, classes: 0 })).toEqual([]);
    expect(configProblems({ ...base, classes: 1 })[0]).toMatch(/classes must be an integer from 2 to 256/);
    expect(configProblems({ ...base, classes: 257 })[0]).toMatch(/classes must be an integer from 2 to 256/);
    expect(createModel({ ...base, classes: 0 }).classes).toBe(0);
  });

  it('perClassClasses gives one row per class', () => {
    expect([...perClassClasses(3, 2)]).toEqual([0, 0, 1, 1, 2, 2]);
  });
});
