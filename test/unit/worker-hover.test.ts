/**
 * The panel's worker (webview/worker.ts, in Node on wasm) answers hovers from the hovered image's kept forward pass
 * (src/model/image-gradients.ts) — and never from a stale one: a Row LSTM's maps equal the whole-image reference
 * for the weights the model has when asked, across hovers of one image, another image, and training steps.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { nodeWasmPaths } from '../../src/backend/node';
import { parseExperiment } from '../../src/experiment/experiment';
import { imageShape, modelConfigOf } from '../../src/experiment/types';
import { gradientMapsFull, type PixelChannel } from '../../src/model/dependency';
import { createModel } from '../../src/model/index';
import type { PixelModel } from '../../src/model/model';
import { decodeCheckpoint, restoreModel } from '../../src/train/checkpoint';
import type { FromWorker, ToWorker } from '../../webview/worker-protocol';
import { useBackend } from '../support/engine';

const posted: FromWorker[] = [];
let send: (m: ToWorker) => void;

const file = 'test/fixtures/tiny-mnist.pixel.json';
const tiny = JSON.parse(readFileSync(file, 'utf8'));
tiny.model = { type: 'row-lstm', layers: 2, hidden: 8, firstKernel: 5, kernel: 3, residual: true, outputHidden: 8 };
tiny.training = { ...tiny.training, steps: 4, evalEvery: 4, sampleEvery: 100, checkpointEvery: 4 };
const experiment = parseExperiment(JSON.stringify(tiny), file);
const source = { runId: 'lstm-1', experiment, checkpoint: null, backend: 'wasm' as const, wasmPaths: nodeWasmPaths() };
const H = 12;
const W = 12;
const imageA = Uint8Array.from({ length: H * W }, (_, k) => ((k * 7) % 5 === 0 ? 1 : 0));
const imageB = Uint8Array.from({ length: H * W }, (_, k) => ((k * 3) % 4 === 0 ? 1 : 0));
let request = 0;

beforeAll(async () => {
  await useBackend('wasm');
  const self = { postMessage: (m: FromWorker) => posted.push(m), addEventListener: () => {}, onmessage: null as null | ((e: { data: ToWorker }) => void) };
  (globalThis as unknown as { self: typeof self }).self = self;
  // Training draws its samples' PNG on an OffscreenCanvas: a stand-in that draws nothing.
  Object.assign(globalThis, {
    ImageData: class {},
    OffscreenCanvas: class {
      getContext = () => ({ putImageData: () => {} });
      convertToBlob = async () => new Blob([]);
    },
  });
  await import('../../webview/worker');
  send = (m) => self.onmessage!({ data: m });
  send({ type: 'load', ...source });
  await until(() => posted.some((m) => m.type === 'model'));
});

async function until(ok: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out; posted: ${posted.map((m) => m.type).join(', ')}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Hover (i, j) of an image; the worker's answer. */
async function hover(image: Uint8Array, p: PixelChannel): Promise<Float32Array> {
  const r = ++request;
  send({ type: 'gradient', request: r, image, ...p });
  await until(() => posted.some((m) => m.type === 'gradient' && m.request === r));
  const answer = posted.find((m) => m.type === 'gradient' && m.request === r);
  return answer?.type === 'gradient' ? answer.values : new Float32Array();
}

async function expectReference(model: PixelModel, image: Uint8Array, p: PixelChannel, got: Float32Array): Promise<void> {
  const [want] = await gradientMapsFull(model, image, [p]);
  let worst = 0;
  for (let e = 0; e < want.length; e++) worst = Math.max(worst, Math.abs(got[e] - want[e]));
  expect(worst, `(${p.i}, ${p.j})`).toBeLessThan(1e-6);
  expect(Math.max(...want)).toBeGreaterThan(0);
}

it('answers hovers of one image, then another, from the kept forward pass: equal to the reference', async () => {
  const model = createModel(modelConfigOf(experiment, imageShape(experiment)));
  for (const [image, p] of [[imageA, { i: 5, j: 3, c: 0 }], [imageA, { i: 11, j: 11, c: 0 }], [imageB, { i: 11, j: 0, c: 0 }], [imageA, { i: 0, j: 4, c: 0 }]] as const) {
    await expectReference(model, image, p, await hover(image, p));
  }
  model.dispose();
});

it('after training steps, a hover of the same image uses the new weights', async () => {
  await hover(imageA, { i: 8, j: 8, c: 0 });
  const images = { data: Uint8Array.from({ length: 40 * H * W }, (_, k) => ((k * 13) % 7 < 3 ? 255 : 0)), count: 40, height: H, width: W, channels: 1 };
  const from = posted.length;
  send({ type: 'train', ...source, images });
  // A hover between steps: the kept forward pass is of the weights then.
  await until(() => posted.slice(from).some((m) => m.type === 'step'));
  await hover(imageA, { i: 8, j: 8, c: 0 });
  expect(posted.slice(from).some((m) => m.type === 'ended'), 'the hover came between steps').toBe(false);
  await until(() => posted.slice(from).some((m) => m.type === 'ended'));
  const ended = posted.slice(from).find((m) => m.type === 'ended');
  expect(ended, JSON.stringify(ended)).toMatchObject({ status: 'finished', step: 4 });
  const checkpoint = posted.slice(from).filter((m) => m.type === 'checkpoint').pop();
  if (checkpoint?.type !== 'checkpoint') throw new Error('no checkpoint');
  expect(checkpoint.step).toBe(4);
  const trained = restoreModel(decodeCheckpoint(checkpoint.bytes));
  for (const p of [{ i: 8, j: 8, c: 0 }, { i: 11, j: 2, c: 0 }]) await expectReference(trained, imageA, p, await hover(imageA, p));
  trained.dispose();
});
