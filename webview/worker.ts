/**
 * The panel's worker: it owns TF.js, so training and sampling never freeze the page. It trains with the shared
 * loop (src/train/loop.ts), samples, and answers gradient-map requests; files are written by the host.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type BackendChoice, type BackendPreference, selectBackend } from '../src/backend/select';
import { experimentBatches } from '../src/data/batches';
import { gridPixels } from '../src/data/grid';
import { imageShape, modelConfigOf, type Experiment } from '../src/experiment/types';
import { gradientMap } from '../src/model/dependency';
import { createModel } from '../src/model/index';
import type { PixelModel } from '../src/model/model';
import { sample } from '../src/model/sampling/index';
import { createOptimizer, decodeCheckpoint, encodeCheckpoint, restoreCheckpoint } from '../src/train/checkpoint';
import { failureMessage, trainLoop, trainSettings } from '../src/train/loop';
import type { FromWorker, ToWorker } from './worker-protocol';

declare const self: DedicatedWorkerGlobalScope;

let backend: { preference: BackendPreference; choice: BackendChoice } | null = null;
let current: { runId: string; model: PixelModel; experiment: Experiment } | null = null;
let stopRequested: string | null = null;
let busy: Promise<void> = Promise.resolve();
let latestGradient = 0;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

async function useBackend(runId: string, preference: BackendPreference, wasmPaths: string): Promise<void> {
  if (!backend || backend.preference !== preference) backend = { preference, choice: await selectBackend(preference, { wasmPaths }) };
  post({ type: 'backend', runId, info: backend.choice });
}

function adopt(runId: string, model: PixelModel, experiment: Experiment): void {
  current?.model.dispose();
  current = { runId, model, experiment };
  const { height, width, channels } = model.config.image;
  const field = model.field();
  post({
    type: 'model',
    runId,
    summary: { type: model.config.type, height, width, channels, levels: model.head.levels, parameters: model.params.count, layers: model.params.layers, field: field.bits.slice() },
  });
}

/** A grid of images as a PNG, drawn on an OffscreenCanvas. */
async function pngOf(images: Uint8Array, count: number, model: PixelModel): Promise<Uint8Array> {
  const { height, width, channels } = model.config.image;
  const { layout, rgba } = gridPixels(images, { count, height, width, channels, levels: model.head.levels });
  const canvas = new OffscreenCanvas(layout.width, layout.height);
  canvas.getContext('2d')!.putImageData(new ImageData(rgba, layout.width, layout.height), 0, 0);
  return new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
}

/** Let queued messages (a stop, a hover) in between steps. */
const yieldToMessages = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function train(m: Extract<ToWorker, { type: 'train' }>): Promise<void> {
  const { runId, experiment, images } = m;
  let step = 0;
  try {
    await useBackend(runId, m.backend, m.wasmPaths);
    const set = { images: images.data, count: images.count, height: images.height, width: images.width, channels: images.channels };
    const batches = experimentBatches(experiment, set);
    const checkpoint = m.checkpoint ? decodeCheckpoint(m.checkpoint) : null;
    const restored = checkpoint ? await restoreCheckpoint(checkpoint) : null;
    const model = restored?.model ?? createModel(modelConfigOf(experiment, imageShape(experiment, set)));
    const optimizer = restored?.optimizer ?? createOptimizer(experiment.training.optimizer, experiment.training.learningRate);
    const start = checkpoint?.state ?? { step: 0, bestTestNats: null, bestStep: null };
    step = start.step;
    adopt(runId, model, experiment);
    stopRequested = null;
    const settings = trainSettings(experiment);
    const outcome = await trainLoop(model, optimizer, batches, settings, start, {
      onStep: async (r) => {
        step = r.step;
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
      shouldStop: () => stopRequested === runId,
    });
    optimizer.dispose();
    post({ type: 'ended', runId, status: outcome.stopped ? 'stopped' : 'finished', step: outcome.state.step });
  } catch (error) {
    post({ type: 'ended', runId, status: 'failed', step, error: failureMessage(error) });
  }
}

async function load(m: Extract<ToWorker, { type: 'load' }>): Promise<void> {
  await useBackend(m.runId, m.backend, m.wasmPaths);
  const model = m.checkpoint
    ? (await restoreCheckpoint(decodeCheckpoint(m.checkpoint))).model
    : createModel(modelConfigOf(m.experiment, imageShape(m.experiment)));
  adopt(m.runId, model, m.experiment);
}

async function draw(m: Extract<ToWorker, { type: 'sample' }>): Promise<void> {
  if (!current || current.runId !== m.runId) throw new Error('no model is loaded for this run');
  const { model } = current;
  const { height, width, channels } = model.config.image;
  const batch = (data: Uint8Array) => ({ data: data.slice(), count: m.count, height, width, channels });
  let lastPost = 0;
  const images = await sample(model, {
    count: m.count,
    seed: m.seed,
    temperature: m.temperature,
    prefix: m.prefix && m.keepRows > 0 ? { images: m.prefix, rows: m.keepRows } : undefined,
    // About one picture a frame: the grid fills in pixel by pixel.
    onPixel: async (i, j, drawn) => {
      const now = performance.now();
      if (now - lastPost < 16) return;
      lastPost = now;
      post({ type: 'sampling', runId: m.runId, images: batch(drawn), upTo: i * width + j, done: false });
      await yieldToMessages();
    },
  });
  post({ type: 'sampling', runId: m.runId, images: batch(images), upTo: height * width, done: true });
}

async function gradient(m: Extract<ToWorker, { type: 'gradient' }>): Promise<void> {
  // Only the newest hover matters: older requests still queued are skipped.
  if (m.request < latestGradient || !current) return;
  const values = await gradientMap(current.model, m.image, { i: m.i, j: m.j, c: m.c });
  post({ type: 'gradient', request: m.request, values }, [values.buffer]);
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  if (m.type === 'stop') {
    stopRequested = m.runId;
    return;
  }
  if (m.type === 'gradient') latestGradient = Math.max(latestGradient, m.request);
  const run = () => {
    if (m.type === 'train') return train(m);
    if (m.type === 'load') return load(m);
    if (m.type === 'sample') return draw(m);
    return gradient(m);
  };
  // Gradient maps answer between training steps; everything else waits its turn.
  const task = m.type === 'gradient' ? run() : (busy = busy.then(run));
  task.catch((error: Error) => post({ type: 'error', message: error.message, ...(m.type === 'train' ? { runId: m.runId } : {}) }));
};

self.addEventListener('securitypolicyviolation', (e) => {
  const v = e as SecurityPolicyViolationEvent;
  post({ type: 'error', message: `blocked by the content security policy: ${v.violatedDirective} ${v.blockedURI}` });
});

tf.env().set('PROD', true);
