/**
 * Training with the twin under torchrun: 2 processes on the CPU (gloo) split each batch and DDP averages their
 * gradients, so after K steps their parameters equal a 1-process run on the whole batch; a run resumed on a
 * different number of ranks continues as if uninterrupted; and rank 0 leaves a run folder in Pixel Lab's format
 * that the TS engine opens as its own (run.json, metrics.jsonl, a sample grid, a .ckpt it restores and trains on);
 * a run started from a TS model's weights takes its first step on the TS trainer's batch with the TS loss; and a
 * run the TS trainer started continues in the twin with the steps the TS trainer takes (Adam and RMSProp); SIGTERM
 * stops a run after its step, saved.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeIdx } from '../../src/data/idx';
import { gridLayout } from '../../src/data/grid';
import { experimentBatches } from '../../src/data/batches';
import { loadImages } from '../../src/data/node-load';
import { dataClasses, parseExperiment } from '../../src/experiment/experiment';
import { modelConfigOf } from '../../src/experiment/types';
import { createModel } from '../../src/model/index';
import { decodeSafetensors, loadSafetensorsModel, savedModelToSafetensors } from '../../src/model/safetensors';
import { saveModel } from '../../src/model/serialize';
import { Random } from '../../src/model/random';
import { RunFolder } from '../../src/runs/run-folder';
import { captureCheckpoint, createOptimizer, decodeCheckpoint, encodeCheckpoint, restoreCheckpoint } from '../../src/train/checkpoint';
import { evaluate } from '../../src/train/loop';
import { batchLoss, trainStep } from '../../src/train/step';
import { randomizeWeights, useBackend } from '../support/engine';
import { PYTHON_ROOT, runTwin, TORCH } from './torch-support';

const dir = mkdtempSync(path.join(tmpdir(), 'pixel-lab-torchrun-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STEPS = 3;
const experiment = path.join(dir, 'tiny.pixel.json');

/** The single run folder under `parent`. */
function runIn(parent: string): string {
  const [id] = readdirSync(parent);
  return path.join(parent, id);
}

/** `torchrun --standalone --nproc_per_node=N -m pixel_lab.train …args`. (`--redirects 1 --tee 1` works around a
 *  bug of torch 1.13 on Python 3.11, whose default "no redirect" fails to parse; on any torch it keeps stdout.) */
function torchrun(ranks: number, args: string[]): string {
  const r = spawnSync(TORCH.python!, ['-m', 'torch.distributed.run', '--standalone', `--nproc_per_node=${ranks}`, '--redirects', '1', '--tee', '1', '-m', 'pixel_lab.train', ...args], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: PYTHON_ROOT, OMP_NUM_THREADS: '1' },
    timeout: 240_000,
  });
  if (r.status !== 0) throw new Error(`torchrun exited with ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Parameters (not optimiser slots) of a twin checkpoint. */
function parameters(run: string): Map<string, Float32Array> {
  const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(path.join(run, 'checkpoints', 'latest.safetensors'))));
  return new Map([...tensors].filter(([k]) => !k.startsWith('optimizer/')).map(([k, t]) => [k, t.data as Float32Array]));
}

function largestDifference(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  let worst = 0;
  for (const [k, v] of a) v.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - b.get(k)![i]))));
  return worst;
}

describe.skipIf(!TORCH.python)('torchrun with the twin', () => {
  let oneRank: string;
  let twoRanks: string;

  beforeAll(async () => {
    await useBackend('cpu');
    const rng = new Random(8);
    writeFileSync(path.join(dir, 'tiny.idx'), encodeIdx([40, 8, 8], Uint8Array.from({ length: 40 * 64 }, () => rng.int(256))));
    writeFileSync(
      experiment,
      JSON.stringify({
        model: { type: 'row-lstm', layers: 1, hidden: 8, firstKernel: 3, outputHidden: 8 },
        data: { dataset: 'idx', path: 'tiny.idx', levels: 2, binarize: 'stochastic' },
        // A large learning rate, so that a gradient that is not averaged over the ranks shows at once.
        training: { steps: STEPS, batchSize: 4, learningRate: 0.05, evalEvery: 2, sampleEvery: 3, checkpointEvery: 2, evalImages: 8 },
        sampling: { count: 4 },
      }),
    );
    runTwin('train', [experiment, '--out', path.join(dir, 'one')]);
    torchrun(2, [experiment, '--out', path.join(dir, 'two')]);
    oneRank = runIn(path.join(dir, 'one'));
    twoRanks = runIn(path.join(dir, 'two'));
  });

  it('2 ranks on half batches end where 1 rank on the whole batches does, after moving far', () => {
    const one = parameters(oneRank);
    const start = new Map(
      Object.entries(JSON.parse(runTwinPython(`
import json
from pixel_lab import create_model, ts_name
from pixel_lab.safetensors_io import read_file
_, meta = read_file(${JSON.stringify(path.join(oneRank, 'checkpoints', 'latest.safetensors'))})
m = create_model(json.loads(meta['config']))
print(json.dumps({ts_name(k): v.flatten().tolist() for k, v in m.state_dict().items()}))
`)) as Record<string, number[]>).map(([k, v]) => [k, Float32Array.from(v)]),
    );
    expect(largestDifference(one, start)).toBeGreaterThan(0.05);
    expect(largestDifference(one, parameters(twoRanks))).toBeLessThan(1e-5);
  });

  it('leaves a run folder that the TS engine opens as its own', async () => {
    const info = JSON.parse(readFileSync(path.join(twoRanks, 'run.json'), 'utf8'));
    expect(info).toMatchObject({ status: 'finished', step: STEPS, steps: STEPS, backend: 'pytorch', experiment: 'tiny' });
    expect(info.adapter).toMatch(/2 × CPU.*gloo/);
    const metrics = readFileSync(path.join(twoRanks, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.filter((m) => m.split === 'train').map((m) => m.step)).toEqual([1, 2, 3]);
    expect(metrics.filter((m) => m.split === 'test').map((m) => m.step)).toEqual([2, 3]);
    for (const m of metrics) {
      expect(Object.keys(m).sort()).toEqual(['bitsPerDim', 'nats', 'seconds', 'split', 'step', 'time', ...(m.split === 'train' ? ['imagesPerSecond'] : [])].sort());
      expect(m.bitsPerDim).toBeCloseTo(m.nats / (64 * Math.LN2), 6);
    }
    const png = PNG.sync.read(readFileSync(path.join(twoRanks, 'samples', 'step-000003.png')));
    const layout = gridLayout({ count: 4, height: 8, width: 8, channels: 1, levels: 2 });
    expect([png.width, png.height]).toEqual([layout.width, layout.height]);
    // The TS engine's own checkpoint: the model loads with the twin's weights, the optimiser state restores and
    // takes a step.
    const checkpoint = decodeCheckpoint(new Uint8Array(readFileSync(path.join(twoRanks, 'checkpoints', 'latest.ckpt'))));
    expect(checkpoint.state.step).toBe(STEPS);
    const { model, optimizer } = await restoreCheckpoint(checkpoint);
    const twin = loadSafetensorsModel(new Uint8Array(readFileSync(path.join(twoRanks, 'checkpoints', 'latest.safetensors'))));
    const x = tf.tensor4d(Float32Array.from({ length: 2 * 64 }, (_, k) => (k * 7) % 3 === 0 ? 1 : 0), [2, 8, 8, 1]);
    expect(Array.from(await model.logits(x).data())).toEqual(Array.from(await twin.logits(x).data()));
    expect(Number.isFinite(await trainStep(model, optimizer, x))).toBe(true);
    model.dispose();
    twin.dispose();
    optimizer.dispose();
  });

  it('starts from a TS model’s weights, its first loss the TS trainer’s on the same batch', async () => {
    const text = readFileSync(experiment, 'utf8');
    const e = parseExperiment(text, experiment);
    const batches = experimentBatches(e, loadImages(e, experiment, text).set);
    const model = createModel(modelConfigOf(e, batches.shape));
    // Weights other than the initial ones (which the twin would draw the same): the run must start from these.
    randomizeWeights(model, 3);
    const weights = path.join(dir, 'from-ts.safetensors');
    writeFileSync(weights, savedModelToSafetensors(await saveModel(model)));
    const x = tf.tensor4d(batches.train(0, 4), [4, 8, 8, 1]);
    const tsNats = (await batchLoss(model, x).data())[0] * 64;
    tf.dispose(x);
    model.dispose();
    runTwin('train', [experiment, '--out', path.join(dir, 'from-ts'), '--weights', weights, '--steps', '1']);
    const first = JSON.parse(readFileSync(path.join(runIn(path.join(dir, 'from-ts')), 'metrics.jsonl'), 'utf8').split('\n')[0]);
    expect(first.step).toBe(1);
    expect(Math.abs(first.nats - tsNats) / tsNats).toBeLessThan(1e-5);
  });

  it('trains a class-conditional experiment on its labels: its first loss, validation and test NLL the TS engine’s', async () => {
    writeFileSync(path.join(dir, 'tiny-labels.idx'), encodeIdx([40], Uint8Array.from({ length: 40 }, (_, k) => (k * 5) % 3)));
    const file = path.join(dir, 'conditional.pixel.json');
    const text = JSON.stringify({
      model: { type: 'gated-pixelcnn', layers: 1, hidden: 4, firstKernel: 3, kernel: 3, outputHidden: 4, conditional: true },
      data: { dataset: 'idx', path: 'tiny.idx', labels: 'tiny-labels.idx', levels: 2, binarize: 'stochastic', validationFraction: 0.2 },
      training: { steps: 1, batchSize: 4, learningRate: 0.05, evalEvery: 1, sampleEvery: 1, checkpointEvery: 1, evalImages: 8 },
      sampling: { count: 3 },
    });
    writeFileSync(file, text);
    const e = parseExperiment(text, file);
    const set = loadImages(e, file, text).set;
    const classes = dataClasses(e, set, file, text)!;
    expect(classes).toEqual({ classes: 3, classNames: ['0', '1', '2'] });
    const batches = experimentBatches(e, set);
    const model = createModel(modelConfigOf(e, batches.shape, classes.classes));
    randomizeWeights(model, 4);
    // Classes that differ plainly, so that a wrong label would show.
    for (const [name, v] of model.params.named()) if (name.endsWith('-class/embedding')) v.assign(tf.mul(v, 8));
    const weights = path.join(dir, 'conditional.safetensors');
    writeFileSync(weights, savedModelToSafetensors(await saveModel(model)));
    const x = tf.tensor4d(batches.train(0, 4), [4, 8, 8, 1]);
    const tsNats = (await batchLoss(model, x, batches.trainLabels(0, 4)).data())[0] * 64;
    // With each image's own label the loss is not what the same images give as of other classes.
    const shifted = Array.from(batches.trainLabels(0, 4), (k) => (k + 1) % 3);
    const wrongNats = (await batchLoss(model, x, shifted).data())[0] * 64;
    tf.dispose(x);
    expect(Math.abs(wrongNats - tsNats)).toBeGreaterThan(5e-3);
    const out = runTwin('train', [file, '--out', path.join(dir, 'conditional'), '--weights', weights, '--steps', '1']).stdout;
    expect(out).toMatch(/conditional on 3 classes/);
    expect(out).toMatch(/validation conditional NLL/);
    const run = runIn(path.join(dir, 'conditional'));
    const metrics = readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.map((m) => [m.split, m.conditional])).toEqual([['train', true], ['validation', true], ['test', true]]);
    expect(Math.abs(metrics[0].nats - tsNats) / tsNats).toBeLessThan(1e-5);
    expect(JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8'))).toMatchObject({ conditional: true, classes: 3, classNames: ['0', '1', '2'] });
    // The twin's evaluation after its step is the TS engine's on its weights, each held-out image with its label.
    const trained = loadSafetensorsModel(new Uint8Array(readFileSync(path.join(run, 'checkpoints', 'latest.safetensors'))));
    for (const [k, split] of [[1, 'validation'], [2, 'test']] as const) {
      const ts = await evaluate(trained, batches, 8, undefined, split);
      expect(ts.conditional).toBe(true);
      expect(Math.abs(metrics[k].nats - ts.nats) / ts.nats).toBeLessThan(1e-4);
    }
    trained.dispose();
    model.dispose();
  });

  it.each(['adam', 'rmsprop'])('continues a run the TS trainer started (%s), taking the steps the TS trainer takes', async (name) => {
    const file = path.join(dir, `ts-${name}.pixel.json`);
    const text = readFileSync(experiment, 'utf8').replace('"batchSize"', `"optimizer":"${name}","batchSize"`);
    writeFileSync(file, text);
    const e = parseExperiment(text, file);
    const batches = experimentBatches(e, loadImages(e, file, text).set);
    const model = createModel(modelConfigOf(e, batches.shape));
    const optimizer = createOptimizer(e.training.optimizer, e.training.learningRate);
    const step = async (s: number) => {
      const x = tf.tensor4d(batches.train(s - 1, 4), [4, 8, 8, 1]);
      await trainStep(model, optimizer, x);
      x.dispose();
    };
    await step(1);
    await step(2);
    const run = RunFolder.create(path.join(dir, `ts-${name}`), text, { experiment: e.name, experimentFile: file, steps: 2, backend: 'cpu' });
    const state = { step: 2, bestTestNats: null, bestStep: null };
    run.writeCheckpoint('latest', encodeCheckpoint(await captureCheckpoint(model, optimizer, e.training.optimizer, e.training.learningRate, state)));
    run.update({ step: 2, status: 'stopped' });
    await step(3);
    await step(4);
    runTwin('train', ['--resume', run.dir, '--steps', '4']);
    const ts = new Map(await Promise.all(model.params.named().map(async ([k, v]) => [k, (await v.data()) as Float32Array] as const)));
    expect(largestDifference(parameters(run.dir), ts)).toBeLessThan(1e-4);
    model.dispose();
    optimizer.dispose();
  });

  it('stops after the current step on SIGTERM, saved, with the run marked stopped', async () => {
    const child = spawn(TORCH.python!, ['-m', 'pixel_lab.train', experiment, '--out', path.join(dir, 'stopped'), '--steps', '100000'], {
      env: { ...process.env, PYTHONPATH: PYTHON_ROOT, OMP_NUM_THREADS: '1' },
    });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (/step 3\/100000/.test(out) && child.exitCode === null && !child.killed) child.kill('SIGTERM');
    });
    expect(await exited).toBe(0);
    const run = runIn(path.join(dir, 'stopped'));
    const info = JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8'));
    expect(info.status).toBe('stopped');
    expect(info.step).toBeGreaterThanOrEqual(3);
    expect(info.step).toBeLessThan(100000);
    const checkpoint = decodeCheckpoint(new Uint8Array(readFileSync(path.join(run, 'checkpoints', 'latest.ckpt'))));
    expect(checkpoint.state.step).toBe(info.step);
  });

  it('fails with one line naming a missing data file, leaving no run folder', () => {
    const file = path.join(dir, 'missing.pixel.json');
    writeFileSync(file, readFileSync(experiment, 'utf8').replace('tiny.idx', 'nowhere.idx'));
    const r = spawnSync(TORCH.python!, ['-m', 'pixel_lab.train', file, '--out', path.join(dir, 'missing')], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: PYTHON_ROOT } });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`error: ${file}: data.path: no such file: ${path.join(dir, 'nowhere.idx')}`);
    expect(existsSync(path.join(dir, 'missing'))).toBe(false);
  });

  it('resumes on another number of ranks as if never interrupted', () => {
    torchrun(2, ['--resume', oneRank, '--steps', String(STEPS + 2)]);
    runTwin('train', [experiment, '--out', path.join(dir, 'straight'), '--steps', String(STEPS + 2)]);
    const straight = runIn(path.join(dir, 'straight'));
    expect(largestDifference(parameters(oneRank), parameters(straight))).toBeLessThan(1e-5);
    const info = JSON.parse(readFileSync(path.join(oneRank, 'run.json'), 'utf8'));
    expect(info).toMatchObject({ status: 'finished', step: STEPS + 2, resumedAt: [STEPS] });
  });
});

function runTwinPython(code: string): string {
  const r = spawnSync(TORCH.python!, ['-c', code], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: PYTHON_ROOT } });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}
