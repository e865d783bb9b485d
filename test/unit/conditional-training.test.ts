/**
 * Class-conditional experiments end to end, without the CLI: the experiment file's checks (at line and column),
 * the data's labels (Batches gives each image's label in batch order), training and evaluation with labels (the
 * conditional NLL, flagged so), and the parameter estimate.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Batches, experimentBatches } from '../../src/data/batches';
import type { ImageSet } from '../../src/data/images';
import { parameterBound } from '../../src/experiment/estimate';
import { dataClasses, ExperimentError, imageShape, modelConfigOf, parseExperiment } from '../../src/experiment/experiment';
import { MODEL_TYPES } from '../../src/model/config';
import { createModel } from '../../src/model/index';
import { createOptimizer } from '../../src/train/checkpoint';
import { evaluate, trainLoop, trainSettings } from '../../src/train/loop';
import { sample } from '../../src/model/sampling/index';
import { validateHostMessage, validatePanelMessage } from '../../src/protocol';
import { randomizeWeights, smallConfig, useBackend } from '../support/engine';

beforeAll(() => useBackend('wasm'));

function problems(text: string): { line: number; column: number; message: string; path: string }[] {
  try {
    parseExperiment(text, 'c.pixel.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ExperimentError);
    return (error as ExperimentError).problems.map(({ line, column, message, path }) => ({ line, column, message, path }));
  }
  return [];
}

/** `count` images of 4×4 whose pixels all hold their own index (so a batch shows which images it holds). */
function indexedImages(count: number, labels?: (k: number) => number): ImageSet {
  const images = new Uint8Array(count * 16);
  for (let k = 0; k < count; k++) images.fill(k, k * 16, (k + 1) * 16);
  return { images, count, height: 4, width: 4, channels: 1, ...(labels ? { labels: Uint8Array.from({ length: count }, (_, k) => labels(k)) } : {}) };
}

describe('a conditional experiment file', () => {
  it('is accepted on mnist and fashion-mnist (10 classes, labelled), and its model gets the classes', () => {
    const e = parseExperiment('{ "model": { "type": "gated-pixelcnn", "conditional": true }, "data": { "dataset": "fashion-mnist" } }', 'c.pixel.json');
    const config = modelConfigOf(e, imageShape(e));
    expect(config.classes).toBe(10);
    expect(config).not.toHaveProperty('conditional');
    expect(modelConfigOf(parseExperiment('{ "model": { "type": "pixelcnn", "conditional": true, "classes": 12 }, "data": { "dataset": "mnist" } }', 'c.pixel.json'), imageShape(e)).classes).toBe(12);
    // Unconditional: no classes in the model configuration at all.
    expect(modelConfigOf(parseExperiment('{ "model": { "type": "pixelcnn" }, "data": { "dataset": "mnist" } }', 'c.pixel.json'), imageShape(e))).not.toHaveProperty('classes');
  });

  it('is refused at model.conditional on unlabelled data, and a wrong model.classes at its place', () => {
    expect(problems('{\n  "model": { "type": "pixelcnn", "conditional": true },\n  "data": { "dataset": "emoji" }\n}')).toEqual([
      { line: 2, column: 49, path: 'model.conditional', message: expect.stringMatching(/model.conditional needs a class label for every image, and the emoji dataset has none/) },
    ]);
    expect(problems('{\n  "model": { "type": "pixelcnn", "classes": 10 },\n  "data": { "dataset": "mnist" }\n}')).toEqual([
      { line: 2, column: 45, path: 'model.classes', message: expect.stringMatching(/applies to conditional models only/) },
    ]);
    expect(problems('{\n  "model": { "type": "pixelcnn", "conditional": true, "classes": 5 },\n  "data": { "dataset": "mnist" }\n}')).toEqual([
      { line: 2, column: 66, path: 'model.classes', message: 'model.classes is 5, but mnist has 10 classes: it must be at least 10' },
    ]);
    expect(problems('{ "model": { "type": "pixelcnn", "conditional": true, "classes": 1 }, "data": { "dataset": "mnist" } }')[0]).toMatchObject({ path: 'model.classes', message: expect.stringMatching(/≥ 2/) });
    // An idx experiment's labels are data.labels: without it, refused before anything is read.
    const idx = JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'data', 'mnist-images.idx.gz'));
    expect(problems(`{\n  "model": { "type": "pixelcnn", "conditional": true },\n  "data": { "dataset": "idx", "path": ${idx} }\n}`)).toEqual([{
      line: 2,
      column: 49,
      path: 'model.conditional',
      message: 'model.conditional needs a class label for every image: add data.labels (an IDX labels file, one per image), or remove it',
    }]);
    expect(problems('{ "model": { "type": "pixelcnn", "conditional": "yes" }, "data": { "dataset": "mnist" } }')[0]).toMatchObject({ path: 'model.conditional', message: expect.stringMatching(/true or false/) });
  });

  it('when its data is read: no labels is an error at model.conditional; the classes come from the names, else the largest label', () => {
    const text = '{\n  "model": { "type": "pixelcnn", "conditional": true },\n  "data": { "dataset": "folder", "path": "." }\n}';
    const e = { ...parseExperiment('{ "model": { "type": "pixelcnn", "conditional": true }, "data": { "dataset": "mnist" } }', 'c.pixel.json'), data: { ...parseExperiment('{ "model": { "type": "pixelcnn" }, "data": { "dataset": "mnist" } }', 'c.pixel.json').data, dataset: 'folder' as const, path: 'shapes' } };
    try {
      dataClasses(e, indexedImages(4), 'c.pixel.json', text);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ExperimentError);
      expect((error as ExperimentError).message).toBe('c.pixel.json:2:49: model.conditional needs a class label for every image, and the folder data at shapes came without labels');
    }
    expect(dataClasses(e, indexedImages(4, (k) => k % 3), 'c.pixel.json', text)).toEqual({ classes: 3 });
    expect(dataClasses(e, { ...indexedImages(4, (k) => k % 3), classNames: ['a', 'b', 'c', 'd'] }, 'c.pixel.json', text)).toEqual({ classes: 4, classNames: ['a', 'b', 'c', 'd'] });
    expect(() => dataClasses({ ...e, model: { ...e.model, classes: 2 } }, indexedImages(4, (k) => k % 3), 'c.pixel.json', text)).toThrow(/model.classes is 2, but the folder data at shapes have label 2/);
    expect(dataClasses({ ...e, model: { ...e.model, conditional: false } }, indexedImages(4), 'c.pixel.json', text)).toBeNull();
  });

  it('estimates the class embeddings’ parameters too', () => {
    for (const type of MODEL_TYPES) {
      const config = smallConfig(type, 3, { kind: 'categorical', levels: 4 }, { classes: 256 });
      const model = createModel(config);
      expect(parameterBound(config), type).toBeGreaterThanOrEqual(model.params.count);
      expect(parameterBound(config) - parameterBound({ ...config, classes: undefined }), type).toBeGreaterThanOrEqual(
        model.params.named().filter(([n]) => n.endsWith('-class/embedding')).reduce((s, [, v]) => s + v.size, 0),
      );
      model.dispose();
    }
  });
});

describe('labels in batches', () => {
  it('trainLabels, testLabels and heldOutLabels give each batch image’s label, in the order of train(), test() and heldOut()', () => {
    const set = indexedImages(30, (k) => (k * 7) % 11);
    const split = { train: Int32Array.from({ length: 20 }, (_, k) => k + 10), validation: Int32Array.from([9, 7, 8, 6]), test: Int32Array.from({ length: 6 }, (_, k) => k) };
    const batches = new Batches(set, split, { levels: 256, binarize: 'fixed', threshold: 0.5 }, 3, 5);
    for (const step of [0, 1, 5, 9]) {
      const images = batches.train(step, 7);
      const labels = batches.trainLabels(step, 7);
      for (let k = 0; k < 7; k++) expect(labels[k]).toBe((images[k * 16] * 7) % 11);
    }
    const test = batches.test(2, 10);
    expect([...batches.testLabels(2, 10)]).toEqual(Array.from({ length: 4 }, (_, k) => (test[k * 16] * 7) % 11));
    expect([...batches.heldOutLabels('test', 2, 10)]).toEqual([...batches.testLabels(2, 10)]);
    const validation = batches.heldOut('validation', 1, 10);
    expect([...batches.heldOutLabels('validation', 1, 10)]).toEqual(Array.from({ length: 3 }, (_, k) => (validation[k * 16] * 7) % 11));
    expect([...batches.heldOutLabels('validation', 1, 10)]).toEqual([7, 8, 6].map((k) => (k * 7) % 11));
    expect(batches.labelled).toBe(true);
    const unlabelled = new Batches(indexedImages(30), batches.split, { levels: 256, binarize: 'fixed', threshold: 0.5 }, 3);
    expect(unlabelled.labelled).toBe(false);
    expect(() => unlabelled.trainLabels(0, 2)).toThrow(/no class labels/);
  });
});

describe('training a conditional model', () => {
  const text = JSON.stringify({
    model: { type: 'pixelcnn', layers: 1, hidden: 4, firstKernel: 3, kernel: 3, outputHidden: 4, conditional: true },
    data: { dataset: 'mnist', height: 4, width: 4, levels: 2, binarize: 'fixed', testFraction: 0.25 },
    training: { steps: 3, batchSize: 4, evalEvery: 3, evalImages: 8, sampleEvery: 3, checkpointEvery: 3, learningRate: 0.05 },
    sampling: { count: 3 },
  });

  it('uses the labels: the loss and test NLL are conditional, and each class’s embedding learns', async () => {
    const e = parseExperiment(text, 'c.pixel.json');
    // Bright images of class 1, dark ones of class 0.
    const set = indexedImages(40, (k) => k % 2);
    for (let k = 0; k < 40; k++) set.images.fill(k % 2 ? 220 : 20, k * 16, (k + 1) * 16);
    const batches = experimentBatches(e, set);
    const model = createModel(modelConfigOf(e, { height: 4, width: 4, channels: 1 }, 2));
    const optimizer = createOptimizer('adam', 0.05);
    const steps: boolean[] = [];
    const evals: boolean[] = [];
    const splits: string[] = [];
    let sampled: Uint8Array | null = null;
    await trainLoop(model, optimizer, batches, trainSettings(e), { step: 0, bestTestNats: null, bestStep: null }, {
      onStep: (r) => void steps.push(r.conditional === true),
      onEval: (r) => void (evals.push(r.conditional === true), splits.push(r.split)),
      onSamples: (_, images) => void (sampled = images),
    });
    expect(steps).toEqual([true, true, true]);
    // The validation set (data.validationFraction's default) and the test set, both conditional.
    expect(batches.split.validation.length).toBeGreaterThan(0);
    expect(evals).toEqual([true, true]);
    expect(splits).toEqual(['validation', 'test']);
    expect(sampled).not.toBeNull();
    const table = model.params.named().find(([n]) => n === 'input-class/embedding')![1].arraySync() as number[][];
    expect(table[0].some((v) => v !== 0) && table[1].some((v) => v !== 0)).toBe(true);
    const result = await evaluate(model, batches, 10);
    expect(result.conditional).toBe(true);
    expect((await evaluate(model, batches, 10, undefined, 'validation')).conditional).toBe(true);
    // Each held-out image scored with its own label: the same NLL as scoring the images one by one with theirs.
    for (const split of ['validation', 'test'] as const) {
      const n = batches.split[split].length;
      const x = tf.tensor4d(batches.heldOut(split, 0, n), [n, 4, 4, 1]);
      const own = tf.tidy(() => tf.sum(model.head.logProbs(model.logits(x, batches.heldOutLabels(split, 0, n)), x)).arraySync() as number);
      x.dispose();
      expect((await evaluate(model, batches, n, undefined, split)).nats).toBeCloseTo(-own / n, 3);
      // The labels really are the images' own (odd images bright, of class 1).
      const images = batches.heldOut(split, 0, n);
      expect([...batches.heldOutLabels(split, 0, n)]).toEqual(Array.from({ length: n }, (_, k) => (images[k * 16] > 0 ? 1 : 0)));
    }
    // With the class it was trained on, a bright image is likelier than with the other class.
    const { height: H, width: W } = model.config.image;
    const bright = tf.ones([1, H, W, 1]) as tf.Tensor4D;
    const [right, wrong] = [1, 0].map((k) => tf.tidy(() => tf.sum(model.head.logProbs(model.logits(bright, [k]), bright)).arraySync() as number));
    expect(right).toBeGreaterThan(wrong);
    bright.dispose();
    optimizer.dispose();
    model.dispose();
  });

  it('refuses images without labels', async () => {
    const e = parseExperiment(text, 'c.pixel.json');
    const model = createModel(modelConfigOf(e, { height: 4, width: 4, channels: 1 }, 2));
    const optimizer = createOptimizer('adam', 0.05);
    await expect(trainLoop(model, optimizer, experimentBatches(e, indexedImages(40)), trainSettings(e), { step: 0, bestTestNats: null, bestStep: null })).rejects.toThrow(/class-conditional, and its images have no class labels/);
    optimizer.dispose();
    model.dispose();
  });
});

describe('the message contract, for conditional models', () => {
  const reason = (r: { ok: boolean; reason?: string }) => (r.ok ? 'accepted' : r.reason);
  const images = { data: new Uint8Array(18), count: 2, height: 3, width: 3, channels: 1 };
  const run = { runId: 'r', name: 'n', status: 'finished', step: 1, steps: 1, metrics: [], grids: [], experiment: '{}', checkpoint: null, dataset: null };

  it('train carries labels, sample a class per image, step and eval say their NLL is conditional', () => {
    expect(reason(validateHostMessage({ type: 'train', runId: 'r', name: 'n', experiment: '{}', images, labels: new Uint8Array([0, 3]), checkpoint: null, metrics: [], backend: 'wasm' }))).toBe('accepted');
    expect(reason(validateHostMessage({ type: 'sample', run, count: 4, temperature: 1, seed: 1, keepRows: 0, classes: [0, 0, 9, 9] }))).toBe('accepted');
    expect(reason(validatePanelMessage({ type: 'step', runId: 'r', step: 1, nats: 1, bitsPerDim: 0.1, imagesPerSecond: 1, seconds: 1, conditional: true }))).toBe('accepted');
    expect(reason(validatePanelMessage({ type: 'eval', runId: 'r', step: 1, nats: 1, bitsPerDim: 0.1, images: 4, best: true, conditional: true }))).toBe('accepted');
  });

  it('carries the class names (train, a run view) and the labels of the panel\'s test images, checked', () => {
    const names = ['T-shirt/top', 'Trouser'];
    expect(reason(validateHostMessage({ type: 'train', runId: 'r', name: 'n', experiment: '{}', images, labels: new Uint8Array([0, 1]), classNames: names, checkpoint: null, metrics: [], backend: 'wasm' }))).toBe('accepted');
    expect(reason(validateHostMessage({ type: 'show', run: { ...run, classNames: names, dataset: { ...images, values: new Uint8Array(18), labels: new Uint8Array([1, 0]) } } }))).toBe('accepted');
    expect(reason(validateHostMessage({ type: 'dataset', runId: 'r', images: { ...images, labels: new Uint8Array([1, 0]) } }))).toBe('accepted');
    expect(reason(validateHostMessage({ type: 'train', runId: 'r', name: 'n', experiment: '{}', images, classNames: [0, 1], checkpoint: null, metrics: [], backend: 'wasm' }))).toBe('train.classNames[0] must be a string');
    expect(reason(validateHostMessage({ type: 'dataset', runId: 'r', images: { ...images, labels: new Uint8Array([1]) } }))).toBe('dataset.images.labels holds 1 labels, not one for each of 2 images');
  });

  it('refuses labels that are not binary, classes that are not whole numbers, and a conditional flag that is not true', () => {
    expect(reason(validateHostMessage({ type: 'train', runId: 'r', name: 'n', experiment: '{}', images, labels: [0, 3], checkpoint: null, metrics: [], backend: 'wasm' }))).toBe('train.labels must be binary (a Uint8Array)');
    expect(reason(validateHostMessage({ type: 'sample', run, count: 2, temperature: 1, seed: 1, keepRows: 0, classes: [0, -1] }))).toBe('sample.classes[1] must be a whole number ≥ 0');
    expect(reason(validatePanelMessage({ type: 'step', runId: 'r', step: 1, nats: 1, bitsPerDim: 0.1, imagesPerSecond: 1, seconds: 1, conditional: false }))).toBe('step.conditional must be true when given');
  });

  it('refuses labels and classes that do not fit their images or the class names', () => {
    expect(reason(validateHostMessage({ type: 'train', runId: 'r', name: 'n', experiment: '{}', images, labels: new Uint8Array([0]), checkpoint: null, metrics: [], backend: 'wasm' }))).toBe('train.labels holds 1 labels, not one for each of 2 images');
    expect(reason(validateHostMessage({ type: 'train', runId: 'r', name: 'n', experiment: '{}', images, labels: new Uint8Array([0, 2]), classNames: ['a', 'b'], checkpoint: null, metrics: [], backend: 'wasm' }))).toBe('train.labels[1] is class 2, past the 2 class names');
    expect(reason(validateHostMessage({ type: 'sample', run, count: 4, temperature: 1, seed: 1, keepRows: 0, classes: [0, 1] }))).toBe('sample.classes holds 2 classes, not one for each of 4 images');
    expect(reason(validateHostMessage({ type: 'sample', run: { ...run, classNames: ['a', 'b'] }, count: 2, temperature: 1, seed: 1, keepRows: 0, classes: [0, 5] }))).toBe('sample.classes[1] is class 5, past the 2 class names');
  });
});

describe('cached conditional sampling', () => {
  it('leaves no tensor behind', async () => {
    const model = createModel(smallConfig('gated-pixelcnn', 1, { kind: 'bernoulli' }, { classes: 3, image: { height: 4, width: 4, channels: 1 } }));
    randomizeWeights(model, 1);
    await sample(model, { count: 2, seed: 1, classes: [0, 2], method: 'cached' });
    const before = tf.memory().numTensors;
    await sample(model, { count: 2, seed: 1, classes: [0, 2], method: 'cached' });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
