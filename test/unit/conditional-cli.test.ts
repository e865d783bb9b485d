/**
 * `pixel-lab sample` by class (the built dist/cli.cjs, in a child process), on a conditional run folder made here:
 * --class K and --class NAME (from the class names in run.json) draw exactly what the engine draws for that class,
 * --per-class N lays out one row per class, and mistakes are one line naming the classes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageShape, modelConfigOf, parseExperiment } from '../../src/experiment/experiment';
import { createModel } from '../../src/model/index';
import type { PixelModel } from '../../src/model/model';
import { sample } from '../../src/model/sampling/index';
import { encodeGrid } from '../../src/runs/png';
import { conditionalInfo, RunFolder } from '../../src/runs/run-folder';
import { captureCheckpoint, createOptimizer, encodeCheckpoint } from '../../src/train/checkpoint';
import { randomizeWeights, useBackend } from '../support/engine';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.cjs');
const NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

function pixelLab(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** A finished run folder of a (random-weight) model of this experiment, its class names in run.json. */
async function runOf(text: string, names?: readonly string[]): Promise<{ run: RunFolder; model: PixelModel }> {
  const e = parseExperiment(text, 'c.pixel.json');
  const model = createModel(modelConfigOf(e, imageShape(e)));
  randomizeWeights(model, 3);
  // Classes that differ plainly (random biases alone push most of these tiny images to all ones).
  for (const [name, v] of model.params.named()) if (name.endsWith('-class/embedding')) v.assign(tf.mul(v, 8));
  const optimizer = createOptimizer('adam', 1e-3);
  const checkpoint = await captureCheckpoint(model, optimizer, 'adam', 1e-3, { step: 1, bestTestNats: 90, bestStep: 1 });
  optimizer.dispose();
  const run = RunFolder.create(mkdtempSync(path.join(tmpdir(), 'pixel-lab-conditional-cli-')), text, {
    experiment: 'c',
    experimentFile: path.join(tmpdir(), 'c.pixel.json'),
    steps: 1,
    ...conditionalInfo(model.classes || undefined, names),
  });
  run.writeCheckpoint('best', encodeCheckpoint(checkpoint));
  run.update({ status: 'finished', step: 1 });
  return { run, model };
}

const CONDITIONAL = JSON.stringify({
  model: { type: 'gated-pixelcnn', layers: 1, hidden: 4, firstKernel: 3, kernel: 3, outputHidden: 4, conditional: true },
  data: { dataset: 'fashion-mnist', height: 6, width: 6 },
  training: { backend: 'wasm', seed: 5 },
  sampling: { count: 4 },
});

describe('pixel-lab sample, class-conditional', () => {
  beforeAll(() => useBackend('wasm'));

  it('is built', () => expect(existsSync(CLI), 'run npm run build first').toBe(true));

  it('--class K and --class NAME draw the engine’s images of that class; --per-class N one row per class', async () => {
    const { run, model } = await runOf(CONDITIONAL, NAMES);
    const byName = path.join(run.dir, 'trouser.png');
    const named = pixelLab('sample', run.dir, '--class', 'trouser', '--out', byName);
    expect(named.err).toBe('');
    expect(named.code).toBe(0);
    expect(named.out).toMatch(/4 samples of class 1 \(Trouser\) from the best checkpoint/);
    const byIndex = path.join(run.dir, 'one.png');
    expect(pixelLab('sample', run.dir, '--class', '1', '--out', byIndex).code).toBe(0);
    expect(readFileSync(byIndex).equals(readFileSync(byName))).toBe(true);
    // Exactly what the engine draws for class 1 with the experiment's seed (5)…
    const grid = (images: Uint8Array, count: number, columns?: number) => Buffer.from(encodeGrid(images, { count, height: 6, width: 6, channels: 1, levels: 2, ...(columns ? { columns } : {}) }));
    const trousers = await sample(model, { count: 4, seed: 5, classes: [1, 1, 1, 1] });
    expect(readFileSync(byName).equals(grid(trousers, 4))).toBe(true);
    // …and not what it draws for another class.
    const bags = path.join(run.dir, 'bags.png');
    expect(pixelLab('sample', run.dir, '--class', 'Bag', '--out', bags).code).toBe(0);
    expect(readFileSync(bags).equals(readFileSync(byName))).toBe(false);

    const perClass = path.join(run.dir, 'per-class.png');
    const rows = pixelLab('sample', run.dir, '--per-class', '3', '--out', perClass);
    expect(rows.code).toBe(0);
    expect(rows.out).toMatch(/30 samples, one row of 3 per class \(10 rows: T-shirt\/top, Trouser/);
    const png = PNG.sync.read(readFileSync(perClass));
    const tile = (png.width - 1) / 3; // 3 columns of (6·scale + gap), then a gap
    expect(png.height).toBe(10 * tile + 1);
    const expected = await sample(model, { count: 30, seed: 5, classes: Array.from({ length: 30 }, (_, n) => Math.floor(n / 3)) });
    expect(readFileSync(perClass).equals(grid(expected, 30, 3))).toBe(true);
    model.dispose();
  });

  it('says what the classes are when one is wrong, and refuses classes for an unconditional run', async () => {
    const { run, model } = await runOf(CONDITIONAL, NAMES);
    const unknown = pixelLab('sample', run.dir, '--class', 'Hat');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe('pixel-lab: --class "Hat" is not a class of this run: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot\n');
    expect(pixelLab('sample', run.dir, '--class', '10').err).toMatch(/--class 10: this run's model has 10 classes: 0 T-shirt/);
    expect(pixelLab('sample', run.dir, '--class', '1', '--per-class', '2').err).toMatch(/do not go together/);
    model.dispose();
    // A run without class names takes indices only.
    const { run: bare, model: bareModel } = await runOf(CONDITIONAL);
    expect(pixelLab('sample', bare.dir, '--class', 'Trouser').err).toMatch(/is not a class of this run \(0 … 9; this run has no class names\)/);
    bareModel.dispose();
    const plain = await runOf(CONDITIONAL.replace('"conditional":true', '"conditional":false'));
    const refused = pixelLab('sample', plain.run.dir, '--class', '1');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/--class: this run's model is not class-conditional/);
    plain.model.dispose();
  });
});

describe('pixel-lab train, class-conditional, on the bundled Fashion-MNIST labels', () => {
  it('trains with the real labels: conditional NLL on validation and test, the class names in run.json, eval and --map by label', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pixel-lab-conditional-train-'));
    const file = path.join(dir, 'c.pixel.json');
    writeFileSync(file, JSON.stringify({
      model: { type: 'gated-pixelcnn', layers: 1, hidden: 4, firstKernel: 3, kernel: 3, outputHidden: 4, conditional: true },
      data: { dataset: 'fashion-mnist', height: 6, width: 6, levels: 2, limit: 200, validationFraction: 0.1 },
      training: { backend: 'wasm', steps: 2, batchSize: 4, evalEvery: 2, evalImages: 16, sampleEvery: 2, checkpointEvery: 2 },
      sampling: { count: 4 },
    }));
    const train = pixelLab('train', file, '--out', path.join(dir, 'runs'));
    expect(train.err).not.toMatch(/pixel-lab:/);
    expect(train.code).toBe(0);
    const said = train.out + train.err;
    expect(said).toMatch(/conditional on 10 classes/);
    expect(said).toMatch(/validation conditional NLL/);
    expect(said).toMatch(/test conditional NLL/);
    const runDir = /checkpoints: (\S*)[\\/]checkpoints[\\/]latest/.exec(train.out)![1];
    const info = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8'));
    expect(info).toMatchObject({ conditional: true, classes: 10, classNames: NAMES });
    const metrics = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const held = metrics.filter((m) => m.split !== 'train');
    expect(held.map((m) => [m.split, m.conditional])).toEqual([['validation', true], ['test', true]]);
    const evaluated = pixelLab('eval', runDir, '--json');
    expect(evaluated.code).toBe(0);
    expect(JSON.parse(evaluated.out)).toMatchObject({ conditional: true, split: 'test', validation: { images: 18 } });
    const map = pixelLab('eval', runDir, '--map', '0', '--json', '--out', path.join(dir, 'map.png'));
    expect(map.err).toBe('');
    expect(JSON.parse(map.out)).toMatchObject({ testImage: 0, conditional: true, class: expect.any(Number) });
    expect(existsSync(path.join(dir, 'map.png'))).toBe(true);
  }, 120_000);
});
