/**
 * The panel's worker (webview/worker.ts) run in Node on wasm, with a stand-in for the worker's `self`: its `beliefs`
 * request (NLL map and predictive distributions of one image), the `samplingBeliefs` messages beside sampling
 * progress, and hovers — of the gradient maps asked for while one is computed, only the newest is answered.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { nodeWasmPaths } from '../../src/backend/node';
import { parseExperiment } from '../../src/experiment/experiment';
import { gradientMap } from '../../src/model/dependency';
import { createModel } from '../../src/model/index';
import { imageShape, modelConfigOf } from '../../src/experiment/types';
import type { FromWorker, ToWorker } from '../../webview/worker-protocol';
import { useBackend } from '../support/engine';

const posted: FromWorker[] = [];
let send: (m: ToWorker) => void;

const file = 'test/fixtures/tiny-mnist.pixel.json';
const experiment = parseExperiment(readFileSync(file, 'utf8'), file);
const source = { runId: 'run-1', experiment, checkpoint: null, backend: 'wasm' as const, wasmPaths: nodeWasmPaths() };
const H = 12;
const W = 12;
const image = Uint8Array.from({ length: H * W }, (_, k) => ((k * 7) % 5 === 0 ? 1 : 0));

beforeAll(async () => {
  await useBackend('wasm');
  const self = { postMessage: (m: FromWorker) => posted.push(m), addEventListener: () => {}, onmessage: null as null | ((e: { data: ToWorker }) => void) };
  (globalThis as unknown as { self: typeof self }).self = self;
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

it('answers `beliefs` with the NLL map and predictive distributions of the image (fresh weights: seeded)', async () => {
  send({ type: 'beliefs', request: 1, runId: 'run-1', image });
  await until(() => posted.some((m) => m.type === 'beliefs' || m.type === 'beliefsFailed'));
  const b = posted.find((m) => m.type === 'beliefs')!;
  if (b.type !== 'beliefs') throw new Error('no beliefs');
  expect([b.request, b.height, b.width, b.channels, b.levels, b.binary]).toEqual([1, H, W, 1, 2, true]);
  expect(b.nll.length).toBe(H * W);
  expect(b.probabilities.length).toBe(H * W);
  const total = [...b.nll].reduce((s, v) => s + v, 0);
  expect(Math.abs(total - b.nats)).toBeLessThan(1e-3);
  b.nll.forEach((v, e) => expect(v).toBeCloseTo(-Math.log(image[e] ? b.probabilities[e] : 1 - b.probabilities[e]), 4));
  // Another run's image: refused in its own message.
  send({ type: 'beliefs', request: 2, runId: 'run-2', image });
  await until(() => posted.some((m) => m.type === 'beliefsFailed'));
  expect(posted.find((m) => m.type === 'beliefsFailed')).toMatchObject({ request: 2, runId: 'run-2' });
});

it('drops stale hovers: of gradient maps asked for in a burst, only the newest is computed and answered', async () => {
  const from = posted.length;
  for (let r = 10; r <= 15; r++) send({ type: 'gradient', request: r, image, i: r - 5, j: 3, c: 0 });
  await until(() => posted.slice(from).some((m) => m.type === 'gradient'));
  await new Promise((r) => setTimeout(r, 300));
  const answers = posted.slice(from).filter((m) => m.type === 'gradient');
  expect(answers.map((m) => (m.type === 'gradient' ? m.request : -1))).toEqual([15]);
  const model = createModel(modelConfigOf(experiment, imageShape(experiment)));
  const want = await gradientMap(model, image, { i: 10, j: 3, c: 0 });
  model.dispose();
  const got = answers[0].type === 'gradient' ? answers[0].values : new Float32Array();
  expect([...got]).toEqual([...want]);
});

it('while sampling, says which distribution each pixel shown was drawn from', async () => {
  const from = posted.length;
  send({ type: 'sample', ...source, count: 2, temperature: 1, seed: 3, keepRows: 0, prefix: null });
  await until(() => posted.slice(from).some((m) => m.type === 'sampling' && m.done));
  const beliefs = posted.slice(from).filter((m) => m.type === 'samplingBeliefs');
  const progress = posted.slice(from).filter((m) => m.type === 'sampling' && !m.done);
  expect(beliefs.length).toBe(progress.length);
  expect(beliefs.length).toBeGreaterThan(0);
  beliefs.forEach((m, k) => {
    const shown = progress[k];
    if (m.type !== 'samplingBeliefs' || shown.type !== 'sampling') throw new Error('unexpected message');
    // The pixel the progress message shows last is the one whose distributions came with it.
    expect(m.i * W + m.j).toBe(shown.upTo);
    expect(m.binary).toBe(true);
    expect(m.probabilities.length).toBe(2);
    for (const p of m.probabilities) expect(p > 0 && p < 1).toBe(true);
  });
});
