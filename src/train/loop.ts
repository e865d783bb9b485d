/**
 * The training loop shared by the CLI and the webview worker: steps, periodic test evaluation, sample grids,
 * checkpoints handed to the caller (who writes them), a NaN guard, and a stop signal honoured after the current
 * step. No file I/O here.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Batches } from '../data/batches';
import type { Experiment } from '../experiment/types';
import { natsToBitsPerDim, nllNats } from '../model/heads';
import type { PixelModel } from '../model/model';
import { sample } from '../model/sampling/index';
import { captureCheckpoint, type Checkpoint, type TrainState } from './checkpoint';
import { trainStep } from './step';

/** An experiment's training settings, with the sample grid's size and temperature. */
export type TrainSettings = Omit<Experiment['training'], 'backend'> & { readonly sampleCount: number; readonly temperature: number };

export function trainSettings(e: Experiment): TrainSettings {
  return { ...e.training, sampleCount: e.sampling.count, temperature: e.sampling.temperature };
}

export interface StepReport {
  readonly step: number;
  /** A class-conditional model's NLL is −log p(x | class): reported as such (absent for unconditional models). */
  readonly conditional?: true;
  /** Training NLL of this step's batch: nats per image, and bits per dimension. */
  readonly nats: number;
  readonly bitsPerDim: number;
  readonly imagesPerSecond: number;
  /** Seconds of training in this run so far. */
  readonly seconds: number;
}

export interface EvalReport {
  readonly step: number;
  /** Which held-out images were scored: the validation set (it chooses the best checkpoint) or the test set. */
  readonly split: 'validation' | 'test';
  /** The conditional NLL, −log p(x | class), of a class-conditional model. */
  readonly conditional?: true;
  readonly nats: number;
  readonly bitsPerDim: number;
  readonly images: number;
  /** This step's checkpoint just became the best (the same on both reports of a step). */
  readonly best: boolean;
}

export interface TrainCallbacks {
  onStep?(report: StepReport): void | Promise<void>;
  /** At each evaluation: the validation set's report first (when there is one), then the test set's. */
  onEval?(report: EvalReport): void | Promise<void>;
  onSamples?(step: number, images: Uint8Array): void | Promise<void>;
  /** `kinds`: 'latest', and 'best' when the validation NLL (the test NLL without a validation set) just improved. */
  onCheckpoint?(checkpoint: Checkpoint, kinds: ('latest' | 'best')[]): void | Promise<void>;
  /** Asked after every step; true stops the run (a last checkpoint is handed over first). */
  shouldStop?(): boolean;
}

export class NonFiniteLossError extends Error {
  constructor(readonly step: number, readonly value: number) {
    super(`the training loss became ${value} at step ${step}: training diverged (try a lower learning rate); the last good checkpoint is kept`);
    this.name = 'NonFiniteLossError';
  }
}

/** What a failed run's status says: a diverged loss in its own words, anything else as a training failure. */
export function failureMessage(error: unknown): string {
  return error instanceof NonFiniteLossError ? error.message : `training failed: ${(error as Error).message}`;
}

/**
 * Let the event loop run: timers, signal handlers and incoming messages. On wasm every await of a step resolves as a
 * microtask, so without this a whole run is one uninterrupted task and a Ctrl+C or a Stop is never seen.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

export interface TrainOutcome {
  readonly state: TrainState;
  readonly stopped: boolean;
}

/** The class of each image of a batch, for a class-conditional model (undefined for others). */
function classesOf(model: PixelModel, labels: () => Int32Array): Int32Array | undefined {
  return model.classes > 0 ? labels() : undefined;
}

/**
 * Mean NLL over the first `images` images of the test (or validation) set, in nats per image and bits/dim; for a
 * class-conditional model the conditional NLL, −log p(x | class), each image with its own label (`conditional`
 * says so).
 */
export async function evaluate(model: PixelModel, batches: Batches, images: number, batchSize = 64, split: 'validation' | 'test' = 'test'): Promise<{ nats: number; bitsPerDim: number; images: number; conditional?: true }> {
  const { height, width, channels } = model.config.image;
  const total = Math.min(images, batches.split[split].length);
  if (total === 0) throw new Error(`there are no ${split} images to evaluate on`);
  let sum = 0;
  for (let from = 0; from < total; from += batchSize) {
    const x = batches.heldOut(split, from, Math.min(batchSize, total - from));
    const n = x.length / (height * width * channels);
    const classes = classesOf(model, () => batches.heldOutLabels(split, from, n));
    const nats = tf.tidy(() => {
      const t = tf.tensor4d(x, [n, height, width, channels]);
      return tf.sum(nllNats(model.head, model.logits(t, classes), t));
    });
    sum += (await nats.data())[0];
    nats.dispose();
    await yieldToEventLoop();
  }
  const nats = sum / total;
  return { nats, bitsPerDim: natsToBitsPerDim(nats, height * width * channels), images: total, ...(model.classes > 0 ? { conditional: true as const } : {}) };
}

export async function trainLoop(model: PixelModel, optimizer: tf.Optimizer, batches: Batches, settings: TrainSettings, start: TrainState, callbacks: TrainCallbacks = {}): Promise<TrainOutcome> {
  const { height, width, channels } = model.config.image;
  const dims = height * width * channels;
  if (model.classes > 0 && !batches.labelled) throw new Error('this model is class-conditional, and its images have no class labels');
  const conditional = model.classes > 0 ? { conditional: true as const } : {};
  let state = start;
  let seconds = 0;
  const checkpoint = async (kinds: ('latest' | 'best')[]) => {
    if (callbacks.onCheckpoint) await callbacks.onCheckpoint(await captureCheckpoint(model, optimizer, settings.optimizer, settings.learningRate, state), kinds);
  };
  for (let step = start.step + 1; step <= settings.steps; step++) {
    const began = performance.now();
    const x = tf.tensor4d(batches.train(step - 1, settings.batchSize), [settings.batchSize, height, width, channels]);
    let loss: number;
    try {
      loss = await trainStep(model, optimizer, x, classesOf(model, () => batches.trainLabels(step - 1, settings.batchSize)));
    } finally {
      x.dispose();
    }
    if (!Number.isFinite(loss)) throw new NonFiniteLossError(step, loss);
    const elapsed = (performance.now() - began) / 1000;
    seconds += elapsed;
    state = { ...state, step };
    const nats = loss * dims;
    await callbacks.onStep?.({ step, ...conditional, nats, bitsPerDim: natsToBitsPerDim(nats, dims), imagesPerSecond: settings.batchSize / elapsed, seconds });
    await yieldToEventLoop();
    const last = step === settings.steps;
    // A stop asked for during this step ends the run now: no evaluation or samples first, only the checkpoint.
    const stopping = !last && (callbacks.shouldStop?.() ?? false);
    let improved = false;
    if (!stopping && (step % settings.evalEvery === 0 || last)) {
      // The validation set chooses the best checkpoint; the test set is only reported (chosen on, it would flatter).
      const validation = batches.split.validation.length ? await evaluate(model, batches, settings.evalImages, undefined, 'validation') : null;
      const test = await evaluate(model, batches, settings.evalImages, undefined, 'test');
      // A checkpoint from before validation sets (no bestValidationNats, a best chosen by test NLL) keeps that rule
      // until a better test NLL gives it a validation NLL to beat: resuming never replaces its best with a worse one.
      const legacy = state.bestValidationNats === undefined && state.bestTestNats !== null;
      improved =
        validation && !legacy
          ? state.bestValidationNats === undefined || state.bestValidationNats === null || validation.nats < state.bestValidationNats
          : state.bestTestNats === null || test.nats < state.bestTestNats;
      if (improved) state = { ...state, bestTestNats: test.nats, bestValidationNats: validation?.nats ?? null, bestStep: step };
      if (validation) await callbacks.onEval?.({ step, split: 'validation', ...validation, best: improved });
      await callbacks.onEval?.({ step, split: 'test', ...test, best: improved });
    }
    if (!stopping && (step % settings.sampleEvery === 0 || last)) {
      // A conditional model's grid: image n of class n mod K (sample's default), every class in turn.
      const images = await sample(model, { count: settings.sampleCount, seed: settings.seed + step, temperature: settings.temperature });
      await callbacks.onSamples?.(step, images);
    }
    if (step % settings.checkpointEvery === 0 || last || improved || stopping) {
      await checkpoint(improved ? ['latest', 'best'] : ['latest']);
    }
    if (stopping) return { state, stopped: true };
  }
  return { state, stopped: false };
}
