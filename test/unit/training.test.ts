/**
 * Training runs on disk: the files a run leaves, resume giving the same result as an uninterrupted run, a NaN loss
 * failing the run with a clear message while the last good checkpoint stays, and a stop honoured after a step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelFor, prepareData, readExperiment, type Reporter, resumeRun, startRun, trainRun } from '../../src/cli/session';
import { RunFolder } from '../../src/runs/run-folder';
import { createOptimizer, decodeCheckpoint, encodeCheckpoint } from '../../src/train/checkpoint';
import { useBackend } from '../support/engine';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'tiny-mnist.pixel.json');
const quiet: Reporter = { info: () => {}, warn: () => {}, step: () => {}, done: () => {} };
const never = () => false;
const tmp = () => mkdtempSync(path.join(tmpdir(), 'pixel-lab-runs-'));

beforeAll(() => useBackend('wasm'));

describe('a run on disk', () => {
  it('leaves run.json, metrics, checkpoints and sample grids, with no temporary files', async () => {
    const result = await startRun(FIXTURE, tmp(), {}, quiet, never);
    expect(result.status).toBe('finished');
    const run = result.run;
    expect(run.info).toMatchObject({ status: 'finished', step: 12, steps: 12, backend: 'wasm', experiment: 'tiny-mnist' });
    const metrics = run.metrics();
    expect(metrics.filter((m) => m.split === 'train').map((m) => m.step)).toEqual(Array.from({ length: 12 }, (_, k) => k + 1));
    expect(metrics.filter((m) => m.split === 'test').map((m) => m.step)).toEqual([6, 12]);
    for (const m of metrics) expect(m.bitsPerDim).toBeCloseTo(m.nats / (144 * Math.LN2), 6);
    expect(decodeCheckpoint(run.readCheckpoint('latest')!).state.step).toBe(12);
    expect(run.readCheckpoint('best')).not.toBeNull();
    const png = readFileSync(run.sampleFiles()[0]);
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    const everything = [run.dir, path.join(run.dir, 'checkpoints'), path.join(run.dir, 'samples')].flatMap((d) => readdirSync(d));
    expect(everything.filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(readFileSync(run.experimentFile, 'utf8')).toBe(readFileSync(FIXTURE, 'utf8'));
  });

  it('resumed after a stop, ends with the same metrics as a run that went straight through', async () => {
    const straight = await startRun(FIXTURE, tmp(), {}, quiet, never);
    let steps = 0;
    const stopped = await startRun(FIXTURE, tmp(), {}, { ...quiet, step: () => void steps++ }, () => steps >= 5);
    expect(stopped.status).toBe('stopped');
    expect(stopped.run.info).toMatchObject({ status: 'stopped', step: 5 });
    expect(decodeCheckpoint(stopped.run.readCheckpoint('latest')!).state.step).toBe(5);
    const resumed = await resumeRun(stopped.run.dir, {}, quiet, never);
    expect(resumed.status).toBe('finished');
    expect(resumed.run.info.resumedAt).toEqual([5]);
    const a = straight.run.metrics();
    const b = resumed.run.metrics();
    expect(b.map((m) => [m.step, m.split])).toEqual(a.map((m) => [m.step, m.split]));
    b.forEach((m, k) => expect(m.nats).toBeCloseTo(a[k].nats, 3));
    expect(resumed.state.bestTestNats!).toBeCloseTo(straight.state.bestTestNats!, 3);
  });

  it('resuming a checkpoint from before validation sets never replaces its best with a worse one', async () => {
    const { experiment, text } = readExperiment(FIXTURE);
    const prepared = prepareData(experiment, FIXTURE, text, quiet);
    expect(prepared.batches.split.validation.length).toBeGreaterThan(0);
    const model = modelFor(prepared);
    const optimizer = createOptimizer(experiment.training.optimizer, experiment.training.learningRate);
    const run = RunFolder.create(tmp(), text, { experiment: experiment.name, experimentFile: FIXTURE, steps: experiment.training.steps, backend: 'wasm' });
    // Its best was chosen by test NLL (no bestValidationNats): an unbeatable one, so nothing later may replace it.
    const legacy = { step: 0, bestTestNats: 1e-6, bestStep: 0 };
    const result = await trainRun(run, prepared, model, optimizer, legacy, quiet, never);
    expect(result.status).toBe('finished');
    expect(result.state.bestStep).toBe(0);
    expect(result.state.bestTestNats).toBe(1e-6);
  });

  it('fails a run whose loss becomes NaN, saying so, and keeps the last good checkpoint', async () => {
    const { experiment, text } = readExperiment(FIXTURE);
    const prepared = prepareData(experiment, FIXTURE, text, quiet);
    const model = modelFor(prepared);
    const optimizer = createOptimizer('adam', 0.003);
    // A fault: after the fifth update one weight turns NaN, so step 6's loss is NaN.
    const apply = optimizer.applyGradients.bind(optimizer);
    let updates = 0;
    optimizer.applyGradients = (grads) => {
      apply(grads);
      if (++updates === 5) tf.tidy(() => model.params.variables[0].assign(tf.fill(model.params.variables[0].shape, NaN)));
    };
    const run = RunFolder.create(tmp(), text, { experiment: experiment.name, experimentFile: FIXTURE, steps: 12 });
    const result = await trainRun(run, prepared, model, optimizer, { step: 0, bestTestNats: null, bestStep: null }, quiet, never);
    expect(result.status).toBe('failed');
    expect(run.info.status).toBe('failed');
    expect(run.info.error).toMatch(/the training loss became NaN at step 6: training diverged .* the last good checkpoint is kept/);
    // Checkpoints come every 4 steps: the one of step 4 is the last good one, and it is still there, intact.
    const latest = decodeCheckpoint(run.readCheckpoint('latest')!);
    expect(latest.state.step).toBe(4);
    expect(run.info.step).toBe(4);
    expect(new Float32Array(latest.model.weightData).every(Number.isFinite)).toBe(true);
  });

  it('refuses to resume a run without a checkpoint, and a damaged checkpoint, with clear errors', async () => {
    const { text } = readExperiment(FIXTURE);
    const run = RunFolder.create(tmp(), text, { experiment: 'x', experimentFile: FIXTURE, steps: 12 });
    await expect(resumeRun(run.dir, {}, quiet, never)).rejects.toThrow(/is still training \(process \d+ on .*\): stop it first/);
    run.update({ status: 'stopped' });
    await expect(resumeRun(run.dir, {}, quiet, never)).rejects.toThrow(/has no checkpoint to resume from/);
    const good = (await startRun(FIXTURE, tmp(), { steps: 4 }, quiet, never)).run;
    const bytes = good.readCheckpoint('latest')!;
    writeFileSync(good.checkpointPath('latest'), bytes.subarray(0, bytes.length - 10));
    await expect(resumeRun(good.dir, {}, quiet, never)).rejects.toThrow(/truncated or damaged/);
    expect(() => decodeCheckpoint(encodeCheckpoint(decodeCheckpoint(bytes)).subarray(0, 30))).toThrow(/truncated/);
  });

  it('reads metrics whose last line a crash cut short', async () => {
    const { run } = await startRun(FIXTURE, tmp(), { steps: 2 }, quiet, never);
    writeFileSync(path.join(run.dir, 'metrics.jsonl'), `${readFileSync(path.join(run.dir, 'metrics.jsonl'), 'utf8')}{"step":3,"spl`);
    expect(run.metrics().map((m) => `${m.step} ${m.split}`)).toEqual(['1 train', '2 train', '2 validation', '2 test']);
    expect(existsSync(run.checkpointPath('latest'))).toBe(true);
  });
});
