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
import { type DataClasses, dataClasses, type Experiment, modelConfigOf, parseExperiment, splitOf } from '../experiment/experiment';
import { createModel } from '../model/index';
import type { PixelModel } from '../model/model';
import { encodeGrid } from '../runs/png';
import { conditionalInfo, effectiveStatus, HEARTBEAT_MS, type RunInfo, RunFolder, runsFolderOf, WriteError } from '../runs/run-folder';
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
  /** A class-conditional experiment's classes (from its data's labels); null for an unconditional one. */
  readonly classes: DataClasses | null;
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
  const classes = dataClasses(experiment, loaded.set, file, text);
  return { experiment, file, text, batches: experimentBatches(experiment, loaded.set), source: loaded.source, classes };
}

/** Where the images came from and how they split, in words. */
export function dataLine(prepared: PreparedExperiment): string {
  const { train, validation, test } = prepared.batches.split;
  const official = splitOf(prepared.experiment) === 'official';
  return `${prepared.source}; ${train.length} for training, ${validation.length} for validation, ${test.length} for testing (${official ? 'the official test set' : `a random split, seed ${prepared.experiment.data.seed}`})`;
}

export function modelFor(prepared: PreparedExperiment): PixelModel {
  return createModel(modelConfigOf(prepared.experiment, prepared.batches.shape, prepared.classes?.classes));
}

/** "NLL", or "conditional NLL" for a class-conditional model: −log p(x | class) is not −log p(x). */
export function nllName(conditional: boolean | undefined): string {
  return conditional ? 'conditional NLL' : 'NLL';
}

export async function chooseBackend(preference: BackendPreference, reporter: Reporter): Promise<BackendChoice> {
  const choice = await selectNodeBackend(preference);
  const fallbacks = choice.fallbacks.map((f) => `${f.name} (${f.reason})`).join('; ');
  reporter.info(`backend: ${choice.name} — ${choice.adapter}${fallbacks ? `; not used: ${fallbacks}` : ''}`);
  return choice;
}

/**
 * Told about the run folder once it exists (and null once the run has ended), so that a caller can mark it on the
 * way out — the CLI's second Ctrl+C.
 */
export type RunTracker = (run: RunFolder | null) => void;

/**
 * Train a new run of an experiment. Everything that can fail before training — the experiment, the run folder's
 * name, the data, the model, the optimiser — is done before the run folder exists: a run folder is only made for a
 * run that starts, and from then on any failure ends it as failed with the reason.
 */
export async function startRun(file: string, out: string | undefined, overrides: { steps?: number; backend?: BackendPreference }, reporter: Reporter, stop: () => boolean, track?: RunTracker): Promise<SessionResult> {
  const { experiment, text } = readExperiment(file, overrides);
  const parent = out ? path.resolve(out) : runsFolderOf(file, experiment.name);
  const backend = await chooseBackend(experiment.training.backend, reporter);
  const prepared = prepareData(experiment, file, text, reporter);
  reporter.info(`data: ${dataLine(prepared)}${prepared.classes ? `; conditional on ${prepared.classes.classes} classes` : ''}`);
  const model = modelFor(prepared);
  let optimizer: tf.Optimizer | null = null;
  let run: RunFolder;
  try {
    optimizer = createOptimizer(experiment.training.optimizer, experiment.training.learningRate);
    run = RunFolder.create(parent, text, {
      experiment: experiment.name,
      experimentFile: path.resolve(file),
      steps: experiment.training.steps,
      backend: backend.name,
      adapter: backend.adapter,
      ...conditionalInfo(model.classes || undefined, prepared.classes?.classNames),
    });
  } catch (error) {
    model.dispose();
    optimizer?.dispose();
    throw error;
  }
  track?.(run);
  reporter.info(`run folder: ${run.dir}`);
  return trainRun(run, prepared, model, optimizer, { step: 0, bestTestNats: null, bestStep: null }, reporter, stop, track);
}

/** Why a run that is still being trained cannot be resumed, in words; null when it can be. */
function liveOwner(info: RunInfo): string | null {
  if (effectiveStatus(info) !== 'running') return null;
  const owner = info.owner;
  const ago = owner ? Math.max(0, Math.round((Date.now() - Date.parse(owner.heartbeat)) / 1000)) : 0;
  return owner ? `process ${owner.pid} on ${owner.host}, alive ${ago} s ago` : 'its trainer';
}

/** Resume a run from its latest checkpoint: a stopped, failed, finished or interrupted run, never one still training. */
export async function resumeRun(dir: string, overrides: { backend?: BackendPreference; steps?: number }, reporter: Reporter, stop: () => boolean, track?: RunTracker): Promise<SessionResult> {
  const run = RunFolder.open(dir);
  const live = liveOwner(run.info);
  if (live) throw new Error(`${run.dir} is still training (${live}): stop it first, or wait for it to end`);
  const bytes = run.readCheckpoint('latest');
  if (!bytes) throw new Error(`${run.dir} has no checkpoint to resume from (checkpoints/latest.ckpt)`);
  const { experiment, text } = readExperiment(run.experimentFile, overrides);
  const backend = await chooseBackend(experiment.training.backend, reporter);
  const checkpoint = decodeCheckpoint(bytes, run.checkpointPath('latest'));
  const prepared = prepareData(experiment, run.info.experimentFile, text, reporter);
  const { model, optimizer } = await restoreCheckpoint(checkpoint);
  try {
    run.truncateMetrics(checkpoint.state.step);
    const info = run.info;
    run.update({ error: undefined, endedAt: undefined, step: checkpoint.state.step, steps: experiment.training.steps, backend: backend.name, adapter: backend.adapter, resumedAt: [...(info.resumedAt ?? []), checkpoint.state.step] });
    run.claim();
  } catch (error) {
    model.dispose();
    optimizer.dispose();
    throw error;
  }
  track?.(run);
  reporter.info(`resuming ${run.dir} at step ${checkpoint.state.step} of ${experiment.training.steps}`);
  return trainRun(run, prepared, model, optimizer, checkpoint.state, reporter, stop, track);
}

/** What a failed run's status says: a disk error in its own words (it names the file), others as the loop says. */
function runFailure(error: unknown): string {
  return error instanceof WriteError ? error.message : failureMessage(error);
}

/**
 * Train in a run folder from `start`: metrics, checkpoints and samples are written as they come, and the owner's
 * heartbeat every HEARTBEAT_MS. Any failure — of the engine or of a write — ends the run as failed with the reason
 * in run.json; when even run.json cannot be written, the result still says why (and the run reads as interrupted
 * once this process is gone).
 */
export async function trainRun(run: RunFolder, prepared: PreparedExperiment, model: PixelModel, optimizer: tf.Optimizer, start: TrainState, reporter: Reporter, stop: () => boolean, track?: RunTracker): Promise<SessionResult> {
  const { experiment } = prepared;
  const { height, width, channels } = model.config.image;
  const settings = trainSettings(experiment);
  let state = start;
  let heartbeatError: unknown = null;
  const heartbeat = setInterval(() => {
    try {
      run.heartbeat();
    } catch (error) {
      heartbeatError ??= error;
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  try {
    const outcome = await trainLoop(model, optimizer, prepared.batches, settings, start, {
      onStep: (r) => {
        if (heartbeatError) throw heartbeatError;
        run.appendMetrics({ step: r.step, split: 'train', ...(r.conditional ? { conditional: true } : {}), nats: r.nats, bitsPerDim: r.bitsPerDim, imagesPerSecond: r.imagesPerSecond, seconds: r.seconds, time: new Date().toISOString() });
        reporter.step(r, settings.steps);
      },
      onEval: (r) => {
        run.appendMetrics({ step: r.step, split: r.split, ...(r.conditional ? { conditional: true } : {}), nats: r.nats, bitsPerDim: r.bitsPerDim, seconds: 0, time: new Date().toISOString() });
        // The validation set decides the best; say so once, on the line of the split that decided it.
        const decides = r.split === 'validation' || prepared.batches.split.validation.length === 0;
        reporter.info(`step ${r.step}: ${r.split} ${nllName(r.conditional)} ${r.nats.toFixed(2)} nats/image, ${r.bitsPerDim.toFixed(4)} bits/dim (${r.images} images)${r.best && decides ? ', best so far' : ''}`);
      },
      onSamples: (step, images) => {
        const png = encodeGrid(images, { count: settings.sampleCount, height, width, channels, levels: model.head.levels });
        reporter.info(`step ${step}: samples ${run.writeSamples(step, png)}`);
      },
      onCheckpoint: (checkpoint, kinds) => {
        const bytes = encodeCheckpoint(checkpoint);
        for (const kind of kinds) {
          run.writeCheckpoint(kind, bytes);
          if (kind === 'latest') state = checkpoint.state; // what a resume would continue from
        }
        run.update({ step: checkpoint.state.step, bestTestNats: checkpoint.state.bestTestNats, bestValidationNats: checkpoint.state.bestValidationNats ?? null, bestStep: checkpoint.state.bestStep });
      },
      shouldStop: stop,
    });
    clearInterval(heartbeat);
    const status = outcome.stopped ? 'stopped' : 'finished';
    run.update({ status, step: outcome.state.step, endedAt: new Date().toISOString() });
    return { run, state: outcome.state, status };
  } catch (error) {
    clearInterval(heartbeat);
    const message = runFailure(error);
    try {
      run.update({ status: 'failed', error: message, endedAt: new Date().toISOString(), step: state.step });
    } catch (again) {
      return { run, state, status: 'failed', error: `${message}; the run could not be marked failed either (${(again as Error).message})` };
    }
    return { run, state, status: 'failed', error: message };
  } finally {
    clearInterval(heartbeat);
    track?.(null);
    reporter.done();
    model.dispose();
    optimizer.dispose();
  }
}
