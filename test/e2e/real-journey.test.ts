/**
 * The real journey at real size (issue 9 §1, §6), in real VS Code: a workspace holding a copy of `examples/`.
 *
 * - The quickstart (MNIST, all 10,000 images; a copy with few steps) trains from the palette with backend `auto`:
 *   with no real GPU, the header names **wasm** and says why WebGPU and WebGL (software adapters here) were
 *   skipped; first steps, the loss curve, a sample grid, a hover with no leak, Stop → `stopped`.
 * - An `idx` experiment on Debian's 60,000-image Fashion-MNIST training file trains.
 * - Time from the command to the first step on screen and steps/s of both are printed and written to
 *   test-output/e2e-timings.json.
 * - Each backend forced in turn (`webgpu`, `webgl`, `wasm`) trains at least 2 steps (a tiny model: SwiftShader is
 *   slow) and the run records that backend.
 * - Every `examples/*.pixel.json` starts training at its full data size (≥ 1 step on screen), then stops; none
 *   ends `failed`.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { medianStepsPerSecond, stopAnyRun, stopRun, trainUntilFirstStep, untilStep } from './training';
import { OUTPUT, ROOT, tinyExperiment, VsCode } from './vscode';

const EXAMPLES = path.join(ROOT, 'examples');
const FASHION_TRAIN = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz';
const TIMINGS = path.join(OUTPUT, 'e2e-timings.json');

type Json = Record<string, unknown> & { training: Record<string, unknown>; sampling: Record<string, unknown>; data: Record<string, unknown> };
const example = (name: string) => {
  const e = JSON.parse(readFileSync(path.join(EXAMPLES, `${name}.pixel.json`), 'utf8')) as Json;
  delete e.$schema;
  return e;
};
const text = (e: unknown) => `${JSON.stringify(e, null, 2)}\n`;

// The quickstart as shipped, with few steps (the data stays the full 10,000 images).
const quickstart = example('mnist-quickstart');
quickstart.name = 'quickstart-short';
Object.assign(quickstart.training, { steps: 200, evalEvery: 10, evalImages: 64, sampleEvery: 10, checkpointEvery: 10, backend: 'auto' });
Object.assign(quickstart.sampling, { count: 4 });

// The shipped Fashion-MNIST model on all 60,000 training images of Debian's IDX file.
const fashion = example('fashion-mnist-pixelcnn');
fashion.name = 'fashion-60k';
fashion.data = { dataset: 'idx', path: FASHION_TRAIN, levels: 4 };
Object.assign(fashion.training, { steps: 200, evalEvery: 100, evalImages: 64, sampleEvery: 100, checkpointEvery: 50, backend: 'auto' });
Object.assign(fashion.sampling, { count: 4 });

const BACKENDS = ['webgpu', 'webgl', 'wasm'] as const;
const timings: Record<string, unknown> = {};
let vs: VsCode;

function record(key: string, value: unknown): void {
  timings[key] = value;
  console.log(`timing ${key}: ${JSON.stringify(value)}`);
  writeFileSync(TIMINGS, `${JSON.stringify(timings, null, 2)}\n`);
}

beforeAll(async () => {
  const files: Record<string, string> = { 'quickstart-short.pixel.json': text(quickstart), 'fashion-60k.pixel.json': text(fashion) };
  for (const b of BACKENDS) files[`backend-${b}.pixel.json`] = tinyExperiment(`backend-${b}`, { steps: 3, backend: b });
  vs = await VsCode.start({ prefix: 'real', copy: { examples: EXAMPLES }, files });
  await vs.openWindow();
}, 600_000);

afterEach(async () => {
  await stopAnyRun(vs);
  await vs.clearNotifications();
}, 300_000);

afterAll(async () => {
  await vs?.close();
});

/** Train an experiment for a while at real size: the first step, then steps/s over `span` more steps. */
async function measure(file: string, batchSize: number, span: number) {
  const started = await trainUntilFirstStep(vs, file, { backend: 'wasm', timeout: 300_000 });
  const later = await untilStep(vs, started.firstStep + span, 300_000);
  return {
    started,
    timing: {
      backend: started.backend,
      secondsToFirstStep: Number(started.firstStepSeconds.toFixed(1)),
      stepsPerSecondOnScreen: Number(((later.step - started.firstStep) / ((later.at - started.firstStepAt) / 1000)).toFixed(2)),
      medianStepsPerSecondTraining: Number((medianStepsPerSecond(started.run.dir, batchSize) ?? 0).toFixed(2)),
    },
  };
}

describe('the real journey at real size', () => {
  it('the quickstart on all 10,000 MNIST digits trains on wasm (auto): curves, samples, a hover, stop', async () => {
    const { started, timing } = await measure('quickstart-short.pixel.json', 16, 10);
    record('quickstart (MNIST 10k, wasm via auto)', timing);
    const panel = await vs.panel();
    const header = await vs.header(panel);
    // No real GPU here: WebGPU and WebGL run on SwiftShader, which auto skips, saying why.
    expect(header.backend).toMatch(/^wasm · /);
    expect(header.notice).toMatch(/webgpu/i);
    expect(header.notice).toMatch(/webgl/i);
    await vs.screenshot('quickstart-training');
    await vs.until('train and test curve points', async () => {
      const [train, test] = ((await panel.locator('.chart').getAttribute('data-points')) ?? '0/0').split('/').map(Number);
      return train >= 2 && test >= 1;
    }, 240_000);
    await vs.until('a sample grid', async () => /Samples at step \d+/.test((await panel.locator('.caption').first().textContent()) ?? ''), 300_000);
    expect(await vs.hoverSample(14, 14)).toBe('0');
    await vs.screenshot('quickstart-hover');
    const ended = await stopRun(vs, started.run.dir);
    expect(ended.status).toBe('stopped');
    expect(ended.backend).toBe('wasm');
    expect(readdirSync(path.join(started.run.dir, 'samples')).length).toBeGreaterThanOrEqual(1);
    await vs.screenshot('quickstart-stopped');
  }, 900_000);

  it('an idx experiment on the 60,000-image Fashion-MNIST training file trains', async () => {
    if (!existsSync(FASHION_TRAIN)) throw new Error(`${FASHION_TRAIN} is missing: apt-get install dataset-fashion-mnist (.ci/run does)`);
    const { started, timing } = await measure('fashion-60k.pixel.json', 16, 5);
    record('fashion-mnist idx (60k, wasm via auto)', timing);
    await vs.screenshot('fashion-60k-training');
    expect((await stopRun(vs, started.run.dir)).status).toBe('stopped');
  }, 900_000);

  for (const backend of BACKENDS) {
    it(`trains with the ${backend} backend forced`, async () => {
      const started = await trainUntilFirstStep(vs, `backend-${backend}.pixel.json`, { backend, timeout: 300_000 });
      const ended = await vs.until(`backend-${backend} to finish`, () => {
        const info = vs.run(started.run.dir);
        return info.status !== 'running' ? info : null;
      }, 300_000);
      await vs.screenshot(`backend-${backend}`);
      expect(ended.status, ended.error).toBe('finished');
      expect(ended.step).toBeGreaterThanOrEqual(2);
      expect(ended.backend).toBe(backend);
      record(`backend ${backend} (tiny 8×8)`, { secondsToFirstStep: Number(started.firstStepSeconds.toFixed(1)), header: started.backend });
    }, 600_000);
  }

  const shipped = readdirSync(EXAMPLES).filter((f) => f.endsWith('.pixel.json')).sort();
  for (const file of shipped) {
    it(`the shipped example ${file} starts training at full size, and stops`, async () => {
      const started = await trainUntilFirstStep(vs, `examples/${file}`, { timeout: 480_000 });
      await vs.screenshot(`example-${file.replace('.pixel.json', '')}`);
      const ended = await stopRun(vs, started.run.dir, 300_000);
      expect(ended.status, ended.error).toBe('stopped');
      record(`example ${file}`, { backend: started.backend, secondsToFirstStep: Number(started.firstStepSeconds.toFixed(1)) });
    }, 900_000);
  }
});
