/**
 * The twin's data path (python/pixel_lab/data.py) gives the TS trainer's images and batches exactly: the same
 * seeded split, the same batch at every step (across epochs), the same stochastic binarisation, quantisation and
 * fixed threshold, the same `limit` choice and resampling — and one rank's share of a batch is its slice.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { experimentBatches } from '../../src/data/batches';
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

const variants: [string, object][] = [
  ['stochastic binarisation', { levels: 2, binarize: 'stochastic' }],
  ['fixed threshold', { levels: 2, binarize: 'fixed', threshold: 0.3 }],
  ['4 levels, a limit and resampling', { levels: 4, limit: 17, height: 4, width: 3, seed: 9 }],
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
    const batches = experimentBatches(e, loadImages(e, file, text).set);
    const ts = {
      train: Array.from({ length: 9 }, (_, s) => Array.from(batches.train(s, 4))),
      test: Array.from(batches.test(0, 50)),
      share: Array.from(batches.train(7, 4).subarray((batches.train(7, 4).length / 4) * 2)),
    };
    const py = JSON.parse(
      runPython(`
import json
from pixel_lab.data import Batches, load_images
from pixel_lab.experiment import read_experiment
e, _ = read_experiment(${JSON.stringify(file)})
b = Batches(load_images(e, ${JSON.stringify(file)}), e)
print(json.dumps({'train': [b.train(s, 4).ravel().tolist() for s in range(9)], 'test': b.test(0, 50).ravel().tolist(),
                  'share': b.train(7, 4, slice(2, 4)).ravel().tolist()}))
`),
    );
    expect(py.test).toEqual(ts.test);
    expect(py.train).toEqual(ts.train);
    expect(py.share).toEqual(ts.share);
  });
});
