/**
 * A training session in Node: experiment → data → model → run folder, with the shared training loop. Used by
 * `pixel-lab train` and `pixel-lab resume`; the extension runs the same loop in its webview.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { selectNodeBackend } from '../backend/node';
import type { BackendChoice, BackendPreference } from '../backend/select';
import { type Batches, experimentBatches } from '../data/batches';
import { loadImages } from '../data/node-load';
import { type Experiment, modelConfigOf, parseExperiment } from '../experiment/experiment';
import { createModel } from '../model/index';
import type { PixelModel } from '../model/model';
import { encodeGrid } from '../runs/png';
import { RunFolder, runsFolderOf } from '../runs/run-folder';
import { createOptimizer, decodeCheckpoint, encodeCheckpoint, restoreCheckpoint, type TrainState } from '../train/checkpoint';
import { failureMessage, type StepReport, trainLoop, trainSettings } from '../train/loop';

export interface Reporter {
  info(line: string): void;
  warn(line: string): void;
  step(report: StepReport, total: number): void;
  done(): void;
}

export interface SessionResult {
  readonly run: RunFolder;
  readonly state: TrainState;
  readonly status: 'finished' | 'stopped' | 'failed';
  readonly error?: string;
}

export interface PreparedExperiment {
  readonly experiment: Experiment;
  readonly file: string;
  readonly text: string;
  readonly batches: Batches;
  readonly source: string;
}

export function readExperiment(file: string, overrides: { steps?: number; backend?: BackendPreference } = {}): { experiment: Experiment; text: string } {
  const text = readFileSync(file, 'utf8');
  const parsed = parseExperiment(text, file);
  const training = { ...parsed.training, ...(overrides.steps ? { steps: overrides.steps } : {}), ...(overrides.backend ? { backend: overrides.backend } : {}) };
  return { experiment: { ...parsed, training }, text };
}

export function prepareData(experiment: Experiment, file: string, text: string, reporter: Reporter): PreparedExperiment {
  const loaded = loadImages(experiment, file, text);
  loaded.warnings.forEach((w) => reporter.warn(w));
  return { experiment, file, text, batches: experimentBatches(experiment, loaded.set), source: loaded.source };
}

export function modelFor(prepared: PreparedExperiment): PixelModel {
  return createModel(modelConfigOf(prepared.experiment, prepared.batches.shape));
}

export async function chooseBackend(preference: BackendPreference, reporter: Reporter): Promise<BackendChoice> {
  const choice = await selectNodeBackend(preference);
  const fallbacks = choice.fallbacks.map((f) => `${f.name} (${f.reason})`).join('; ');
  reporter.info(`backend: ${choice.name} — ${choice.adapter}${fallbacks ? `; not used: ${fallbacks}` : ''}`);
  return choice;
}

/** Train a new run of an experiment. */
export async function startRun(file: string, out: string | undefined, overrides: { steps?: number; backend?: BackendPreference }, reporter: Reporter, stop: () => boolean): Promise<SessionResult> {
  const { experiment, text } = readExperiment(file, overrides);
  const backend = await chooseBackend(experiment.training.backend, reporter);
  const prepared = prepareData(experiment, file, text, reporter);
  reporter.info(`data: ${prepared.source}, ${prepared.batches.split.train.length} for training, ${prepared.batches.split.test.length} for testing`);
  const parent = out ? path.resolve(out) : runsFolderOf(file, experiment.name);
  const run = RunFolder.create(parent, text, {
    experiment: experiment.name,
    experimentFile: path.resolve(file),
    steps: experiment.training.steps,
    backend: backend.name,
    adapter: backend.adapter,
  });
  reporter.info(`run folder: ${run.dir}`);
  const model = modelFor(prepared);
  const optimizer = createOptimizer(experiment.training.optimizer, experiment.training.learningRate);
  return trainRun(run, prepared, model, optimizer, { step: 0, bestTestNats: null, bestStep: null }, reporter, stop);
}

/** Resume a run from its latest checkpoint. */
export async function resumeRun(dir: string, overrides: { backend?: BackendPreference; steps?: number }, reporter: Reporter, stop: () => boolean): Promise<SessionResult> {
  const run = RunFolder.open(dir);
  const bytes = run.readCheckpoint('latest');
  if (!bytes) throw new Error(`${run.dir} has no checkpoint to resume from (checkpoints/latest.ckpt)`);
  const { experiment, text } = readExperiment(run.experimentFile, overrides);
  const backend = await chooseBackend(experiment.training.backend, reporter);
  const checkpoint = decodeCheckpoint(bytes, run.checkpointPath('latest'));
  const prepared = prepareData(experiment, run.info.experimentFile, text, reporter);
  const { model, optimizer } = await restoreCheckpoint(checkpoint);
  run.truncateMetrics(checkpoint.state.step);
  const info = run.info;
  run.update({ status: 'running', error: undefined, endedAt: undefined, step: checkpoint.state.step, steps: experiment.training.steps, backend: backend.name, adapter: backend.adapter, resumedAt: [...(info.resumedAt ?? []), checkpoint.state.step] });
  reporter.info(`resuming ${run.dir} at step ${checkpoint.state.step} of ${experiment.training.steps}`);
  return trainRun(run, prepared, model, optimizer, checkpoint.state, reporter, stop);
}

/** Train in a run folder from `start`: metrics, checkpoints and samples are written as they come. */
export async function trainRun(run: RunFolder, prepared: PreparedExperiment, model: PixelModel, optimizer: tf.Optimizer, start: TrainState, reporter: Reporter, stop: () => boolean): Promise<SessionResult> {
  const { experiment } = prepared;
  const { height, width, channels } = model.config.image;
  const settings = trainSettings(experiment);
  let state = start;
  try {
    const outcome = await trainLoop(model, optimizer, prepared.batches, settings, start, {
      onStep: (r) => {
        run.appendMetrics({ step: r.step, split: 'train', nats: r.nats, bitsPerDim: r.bitsPerDim, imagesPerSecond: r.imagesPerSecond, seconds: r.seconds, time: new Date().toISOString() });
        reporter.step(r, settings.steps);
      },
      onEval: (r) => {
        run.appendMetrics({ step: r.step, split: 'test', nats: r.nats, bitsPerDim: r.bitsPerDim, seconds: 0, time: new Date().toISOString() });
        reporter.info(`step ${r.step}: test NLL ${r.nats.toFixed(2)} nats/image, ${r.bitsPerDim.toFixed(4)} bits/dim (${r.images} images)${r.best ? ', best so far' : ''}`);
      },
      onSamples: (step, images) => {
        const png = encodeGrid(images, { count: settings.sampleCount, height, width, channels, levels: model.head.levels });
        reporter.info(`step ${step}: samples ${run.writeSamples(step, png)}`);
      },
      onCheckpoint: (checkpoint, kinds) => {
        state = checkpoint.state;
        const bytes = encodeCheckpoint(checkpoint);
        for (const kind of kinds) run.writeCheckpoint(kind, bytes);
        run.update({ step: checkpoint.state.step, bestTestNats: checkpoint.state.bestTestNats, bestStep: checkpoint.state.bestStep });
      },
      shouldStop: stop,
    });
    const status = outcome.stopped ? 'stopped' : 'finished';
    run.update({ status, step: outcome.state.step, endedAt: new Date().toISOString() });
    return { run, state: outcome.state, status };
  } catch (error) {
    const message = failureMessage(error);
    run.update({ status: 'failed', error: message, endedAt: new Date().toISOString(), step: state.step });
    return { run, state, status: 'failed', error: message };
  } finally {
    reporter.done();
    model.dispose();
    optimizer.dispose();
  }
}
