/**
 * The twin's data path (python/pixel_lab/data.py) gives the TS trainer's images and batches exactly: the same
 * seeded split (random or official, with its validation share), the same batch at every step (across epochs), the
 * same stochastic binarisation (training images from training.seed, validation and test images from data.seed),
 * quantisation and fixed threshold, the same `limit` choice and resampling, the same labels — and one rank's share
 * of a batch is its slice. Its sample PNGs draw each level as the same byte.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { experimentBatches } from '../../src/data/batches';
import { levelToByte } from '../../src/data/encoding';
import { encodeIdx } from '../../src/data/idx';
import { loadImages } from '../../src/data/node-load';
import { parseExperiment } from '../../src/experiment/experiment';
import { Random } from '../../src/model/random';
import { runPython, TORCH } from './torch-support';

const dir = mkdtempSync(path.join(tmpdir(), 'pixel-lab-twin-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rng = new Random(4);
const bytes = Uint8Array.from({ length: 23 * 6 * 5 }, () => rng.int(256));
writeFileSync(path.join(dir, 'images.idx'), encodeIdx([23, 6, 5], bytes));
writeFileSync(path.join(dir, 'labels.idx'), encodeIdx([23], Uint8Array.from({ length: 23 }, (_, k) => (k * 7) % 4)));
writeFileSync(path.join(dir, 'test.idx'), encodeIdx([9, 6, 5], Uint8Array.from({ length: 9 * 30 }, () => rng.int(256))));
writeFileSync(path.join(dir, 'test-labels.idx'), encodeIdx([9], Uint8Array.from({ length: 9 }, (_, k) => k % 4)));

const variants: [string, object][] = [
  ['stochastic binarisation', { levels: 2, binarize: 'stochastic' }],
  ['fixed threshold', { levels: 2, binarize: 'fixed', threshold: 0.3 }],
  ['4 levels, a limit and resampling', { levels: 4, limit: 17, height: 4, width: 3, seed: 9 }],
  ['no validation set', { levels: 2, binarize: 'stochastic', validationFraction: 0 }],
  ['the official test set with labels, a limit and a validation share', { labels: 'labels.idx', test: 'test.idx', testLabels: 'test-labels.idx', limit: 19, validationFraction: 0.25, seed: 3 }],
  ['labels on a random split with a validation share', { labels: 'labels.idx', validationFraction: 0.2, seed: 2 }],
];

describe.skipIf(!TORCH.python)('the twin’s batches are the TS trainer’s', () => {
  it.each(variants)('%s', (name, data) => {
    const file = path.join(dir, `${name.replace(/\W+/g, '-')}.pixel.json`);
    const text = JSON.stringify({
      model: { type: 'pixelcnn' },
      data: { dataset: 'idx', path: 'images.idx', testFraction: 0.2, ...data },
      training: { batchSize: 4, seed: 5 },
    });
    writeFileSync(file, text);
    const e = parseExperiment(text, file);
    const set = loadImages(e, file, text).set;
    const batches = experimentBatches(e, set);
    const ts = {
      train: Array.from({ length: 9 }, (_, s) => Array.from(batches.train(s, 4))),
      test: Array.from(batches.test(0, 50)),
      validation: Array.from(batches.heldOut('validation', 0, 50)),
      share: Array.from(batches.train(7, 4).subarray((batches.train(7, 4).length / 4) * 2)),
      split: [batches.split.train, batches.split.validation, batches.split.test].map((a) => Array.from(a)),
      labels: set.labels ? Array.from(set.labels) : null,
      testCount: set.testCount ?? 0,
      // A conditional model's labels, batch by batch, in the order of the images.
      trainLabels: set.labels ? Array.from({ length: 9 }, (_, s) => Array.from(batches.trainLabels(s, 4))) : null,
      shareLabels: set.labels ? Array.from(batches.trainLabels(7, 4).subarray(2)) : null,
      heldOutLabels: set.labels ? (['validation', 'test'] as const).map((split) => Array.from(batches.heldOutLabels(split, 0, 50))) : null,
    };
    const py = JSON.parse(
      runPython(`
import json
from pixel_lab.data import Batches, load_dataset
from pixel_lab.experiment import read_experiment
e, _ = read_experiment(${JSON.stringify(file)})
d = load_dataset(e, ${JSON.stringify(file)})
b = Batches(d, e)
print(json.dumps({'train': [b.train(s, 4).ravel().tolist() for s in range(9)], 'test': b.test(0, 50).ravel().tolist(),
                  'validation': b.held_out('validation', 0, 50).ravel().tolist(),
                  'share': b.train(7, 4, slice(2, 4)).ravel().tolist(),
                  'split': [b.train_indices.tolist(), b.validation_indices.tolist(), b.test_indices.tolist()],
                  'labels': None if d.labels is None else d.labels.tolist(), 'testCount': d.test_count,
                  'trainLabels': None if d.labels is None else [b.train_labels(s, 4).tolist() for s in range(9)],
                  'shareLabels': None if d.labels is None else b.train_labels(7, 4, slice(2, 4)).tolist(),
                  'heldOutLabels': None if d.labels is None else [b.held_out_labels(split, 0, 50).tolist() for split in ('validation', 'test')]}))
`),
    );
    expect(py.split).toEqual(ts.split);
    expect(py.labels).toEqual(ts.labels);
    expect(py.testCount).toEqual(ts.testCount);
    expect(py.test).toEqual(ts.test);
    expect(py.validation).toEqual(ts.validation);
    expect(py.train).toEqual(ts.train);
    expect(py.share).toEqual(ts.share);
    expect(py.trainLabels).toEqual(ts.trainLabels);
    expect(py.shareLabels).toEqual(ts.shareLabels);
    expect(py.heldOutLabels).toEqual(ts.heldOutLabels);
  });
});

describe.skipIf(!TORCH.python)('the twin’s sample PNGs draw each level as the TS grids do', () => {
  it('at every L from 2 to 256', () => {
    const py = JSON.parse(runPython('import json\nfrom pixel_lab.png import level_bytes\nprint(json.dumps({L: level_bytes(L).tolist() for L in range(2, 257)}))'));
    for (let levels = 2; levels <= 256; levels++) expect(py[levels], `L = ${levels}`).toEqual(Array.from({ length: levels }, (_, l) => levelToByte(l, levels)));
  });
});
