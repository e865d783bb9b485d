/**
 * The panel's worker: it owns TF.js, so training and sampling never freeze the page. It trains with the shared
 * loop (src/train/loop.ts), samples, and answers dependency-map requests; files are written by the host.
 *
 * Requests run one at a time in arrival order (gradient maps, beliefs and stops go straight through; of the gradient
 * maps asked for meanwhile, only the newest is computed). A failed request
 * fails only itself — it is answered with an `error` naming the task — and the queue goes on with the next.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type BackendChoice, type BackendPreference, selectBackend, type WasmPaths } from '../src/backend/select';
import { experimentBatches } from '../src/data/batches';
import { gridPixels } from '../src/data/grid';
import { imageShape, modelConfigOf, type Experiment } from '../src/experiment/types';
import { pixelBeliefs, samplingDistribution } from '../src/model/beliefs';
import { imageGradients, type ImageGradients } from '../src/model/image-gradients';
import { createModel } from '../src/model/index';
import type { PixelModel } from '../src/model/model';
import { sample } from '../src/model/sampling/index';
import { createOptimizer, decodeCheckpoint, encodeCheckpoint, restoreCheckpoint, restoreModel } from '../src/train/checkpoint';
import { failureMessage, trainLoop, trainSettings } from '../src/train/loop';
import type { FromWorker, ModelSource, ToWorker, WorkerTask } from './worker-protocol';

declare const self: DedicatedWorkerGlobalScope;

let backend: { preference: BackendPreference; choice: BackendChoice } | null = null;
/** The model on hand: the one training, or the last one loaded or trained. */
let current: { runId: string; model: PixelModel; experiment: Experiment } | null = null;
/** The run in training, and whether a stop was asked for it (also while it is still starting). */
let training: { runId: string; stop: boolean } | null = null;
let pendingStop: string | null = null;
let busy: Promise<void> = Promise.resolve();
let latestGradient = 0;
/** Gradient maps in flight (a model is disposed only after them). */
let gradients: Promise<unknown> = Promise.resolve();
/**
 * The hovered image's gradient maps: its forward pass is kept, so each further hover of it runs a backward pass
 * only. Kept for one image of one model's weights: dropped when the model changes and after every training step.
 */
let hover: { model: PixelModel; image: Uint8Array; label: number | undefined; maps: Promise<ImageGradients> } | null = null;
/** Set when a run is to start: sampling in progress gives way. */
let cancelSampling = false;

class Cancelled extends Error {
  constructor() {
    super('cancelled: a training run started');
  }
}

/**
 * Images of up to this many values (64×64×3) get their structural field computed whole (it grows as the square:
 * 18 MiB here) and kept by the page, for instant hovers; while training, only up to a tenth of that, so a hover never
 * holds up the steps for long. Past it, the gradient map shows what a prediction depends on.
 */
const FIELD_LIMIT = 12_288;
const FIELD_LIMIT_TRAINING = 4_096;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

async function useBackend(runId: string, preference: BackendPreference, wasmPaths: WasmPaths): Promise<void> {
  if (!backend || backend.preference !== preference) {
    backend = { preference, choice: await selectBackend(preference, { wasmPaths }) };
    watchDevice();
  }
  post({ type: 'backend', runId, info: backend.choice });
}

/** Why the GPU device was lost, once it was. */
let deviceLost: string | null = null;

/** A lost WebGPU device cannot be recovered in this worker: say so, and let the page start a fresh one. */
function watchDevice(): void {
  const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
  if (tf.getBackend() !== 'webgpu' || !device?.lost) return;
  void device.lost.then((info) => {
    deviceLost = `the GPU device was lost (${info.reason ?? 'unknown'}${info.message ? `: ${info.message}` : ''}); train again, or choose "backend": "wasm"`;
    post({ type: 'fatal', message: deviceLost });
  });
}

/** What a failure was: a lost device shows first as odd errors from the ops in flight, so it is waited for briefly. */
async function failureOf(error: unknown): Promise<string> {
  if (tf.getBackend() === 'webgpu' && !deviceLost) await new Promise((resolve) => setTimeout(resolve, 200));
  return deviceLost ?? failureMessage(error);
}

function adopt(runId: string, model: PixelModel, experiment: Experiment): void {
  const previous = current;
  current = { runId, model, experiment };
  hover = null;
  // A gradient map may still be reading the previous model: it goes once that is done.
  if (previous && previous.model !== model) void gradients.then(() => previous.model.dispose());
  announce();
}

/** Tell the page which model is on hand (after every load or sample: the page may have shown another run since). */
function announce(): void {
  if (!current) return;
  const { model, runId } = current;
  const { height, width, channels } = model.config.image;
  post({ type: 'model', runId, summary: { type: model.config.type, height, width, channels, levels: model.head.levels, classes: model.classes, parameters: model.params.count, layers: model.params.layers } });
}

/** The model of a run: the one on hand if it is that run's, else restored from its checkpoint. */
async function modelOf(source: ModelSource, fresh: boolean): Promise<PixelModel> {
  await useBackend(source.runId, source.backend, source.wasmPaths);
  if (current?.runId === source.runId) {
    announce();
    return current.model;
  }
  if (source.checkpoint) {
    // The model only: the optimiser's state is for training.
    const model = restoreModel(decodeCheckpoint(source.checkpoint));
    adopt(source.runId, model, source.experiment);
    return model;
  }
  if (!fresh) throw new Error('this run has no checkpoint yet: nothing to sample from');
  const model = createModel(modelConfigOf(source.experiment, imageShape(source.experiment)));
  adopt(source.runId, model, source.experiment);
  return model;
}

/** A grid of images as a PNG, drawn on an OffscreenCanvas. */
async function pngOf(images: Uint8Array, count: number, model: PixelModel): Promise<Uint8Array> {
  const { height, width, channels } = model.config.image;
  const { layout, rgba } = gridPixels(images, { count, height, width, channels, levels: model.head.levels });
  const canvas = new OffscreenCanvas(layout.width, layout.height);
  canvas.getContext('2d')!.putImageData(new ImageData(rgba, layout.width, layout.height), 0, 0);
  return new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
}

/**
 * Let queued messages (a stop, a hover) in between steps. A zero-delay timer is not enough: Chromium may run ready
 * timer tasks ahead of waiting message events, so a stop could wait many steps; a timer that is not yet due cannot.
 */
const yieldToMessages = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

async function train(m: Extract<ToWorker, { type: 'train' }>): Promise<void> {
  const { runId, experiment, images } = m;
  const run = { runId, stop: pendingStop === runId };
  training = run;
  pendingStop = null;
  let step = 0;
  try {
    await useBackend(runId, m.backend, m.wasmPaths);
    // The official test set (data.test) is the last testCount images: without it, such an experiment has no test split.
    const set = { images: images.data, count: images.count, height: images.height, width: images.width, channels: images.channels, ...(images.testCount ? { testCount: images.testCount } : {}), ...(m.labels ? { labels: m.labels } : {}) };
    const batches = experimentBatches(experiment, set);
    const checkpoint = m.checkpoint ? decodeCheckpoint(m.checkpoint) : null;
    const restored = checkpoint ? await restoreCheckpoint(checkpoint) : null;
    const model = restored?.model ?? createModel(modelConfigOf(experiment, imageShape(experiment, set)));
    const optimizer = restored?.optimizer ?? createOptimizer(experiment.training.optimizer, experiment.training.learningRate);
    const start = checkpoint?.state ?? { step: 0, bestTestNats: null, bestStep: null, bestValidationNats: null };
    step = start.step;
    adopt(runId, model, experiment);
    const settings = trainSettings(experiment);
    try {
      const outcome = await trainLoop(model, optimizer, batches, settings, start, {
        onStep: async (r) => {
          step = r.step;
          // The weights changed: a kept forward pass is stale.
          hover = null;
          post({ type: 'step', runId, ...r });
          await yieldToMessages();
        },
        onEval: (r) => post({ type: 'eval', runId, ...r }),
        onSamples: async (s, drawn) => {
          const png = await pngOf(drawn, settings.sampleCount, model);
          const batch = { data: drawn, count: settings.sampleCount, ...model.config.image };
          post({ type: 'samples', runId, step: s, images: batch, png }, [png.buffer]);
        },
        onCheckpoint: (c, kinds) => {
          const bytes = encodeCheckpoint(c);
          post({ type: 'checkpoint', runId, step: c.state.step, kinds, bytes }, [bytes.buffer]);
        },
        shouldStop: () => run.stop,
      });
      post({ type: 'ended', runId, status: outcome.stopped ? 'stopped' : 'finished', step: outcome.state.step });
    } finally {
      optimizer.dispose();
    }
  } catch (error) {
    post({ type: 'ended', runId, status: 'failed', step, error: await failureOf(error) });
  } finally {
    training = null;
  }
}

async function load(m: Extract<ToWorker, { type: 'load' }>): Promise<void> {
  await modelOf(m, true);
}

async function draw(m: Extract<ToWorker, { type: 'sample' }>): Promise<void> {
  cancelSampling = false;
  const model = await modelOf(m, false);
  const { height, width, channels } = model.config.image;
  const batch = (data: Uint8Array) => ({ data: data.slice(), count: m.count, height, width, channels });
  let lastPost = 0;
  // The distributions the pixel being drawn comes from, all its channels, for every image.
  const binary = model.head.config.kind === 'bernoulli';
  const per = binary ? 1 : model.head.levels;
  const drawnFrom = new Float32Array(m.count * channels * per);
  // On WebGPU the draw is made on the GPU and no logits come back per pixel: then there is nothing to show.
  let drawnFromKnown = false;
  const images = await sample(model, {
    count: m.count,
    seed: m.seed,
    temperature: m.temperature,
    prefix: m.prefix && m.keepRows > 0 ? { images: m.prefix, rows: m.keepRows } : undefined,
    classes: m.classes,
    onLogits: (_i, _j, c, logits) => {
      drawnFromKnown = true;
      const p = samplingDistribution(model.head, logits, channels, c, m.temperature);
      for (let n = 0; n < m.count; n++) drawnFrom.set(p.subarray(n * per, (n + 1) * per), (n * channels + c) * per);
    },
    // About one picture a frame: the grid fills in pixel by pixel.
    onPixel: async (i, j, drawn) => {
      if (cancelSampling) throw new Cancelled();
      const now = performance.now();
      if (now - lastPost < 16) return;
      lastPost = now;
      if (drawnFromKnown) {
        const probabilities = drawnFrom.slice();
        post({ type: 'samplingBeliefs', runId: m.runId, i, j, levels: model.head.levels, binary, probabilities }, [probabilities.buffer]);
      }
      post({ type: 'sampling', runId: m.runId, images: batch(drawn), upTo: i * width + j, done: false });
      await yieldToMessages();
    },
  });
  post({ type: 'sampling', runId: m.runId, images: batch(images), upTo: height * width, done: true });
}

async function field(m: Extract<ToWorker, { type: 'field' }>): Promise<void> {
  if (!current || current.runId !== m.runId) throw new Error('no model is loaded for this run');
  const { height, width, channels } = current.model.config.image;
  const size = height * width * channels;
  const limit = training ? FIELD_LIMIT_TRAINING : FIELD_LIMIT;
  if (size > limit) {
    const why = size > FIELD_LIMIT ? `images of ${size.toLocaleString('en')} values are past the ${FIELD_LIMIT.toLocaleString('en')} it is computed for` : 'it is computed for a model this size once training stops';
    post({ type: 'field', runId: m.runId, bits: null, why });
    return;
  }
  // A copy: the model keeps its own for later requests.
  const bits = current.model.field().bits.slice();
  post({ type: 'field', runId: m.runId, bits, why: '' }, [bits.buffer]);
}

/** The class an image is read as: the one asked for, for a conditional model (the engine checks its range); none for
 *  an unconditional one. */
function classOf(model: PixelModel, label: number | undefined): number | undefined {
  return model.classes > 0 ? label : undefined;
}

async function gradient(m: Extract<ToWorker, { type: 'gradient' }>): Promise<void> {
  // Only the newest hover matters. A map is computed in one go (wasm holds the thread), so hovers pile up as
  // messages meanwhile: letting those in first, then skipping every request but the newest, drops the stale ones.
  await yieldToMessages();
  if (m.request < latestGradient || !current) return;
  const { model } = current;
  const label = classOf(model, m.label);
  if (!hover || hover.model !== model || hover.label !== label || !sameBytes(hover.image, m.image)) {
    const maps = imageGradients(model, m.image, label);
    hover = { model, image: m.image.slice(), label, maps };
    // A failed forward pass is not kept: the next hover tries again.
    maps.catch(() => {
      if (hover?.maps === maps) hover = null;
    });
  }
  const map = hover.maps.then((maps) => maps.map({ i: m.i, j: m.j, c: m.c }));
  gradients = gradients.then(() => map.catch(() => {}));
  const values = await map;
  post({ type: 'gradient', request: m.request, values }, [values.buffer]);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let e = 0; e < a.length; e++) if (a[e] !== b[e]) return false;
  return true;
}

async function beliefs(m: Extract<ToWorker, { type: 'beliefs' }>): Promise<void> {
  if (!current || current.runId !== m.runId) throw new Error('no model is loaded for this run');
  const work = pixelBeliefs(current.model, m.image, classOf(current.model, m.label));
  gradients = gradients.then(() => work.catch(() => {}));
  const b = await work;
  post({ type: 'beliefs', request: m.request, runId: m.runId, ...b }, [b.nll.buffer, b.probabilities.buffer]);
}

function perform(m: Exclude<ToWorker, { type: 'stop' | 'beliefs' }>): Promise<void> {
  switch (m.type) {
    case 'train':
      return train(m);
    case 'load':
      return load(m);
    case 'sample':
      return draw(m);
    case 'field':
      return field(m);
    case 'gradient':
      return gradient(m);
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  if (m.type === 'stop') {
    // Honoured whenever it comes: during a step, or while the run is still choosing a backend or restoring.
    if (training?.runId === m.runId) training.stop = true;
    else pendingStop = m.runId;
    return;
  }
  if (m.type === 'gradient') latestGradient = Math.max(latestGradient, m.request);
  if (m.type === 'train') cancelSampling = true;
  if (m.type === 'beliefs') {
    // Answered between training steps, like a hover; its failure is its own message.
    beliefs(m).catch((error: unknown) => post({ type: 'beliefsFailed', request: m.request, runId: m.runId, message: error instanceof Error ? error.message : String(error) }));
    return;
  }
  const task: WorkerTask = m.type;
  const runId = 'runId' in m ? m.runId : undefined;
  const request = m.type === 'gradient' ? m.request : undefined;
  const fail = (error: unknown) => post({ type: 'error', task, message: error instanceof Error ? error.message : String(error), ...(runId ? { runId } : {}), ...(request !== undefined ? { request } : {}) });
  // Gradient maps and fields answer between training steps; everything else waits its turn. A failure fails only
  // its own request: the queue is never left rejected.
  if (m.type === 'gradient' || (m.type === 'field' && training)) perform(m).catch(fail);
  else busy = busy.then(() => perform(m)).catch(fail);
};

self.addEventListener('securitypolicyviolation', (e) => {
  const v = e as SecurityPolicyViolationEvent;
  post({ type: 'log', level: 'error', message: `the worker was blocked by the content security policy: ${v.violatedDirective} ${v.blockedURI}` });
});

tf.env().set('PROD', true);
