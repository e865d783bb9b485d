/**
 * The panel app in headless Chromium (Debian's, through playwright-core), served with the real page and content
 * security policy, in a harness that stands in for VS Code's webview API and plays the host's side of the
 * protocol: a tiny model trains on WebGPU and on wasm, the chart gains points, the grid gains samples, hovering
 * gives a mask with nothing at or after the pixel, and a malformed message is rejected; the validation split on the
 * chart and in the comparison; what the model believes (the NLL map adds up to the engine's NLL, a hover's predicted
 * distribution is there in the same task, sampling shows what each pixel is drawn from). Screenshots of the panel
 * (dark, light, high contrast) and of the new cards are written to test-output/.
 */
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImages } from '../../src/data/node-load';
import { testImageSubset } from '../../src/data/test-images';
import type { Experiment } from '../../src/experiment/types';
import { pixelBeliefs } from '../../src/model/beliefs';
import { perClassClasses } from '../../src/model/sampling/index';
import { decodeCheckpoint, restoreModel } from '../../src/train/checkpoint';
import { imageShape, parseExperiment } from '../../src/experiment/experiment';
import { makeNonce, panelHtml } from '../../src/extension/html';

const ROOT = path.join(__dirname, '..', '..');
const OUTPUT = path.join(ROOT, 'test-output');
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.map': 'application/json' };

let server: Server;
let origin = '';
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist', 'webview', 'main.js'))) throw new Error('the panel is not built: run npm run build');
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname === '/hooked-worker.js') {
      // The real worker, with every WebGPU device it gets kept where a test can reach it (to lose it on purpose).
      const hook = 'self.__devices=[];const rd=GPUAdapter.prototype.requestDevice;GPUAdapter.prototype.requestDevice=async function(...a){const d=await rd.apply(this,a);self.__devices.push(d);return d;};\n';
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(hook + readFileSync(path.join(ROOT, 'dist', 'webview', 'worker.js'), 'utf8'));
      return;
    }
    if (url.pathname === '/') {
      const asked = url.searchParams.get('theme');
      const theme = asked === 'light' || asked === 'high-contrast' ? asked : 'dark';
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        panelHtml({
          cspSource: origin,
          nonce: makeNonce(),
          scriptUri: `${origin}/dist/webview/main.js`,
          workerUri: url.searchParams.has('hook') ? `${origin}/hooked-worker.js` : `${origin}/dist/webview/worker.js`,
          wasmPaths: `${origin}/dist/webview/`,
          styleUris: [`${origin}/test/browser/theme-${theme}.css`, `${origin}/dist/webview/main.css`, `${origin}/media/panel.css`],
          preludeUris: [`${origin}/test/browser/fake-vscode.js`],
        }).replace('<body ', `<body class="vscode-${theme}" `),
      );
      return;
    }
    const file = path.join(ROOT, path.normalize(url.pathname));
    if (!file.startsWith(ROOT) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--enable-unsafe-webgpu'],
  });
  mkdirSync(OUTPUT, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/**
 * A tiny experiment, as the host would send it (parsed, defaults and shape filled in): 10×10 binary MNIST digits,
 * or in colour 8×8 emoji with 4 levels per channel.
 */
function tinyTraining(backend: string, steps = 8, colour = false) {
  const text = JSON.stringify({
    name: 'tiny',
    model: colour
      ? { type: 'gated-pixelcnn', layers: 2, hidden: 6, firstKernel: 5, kernel: 3, outputHidden: 6 }
      : { type: 'pixelcnn', layers: 1, hidden: 8, firstKernel: 5, kernel: 3, outputHidden: 8 },
    data: colour
      ? { dataset: 'emoji', limit: 120, height: 8, width: 8, channels: 3, levels: 4, testFraction: 0.2 }
      : { dataset: 'mnist', limit: 120, height: 10, width: 10, levels: 2, binarize: 'fixed', testFraction: 0.2 },
    training: { steps, batchSize: 8, evalEvery: 4, evalImages: 16, sampleEvery: 8, checkpointEvery: 4, backend },
    sampling: { count: 4 },
  });
  const e = parseExperiment(text, 'tiny.pixel.json');
  const { set } = loadImages(e, path.join(ROOT, 'tiny.pixel.json'), text);
  const shape = imageShape(e, set);
  return {
    type: 'train',
    runId: `run-${backend}`,
    name: `tiny (${backend})`,
    experiment: JSON.stringify({ ...e, data: { ...e.data, ...shape } }),
    images: { data: { __bytes: Buffer.from(set.images).toString('base64') }, count: set.count, ...shape },
    checkpoint: null,
    metrics: [],
    backend,
  };
}

/** The host posts a message to the panel (binary fields as { __bytes: base64 }). */
function fromHost(page: Page, message: unknown): Promise<void> {
  return page.evaluate((m) => (window as unknown as { __fromHost(m: unknown): void }).__fromHost(m), message);
}

/** A run as the host shows it from disk (RunView), with what a test sets. */
function runView(runId: string, experiment: string, fields: Record<string, unknown> = {}) {
  return { runId, name: runId, status: 'finished', step: 2, steps: 2, metrics: [], grids: [], experiment, checkpoint: null, dataset: null, ...fields };
}

type Sent = { type: string; [key: string]: unknown };

/** The last checkpoint the panel posted, with its bytes kept (base64) so it can be sent back as a host would. */
async function checkpointOf(page: Page): Promise<string> {
  return page.evaluate(() => {
    const found = (window as unknown as { __sent: { type: string; bytes?: Uint8Array }[] }).__sent.filter((m) => m.type === 'checkpoint').at(-1)!;
    let text = '';
    for (const b of found.bytes!) text += String.fromCharCode(b);
    return btoa(text);
  });
}

/**
 * The engine's NLL of test image k of a training message's data set, for the weights of a checkpoint, computed here
 * in Node (cpu backend) from the test images as evaluation encodes them: what the panel's NLL map must add up to.
 */
async function engineNats(message: ReturnType<typeof tinyTraining>, checkpoint: string, k: number): Promise<number> {
  await tf.setBackend('cpu');
  const e = JSON.parse(message.experiment) as Experiment;
  const { count, height, width, channels } = message.images;
  const test = testImageSubset({ data: Uint8Array.from(Buffer.from(message.images.data.__bytes, 'base64')), count, height, width, channels }, e);
  const model = restoreModel(decodeCheckpoint(Uint8Array.from(Buffer.from(checkpoint, 'base64'))));
  try {
    const size = height * width * channels;
    return (await pixelBeliefs(model, test.values.subarray(k * size, (k + 1) * size))).nats;
  } finally {
    model.dispose();
  }
}

async function sent(page: Page): Promise<Sent[]> {
  return page.evaluate(() =>
    (window as unknown as { __sent: Sent[] }).__sent.map((m) => {
      const small: Sent = { type: m.type };
      for (const [k, v] of Object.entries(m)) small[k] = v instanceof Uint8Array ? { bytes: v.length, head: Array.from(v.subarray(0, 4)) } : v;
      return small;
    }),
  );
}

async function waitForMessage(page: Page, type: string, timeout: number, runId?: string): Promise<Sent> {
  const end = Date.now() + timeout;
  for (;;) {
    const found = (await sent(page)).find((m) => m.type === type && (runId === undefined || m.runId === runId));
    if (found) return found;
    if (Date.now() > end) throw new Error(`no '${type}' message within ${timeout} ms; got ${(await sent(page)).map((m) => m.type).join(', ')}`);
    await page.waitForTimeout(250);
  }
}

async function openPanel(theme: 'dark' | 'light' | 'high-contrast', query = ''): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await page.goto(`${origin}/?theme=${theme}${query}`);
  await waitForMessage(page, 'ready', 30_000);
  return page;
}

describe.each([['webgpu'], ['wasm']])('the panel on %s', (backend) => {
  it('trains, draws curves and samples, and inspects a hovered pixel', async () => {
    const page = await openPanel('dark');
    await fromHost(page, tinyTraining(backend));
    const ended = await waitForMessage(page, 'ended', 240_000);
    expect(ended).toMatchObject({ status: 'finished', step: 8 });
    const messages = await sent(page);
    const chosen = messages.find((m) => m.type === 'backend') as unknown as { info: { name: string; adapter: string } };
    expect(chosen.info.name).toBe(backend);
    await expect.poll(() => page.locator('.backend').textContent()).toContain(backend);
    expect(messages.filter((m) => m.type === 'step')).toHaveLength(8);
    // Each evaluation scores the validation images (they choose the best checkpoint), then the test images.
    expect(messages.filter((m) => m.type === 'eval').map((m) => `${m.split}@${m.step}`)).toEqual(['validation@4', 'test@4', 'validation@8', 'test@8']);
    const samples = messages.find((m) => m.type === 'samples') as unknown as { png: { head: number[] } };
    expect(samples.png.head).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(messages.filter((m) => m.type === 'checkpoint').map((m) => m.step)).toEqual([4, 8]);
    expect(messages.filter((m) => m.type === 'log' && m.level === 'error')).toEqual([]);

    // The chart has every point; the grid shows the samples of the last step.
    await expect.poll(() => page.locator('.chart').getAttribute('data-points')).toBe('8/2');
    await expect.poll(() => page.locator('.chart').getAttribute('data-validation-points')).toBe('2');
    await expect.poll(() => page.locator('.caption').first().textContent()).toBe('Samples at step 8.');

    // Hover a sample pixel: the structural mask comes at once, nothing at or after the pixel; then the gradient.
    const canvas = page.locator('.grid canvas').first();
    const box = (await canvas.boundingBox())!;
    const gridWidth = await canvas.evaluate((c: HTMLCanvasElement) => c.width);
    const unit = box.width / gridWidth; // screen pixels per image pixel (grid drawn at one canvas pixel each)
    await page.mouse.move(box.x + (1 + 6 + 0.5) * unit, box.y + (1 + 5 + 0.5) * unit); // image 0, pixel (5, 6)
    const caption = page.locator('.inspector-pair figcaption + canvas + p').first();
    await expect.poll(() => caption.textContent()).toContain('x[5,6] of sample 1 depends on');
    await expect.poll(() => caption.getAttribute('data-leaks')).toBe('0');
    expect(Number(await caption.getAttribute('data-dependencies'))).toBeGreaterThan(10);
    await expect.poll(() => page.locator('.inspector-pair p').nth(1).textContent(), { timeout: 60_000 }).toContain('input values move log p');

    // The dataset images can be inspected the same way; the kernel masks are drawn.
    expect(await page.locator('.kernel').count()).toBeGreaterThanOrEqual(4);
    await page.screenshot({ path: path.join(OUTPUT, `panel-${backend}-dark.png`), fullPage: true });
    await page.close();
  });
});

describe('the panel', () => {
  it('rejects malformed or unknown messages, says so to the host, and acts on none of them', async () => {
    const page = await openPanel('light');
    await fromHost(page, { type: 'train', runId: 5 });
    await fromHost(page, { type: 'format-disk' });
    await fromHost(page, 'hello');
    await fromHost(page, { type: 'stop', runId: 'x', extra: true });
    await expect.poll(async () => (await sent(page)).filter((m) => m.type === 'rejected').length).toBe(4);
    const rejected = (await sent(page)).filter((m) => m.type === 'rejected').map(({ messageType, runId, reason }) => ({ messageType, runId, reason }));
    expect(rejected).toEqual([
      { messageType: 'train', runId: undefined, reason: 'rejected a message from the host: train.runId must be a string' },
      { messageType: 'format-disk', runId: undefined, reason: "rejected a message from the host: unknown host message type 'format-disk'" },
      { messageType: 'unknown', runId: undefined, reason: 'rejected a message from the host: host message without a type' },
      { messageType: 'stop', runId: 'x', reason: 'rejected a message from the host: stop has unknown field extra' },
    ]);
    // The user sees it too; with no run on view, the panel says what to do.
    await expect.poll(() => page.locator('#run-error').textContent()).toContain('stop has unknown field extra');
    await expect.poll(() => page.locator('.empty-state').isVisible()).toBe(true);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Pixel Lab');
    await page.screenshot({ path: path.join(OUTPUT, 'panel-idle-light.png'), fullPage: true });
    await page.close();
  });

  it('trains a class-conditional model on the labels the host sends: its NLL conditional, on validation and test', async () => {
    const page = await openPanel('dark');
    const training = tinyTraining('wasm', 4);
    const e = JSON.parse(training.experiment);
    const text = JSON.stringify({ ...e, model: { ...e.model, conditional: true, classes: 10 } });
    const { set } = loadImages(parseExperiment(text, 'tiny.pixel.json'), path.join(ROOT, 'tiny.pixel.json'), text);
    expect(set.labels).toBeDefined();
    await fromHost(page, { ...training, runId: 'conditional', experiment: text, labels: { __bytes: Buffer.from(set.labels!).toString('base64') } });
    const ended = await waitForMessage(page, 'ended', 240_000);
    expect(ended).toMatchObject({ runId: 'conditional', status: 'finished', step: 4 });
    const messages = await sent(page);
    expect(messages.filter((m) => m.type === 'step').every((m) => m.conditional === true)).toBe(true);
    expect(messages.filter((m) => m.type === 'eval').map((m) => [m.split, m.conditional])).toEqual([['validation', true], ['test', true]]);
    // Without the labels the worker refuses a conditional model, saying why.
    await fromHost(page, { ...training, runId: 'unlabelled', experiment: text });
    const failed = (await waitForMessage(page, 'ended', 60_000, 'unlabelled')) as unknown as { status: string; error: string };
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/class-conditional, and its images have no class labels/);
    await page.close();
  });

  it('overlays the curves of several runs when comparing: validation dotted, the best step chosen by it', async () => {
    const page = await openPanel('dark');
    // pixelcnn has validation points (its validation NLL is lowest at step 10, its test NLL at step 20); row-lstm has none.
    const pixelcnnValidation = [5, 10, 15, 20].map((step) => ({ step, split: 'validation', nats: step === 10 ? 80 : 90, bitsPerDim: (step === 10 ? 80 : 90) / (784 * Math.LN2) }));
    const run = (name: string, steps: number, scale: number, extra: object[] = []) =>
      runView(name, '{}', {
        step: steps,
        steps,
        metrics: [...Array.from({ length: steps }, (_, k) => ({ step: k + 1, split: k % 5 === 4 ? 'test' : 'train', nats: scale * (100 - k), bitsPerDim: (scale * (100 - k)) / (784 * Math.LN2) })), ...extra],
      });
    await fromHost(page, { type: 'compare', runs: [run('pixelcnn', 20, 1, pixelcnnValidation), run('row-lstm', 10, 0.9)] });
    await expect.poll(() => page.locator('.chart').getAttribute('data-points')).toBe('16/4,8/2');
    await expect.poll(() => page.locator('.chart').getAttribute('data-validation-points')).toBe('4,0');
    await expect.poll(() => page.locator('h1').textContent()).toBe('Comparing 2 runs');
    // The legend names every split of every run.
    const legend = await page.locator('.u-legend .u-label').allTextContents();
    expect(legend).toEqual(expect.arrayContaining(['pixelcnn train', 'pixelcnn validation', 'pixelcnn test', 'row-lstm train', 'row-lstm validation', 'row-lstm test']));
    // The table a comparison is read for: last train NLL; the best step (by validation, else by test) and the test NLL there.
    const header = await page.locator('table.comparison thead th').allTextContents();
    expect(header).toEqual(['run', 'status', 'step', 'last train (nats)', 'best validation (nats)', 'test at best (nats)', 'test at best (bits/dim)', 'best step']);
    const rows = await page.locator('table.comparison tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    expect(rows).toEqual([
      ['pixelcnn', 'finished', '20/20', '82.00', '80.00', '91.00', (91 / (784 * Math.LN2)).toFixed(4), '10'],
      ['row-lstm', 'finished', '10/10', '82.80', '–', '81.90', ((0.9 * 91) / (784 * Math.LN2)).toFixed(4), '10 (by test)'],
    ]);
    // A comparison has no model to sample or inspect: those cards are not shown.
    expect(await page.getByText('What this pixel depends on').isVisible()).toBe(false);
    expect(await page.getByText('NLL map (test split)').isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Sample' }).isVisible()).toBe(false);
    await page.screenshot({ path: path.join(OUTPUT, 'panel-compare-dark.png'), fullPage: true });
    await page.close();
  });

  it('keeps a run in training on its own curve while runs are compared, and goes back to it', async () => {
    const page = await openPanel('dark');
    const live = tinyTraining('wasm', 5000);
    await fromHost(page, live);
    await waitForMessage(page, 'step', 60_000);
    const view = (runId: string, name: string, status: string, steps: number) =>
      runView(runId, live.experiment, { name, status, step: steps, steps, metrics: Array.from({ length: steps }, (_, k) => ({ step: k + 1, split: k % 5 === 4 ? 'test' : 'train', nats: 100 - k, bitsPerDim: 0.1 })) });
    // Compared: the live run's new points land on its own curve; the finished run's curve stays as it was.
    await fromHost(page, { type: 'compare', runs: [view('finished', 'finished', 'finished', 10), view(live.runId, 'live', 'running', 0)] });
    await expect.poll(async () => Number((await page.locator('.chart').getAttribute('data-points'))!.split(',')[1].split('/')[0])).toBeGreaterThan(0);
    expect((await page.locator('.chart').getAttribute('data-points'))!.split(',')[0]).toBe('8/2');
    expect(await page.locator('h1').textContent()).toBe('Comparing 2 runs');
    // Back to the run in training: no checkpoint is loaded over its live model, and it keeps counting.
    await fromHost(page, { type: 'show', run: view(live.runId, 'tiny (wasm)', 'running', 0) });
    await expect.poll(() => page.locator('h1').textContent()).toBe('tiny (wasm)');
    await expect.poll(() => page.locator('.badge').first().textContent()).toMatch(/^step \d+\/5000$/);
    await fromHost(page, { type: 'stop', runId: live.runId });
    expect(await waitForMessage(page, 'ended', 60_000)).toMatchObject({ status: 'stopped' });
    expect((await sent(page)).filter((m) => m.type === 'log' && m.level === 'error')).toEqual([]);
    await page.close();
  });

  it('inspects a colour model channel by channel: G sees R of its own pixel, B sees R and G; maps and predicts per channel', async () => {
    const page = await openPanel('dark');
    const training = tinyTraining('wasm', 8, true);
    await fromHost(page, training);
    expect(await waitForMessage(page, 'ended', 120_000)).toMatchObject({ status: 'finished' });
    const canvas = page.locator('.dataset canvas');
    const box = (await canvas.boundingBox())!;
    const unit = box.width / (await canvas.evaluate((c: HTMLCanvasElement) => c.width));
    const caption = page.locator('.inspector-pair p').first();
    const counts: number[] = [];
    for (const [c, name] of ['R', 'G', 'B'].entries()) {
      await page.locator('vscode-dropdown').last().evaluate((d, value) => {
        (d as unknown as { value: string }).value = value;
        d.dispatchEvent(new Event('change'));
      }, String(c));
      // Test image 1 is the top-left 8×8 of the dataset grid (one canvas pixel per image pixel, 1-pixel gutters).
      await page.mouse.move(box.x + (1 + 4 + 0.5) * unit, box.y + (1 + 3 + 0.5) * unit + c * 0.01);
      await expect.poll(() => caption.textContent()).toContain(`x[3,4,${name}] of test image 1 depends on`);
      expect(await caption.getAttribute('data-leaks')).toBe('0');
      counts.push(Number(await caption.getAttribute('data-dependencies')));
    }
    // The same earlier pixels for all three; within the pixel, G adds R and B adds G.
    expect(counts[1] - counts[0]).toBe(1);
    expect(counts[2] - counts[1]).toBe(1);
    await expect.poll(() => page.locator('.inspector-pair p').nth(1).textContent(), { timeout: 60_000 }).toContain('input values move log p');
    // The NLL map: one map per channel, its total the sum of the maps and the engine's NLL of that image.
    const total = page.locator('.nll-total');
    await expect.poll(() => total.getAttribute('data-total'), { timeout: 60_000 }).not.toBeNull();
    expect(await page.locator('.nll-card canvas.nll-canvas').count()).toBe(4);
    expect(await total.textContent()).toMatch(/^Test image 1 \(test split\): [\d.]+ nats, [\d.]+ bits\/dim \(R [\d.]+, G [\d.]+, B [\d.]+\) — the sum of the map\.$/);
    const shown = Number(await total.getAttribute('data-total'));
    expect(Math.abs(shown - Number(await total.getAttribute('data-map-sum')))).toBeLessThan(1e-3);
    expect(Math.abs(shown - (await engineNats(training, await checkpointOf(page), 0)))).toBeLessThan(1e-3);
    // Hovered: a 4-level histogram per channel, each summing to 1, at once.
    const predicted = await hoverAndRead(page, '.dataset canvas', 0, 3, 4, { width: 8, height: 8, columns: 4 });
    expect(predicted).toMatchObject({ pixel: '3,4', figures: 3 });
    for (const sum of predicted.sum!.split(',')) expect(Math.abs(Number(sum) - 1)).toBeLessThan(1e-5);
    expect(await page.locator('.predicted .histogram-figure').first().getAttribute('data-probabilities')).toMatch(/^[\d.e-]+(,[\d.e-]+){3}$/);
    await page.locator('.nll-card').screenshot({ path: path.join(OUTPUT, 'nll-map-colour-dark.png') });
    await page.locator('.inspector-card').screenshot({ path: path.join(OUTPUT, 'predicted-colour-dark.png') });
    await page.screenshot({ path: path.join(OUTPUT, 'panel-colour-dark.png'), fullPage: true });
    await page.close();
  });

  it.each(['light', 'high-contrast'] as const)('looks right in the %s theme once trained, a test image hovered', async (theme) => {
    const page = await openPanel(theme);
    await fromHost(page, tinyTraining('wasm'));
    await waitForMessage(page, 'ended', 120_000);
    const box = (await page.locator('.dataset canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.12, box.y + box.height * 0.12);
    await expect.poll(() => page.locator('.inspector-pair p').first().textContent()).toContain('of test image 1 depends on');
    await page.screenshot({ path: path.join(OUTPUT, `panel-wasm-${theme}.png`), fullPage: true });
    await page.close();
  });
});

/**
 * Hover a pixel of a grid (image n, pixel i, j) by dispatching the mouse event in the page, and read the predicted
 * distribution in the same task, before any frame or message could come between: a hover must be a lookup.
 */
async function hoverAndRead(page: Page, selector: string, n: number, i: number, j: number, tile: { width: number; height: number; columns: number }) {
  return page.evaluate(
    ({ selector, n, i, j, tile }) => {
      const canvas = document.querySelector(selector) as HTMLCanvasElement;
      const box = canvas.getBoundingClientRect();
      const unit = box.width / canvas.width;
      const x = 1 + (n % tile.columns) * (tile.width + 1) + j + 0.5;
      const y = 1 + Math.floor(n / tile.columns) * (tile.height + 1) + i + 0.5;
      canvas.dispatchEvent(new MouseEvent('mousemove', { clientX: box.left + x * unit, clientY: box.top + y * unit, bubbles: true }));
      const shown = document.querySelector('.predicted') as HTMLElement;
      return { pixel: shown.dataset.pixel, sum: shown.dataset.sum, figures: shown.querySelectorAll('.histogram-figure').length, text: shown.textContent };
    },
    { selector, n, i, j, tile },
  );
}

describe('what the model believes at each pixel', () => {
  it('maps a test image\'s NLL (its sum, the engine\'s), shows a hovered pixel\'s distribution at once, and what sampling draws from', async () => {
    const page = await openPanel('dark');
    const training = tinyTraining('wasm', 8);
    await fromHost(page, training);
    await waitForMessage(page, 'ended', 120_000);
    const checkpoint = await checkpointOf(page);

    // The NLL map of test image 1 (the default): its total is the sum of its map, and the engine's NLL of that image.
    const total = page.locator('.nll-total');
    await expect.poll(() => total.getAttribute('data-total'), { timeout: 60_000 }).not.toBeNull();
    expect(await total.textContent()).toMatch(/^Test image 1 \(test split\): [\d.]+ nats, [\d.]+ bits\/dim — the sum of the map\.$/);
    const shown = Number(await total.getAttribute('data-total'));
    expect(Math.abs(shown - Number(await total.getAttribute('data-map-sum')))).toBeLessThan(1e-3);
    expect(Math.abs(shown - (await engineNats(training, checkpoint, 0)))).toBeLessThan(1e-3);
    expect(await page.locator('.nll-card canvas.nll-canvas').count()).toBe(2); // the image and its map
    expect(await page.locator('.nll-card canvas[role=img]').evaluateAll((cs) => cs.every((c) => (c.getAttribute('aria-label') ?? '').length > 20))).toBe(true);

    // Click test image 2 on the dataset card: it is mapped, and its total is the engine's too.
    const dataset = page.locator('.dataset canvas');
    const box = (await dataset.boundingBox())!;
    const unit = box.width / (await dataset.evaluate((c: HTMLCanvasElement) => c.width));
    await page.mouse.click(box.x + (1 + 11 + 4.5) * unit, box.y + (1 + 4.5) * unit);
    await expect.poll(() => total.getAttribute('data-image')).toBe('1');
    expect(await total.textContent()).toContain('Test image 2 (test split)');
    expect(Math.abs(Number(await total.getAttribute('data-total')) - (await engineNats(training, checkpoint, 1)))).toBeLessThan(1e-3);

    // Hover a pixel of test image 2 and of sample 1: the predicted distribution is there in the same task, summing to 1.
    const tile = { width: 10, height: 10, columns: 4 };
    const onTest = await hoverAndRead(page, '.dataset canvas', 1, 5, 6, tile);
    expect(onTest).toMatchObject({ pixel: '5,6', figures: 1 });
    expect(Math.abs(Number(onTest.sum) - 1)).toBeLessThan(1e-5);
    expect(onTest.text).toMatch(/p\(1\) = [\d.]+; it is [01] \(p [\d.]+\)/);
    expect(onTest.text).toContain('x[5,6] of test image 2 (test split)');
    await expect.poll(() => page.locator('.nll-at').textContent()).toMatch(/^x\[5,6\]: −log p = [\d.]+ nats\.$/);
    await page.locator('.nll-card').screenshot({ path: path.join(OUTPUT, 'nll-map-dark.png') });
    await page.locator('.inspector-card').screenshot({ path: path.join(OUTPUT, 'predicted-dark.png') });
    const onSample = await hoverAndRead(page, '.grid:not(.dataset) canvas', 0, 3, 2, { width: 10, height: 10, columns: 2 });
    expect(onSample).toMatchObject({ pixel: '3,2', figures: 1 });
    expect(Math.abs(Number(onSample.sum) - 1)).toBeLessThan(1e-5);
    expect(onSample.text).toContain('x[3,2] of sample 1');

    // Sampling: the distribution each new pixel of sample 1 is drawn from is shown while it is drawn, then goes.
    await page.evaluate(() => {
      const seen: { pixel?: string; sum?: string }[] = ((window as unknown as { __drawing: unknown[] }).__drawing = []);
      const live = document.querySelector('.drawing') as HTMLElement;
      new MutationObserver(() => {
        const d = live.querySelector('.distribution') as HTMLElement;
        if (live.hidden || !d.dataset.sum) return;
        seen.push({ pixel: d.dataset.pixel, sum: d.dataset.sum });
        // Sampling a tiny model is over in a moment: keep a picture of the card as it was midway (canvases as images;
        // the latest of the first few).
        if (seen.length <= 8) {
          document.getElementById('sampling-snapshot')?.remove();
          const card = live.closest('.card') as HTMLElement;
          const copy = card.cloneNode(true) as HTMLElement;
          const originals = card.querySelectorAll('canvas');
          copy.querySelectorAll('canvas').forEach((c, k) => {
            const img = document.createElement('img');
            img.src = originals[k].toDataURL();
            img.className = c.className;
            img.style.width = `${originals[k].clientWidth}px`;
            img.style.imageRendering = 'pixelated';
            c.replaceWith(img);
          });
          copy.id = 'sampling-snapshot';
          copy.style.width = `${card.clientWidth}px`;
          card.parentElement!.append(copy);
        }
      }).observe(live, { attributes: true, subtree: true });
    });
    await page.getByRole('button', { name: 'Sample' }).click();
    await expect.poll(() => page.locator('.card:not(#sampling-snapshot) > .grid:not(.dataset) + .slider + .caption').textContent(), { timeout: 60_000 }).toMatch(/new samples at temperature/);
    const drawing = await page.evaluate(() => (window as unknown as { __drawing: { pixel: string; sum: string }[] }).__drawing);
    expect(drawing.length).toBeGreaterThan(0);
    for (const d of drawing) {
      expect(d.pixel).toMatch(/^\d+,\d+$/);
      expect(Math.abs(Number(d.sum) - 1)).toBeLessThan(1e-5);
    }
    expect(await page.locator('.card:not(#sampling-snapshot) .drawing').isHidden()).toBe(true);
    await page.locator('#sampling-snapshot').screenshot({ path: path.join(OUTPUT, 'sampling-distribution-dark.png') });
    await page.evaluate(() => document.getElementById('sampling-snapshot')!.remove());
    // The new samples are asked about once drawn: hovering one shows its distribution.
    await expect.poll(async () => (await hoverAndRead(page, '.grid:not(.dataset) canvas', 2, 7, 7, { width: 10, height: 10, columns: 2 })).sum, { timeout: 30_000 }).toBe('1.000000');
    expect((await sent(page)).filter((m) => m.type === 'log' && m.level === 'error')).toEqual([]);
    await page.screenshot({ path: path.join(OUTPUT, 'beliefs-dark.png'), fullPage: true });
    // Narrower, as an editor beside another: the cards stack and stay readable.
    await page.setViewportSize({ width: 720, height: 900 });
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(OUTPUT, 'beliefs-narrow-dark.png'), fullPage: true });
    await page.close();

    // The same run shown from disk (light theme): the host's test images with their encoded values, the checkpoint.
    const light = await openPanel('light');
    const e = JSON.parse(training.experiment) as Experiment;
    const { count, height, width, channels } = training.images;
    const test = testImageSubset({ data: Uint8Array.from(Buffer.from(training.images.data.__bytes, 'base64')), count, height, width, channels }, e);
    const bytes = (a: Uint8Array) => ({ __bytes: Buffer.from(a).toString('base64') });
    const metrics = [1, 2, 3, 4].flatMap((step) => [
      { step, split: 'train', nats: 70 - step, bitsPerDim: 1 - step / 10 },
      ...(step % 2 === 0 ? [{ step, split: 'validation', nats: 68 - step, bitsPerDim: 0.9 - step / 10 }, { step, split: 'test', nats: 69 - step, bitsPerDim: 0.95 - step / 10 }] : []),
    ]);
    const shownDataset = { data: bytes(test.data), values: bytes(test.values), count: test.count, height, width, channels };
    await fromHost(light, { type: 'show', run: runView('on-disk', training.experiment, { step: 8, steps: 8, metrics, checkpoint: { __bytes: checkpoint }, dataset: shownDataset }) });
    const lightTotal = light.locator('.nll-total');
    await expect.poll(() => lightTotal.getAttribute('data-total'), { timeout: 60_000 }).not.toBeNull();
    expect(Math.abs(Number(await lightTotal.getAttribute('data-total')) - (await engineNats(training, checkpoint, 0)))).toBeLessThan(1e-3);
    await expect.poll(() => light.locator('.chart').getAttribute('data-validation-points')).toBe('2');
    const lightHover = await hoverAndRead(light, '.dataset canvas', 0, 4, 4, tile);
    expect(Math.abs(Number(lightHover.sum) - 1)).toBeLessThan(1e-5);
    await light.locator('.nll-card').screenshot({ path: path.join(OUTPUT, 'nll-map-light.png') });
    await light.locator('.inspector-card').screenshot({ path: path.join(OUTPUT, 'predicted-light.png') });
    await light.screenshot({ path: path.join(OUTPUT, 'beliefs-light.png'), fullPage: true });
    await light.close();
  });
});

describe('a class-conditional model', () => {
  it('samples one row per class or one class as picked, labels the rows with the class names, and reads each image as of its own class', async () => {
    const page = await openPanel('dark');
    const training = tinyTraining('wasm', 4);
    const e = JSON.parse(training.experiment);
    const text = JSON.stringify({ ...e, model: { ...e.model, conditional: true, classes: 10 } });
    const { set } = loadImages(parseExperiment(text, 'tiny.pixel.json'), path.join(ROOT, 'tiny.pixel.json'), text);
    const names = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
    const bytes = (a: Uint8Array) => ({ __bytes: Buffer.from(a).toString('base64') });
    await fromHost(page, { ...training, runId: 'classes', experiment: text, labels: bytes(set.labels!), classNames: names });
    expect(await waitForMessage(page, 'ended', 240_000)).toMatchObject({ runId: 'classes', status: 'finished' });
    const checkpoint = await checkpointOf(page);
    const samplesCard = page.locator('.card', { has: page.locator('h2', { hasText: /^Samples$/ }) });
    const grid = samplesCard.locator('.grid');

    // The grid saved while training: image n of class n mod K, a class a column, each column named.
    await expect.poll(() => grid.getAttribute('data-classes')).toBe('0,1,2,3');
    expect(await samplesCard.locator('.column-labels .class-label').allTextContents()).toEqual(['zero', 'one', 'two', 'three']);
    await samplesCard.screenshot({ path: path.join(OUTPUT, 'class-training-grid-dark.png') });

    // The picker lists every class by name.
    const picker = samplesCard.locator('select.class-picker');
    expect(await picker.locator('option').allTextContents()).toEqual(['all classes (one row per class)', ...names.map((n) => `only ${n}`)]);

    // One row per class: 4 of each (the experiment's 4 spread over 10 classes, at least 4), the rows labelled in order.
    await page.getByRole('button', { name: 'Sample' }).click();
    await expect.poll(() => samplesCard.locator('.grid + .slider + .caption').textContent(), { timeout: 120_000 }).toMatch(/^40 new samples at temperature/);
    expect(await grid.getAttribute('data-classes')).toBe(Array.from(perClassClasses(10, 4)).join(','));
    expect(await samplesCard.locator('.row-labels .class-label').allTextContents()).toEqual(names);
    expect(await samplesCard.locator('.column-labels').isHidden()).toBe(true);
    expect(await grid.locator('canvas').getAttribute('aria-label')).toBe(`40 samples, one row per class (4 each): ${names.join(', ')}`);
    expect(await grid.locator('canvas').evaluate((c: HTMLCanvasElement) => [c.width, c.height])).toEqual([4 * 11 + 1, 10 * 11 + 1]);
    // Each row label sits beside its row.
    const rows = await samplesCard.locator('.row-labels .class-label').evaluateAll((ls) => ls.map((l) => l.getBoundingClientRect().top + l.getBoundingClientRect().height / 2));
    const canvasBox = (await grid.locator('canvas').boundingBox())!;
    rows.forEach((centre, r) => expect(Math.abs(centre - (canvasBox.y + ((r + 0.5) * canvasBox.height) / 10))).toBeLessThan(canvasBox.height / 20));
    // A sample is read as of the class it was drawn for: hovering one of row 8 says so.
    const onSample = await hoverAndRead(page, '.grid:not(.dataset) canvas', 8 * 4 + 1, 4, 4, { width: 10, height: 10, columns: 4 });
    expect(onSample.text).toContain('x[4,4] of sample 34 (class eight)');
    await expect.poll(async () => (await hoverAndRead(page, '.grid:not(.dataset) canvas', 8 * 4 + 1, 4, 4, { width: 10, height: 10, columns: 4 })).sum, { timeout: 30_000 }).toBe('1.000000');
    await expect.poll(() => page.locator('.inspector-pair figcaption + canvas + p').first().textContent()).toContain('of sample 34 (class eight)');
    await samplesCard.screenshot({ path: path.join(OUTPUT, 'class-rows-dark.png') });

    // One class: every image of it, said over the grid.
    await picker.selectOption('3');
    await page.getByRole('button', { name: 'Sample' }).click();
    await expect.poll(() => grid.getAttribute('data-classes'), { timeout: 120_000 }).toBe('3,3,3,3');
    await expect.poll(() => samplesCard.locator('.grid + .slider + .caption').textContent(), { timeout: 120_000 }).toMatch(/^4 new samples/);
    expect(await samplesCard.locator('.grid-class').textContent()).toBe('All of class three');
    expect(await samplesCard.locator('.row-labels').isHidden()).toBe(true);
    await samplesCard.screenshot({ path: path.join(OUTPUT, 'class-one-dark.png') });

    // The NLL map of a test image is the engine's conditional NLL for its label, and says so.
    const e2 = JSON.parse(text) as Experiment;
    const { count, height, width, channels } = training.images;
    const all = Uint8Array.from(Buffer.from(training.images.data.__bytes, 'base64'));
    const test = testImageSubset({ data: all, count, height, width, channels }, e2, 16, set.labels);
    expect(test.labels).toBeDefined();
    const conditionalNats = async (k: number) => {
      await tf.setBackend('cpu');
      const model = restoreModel(decodeCheckpoint(Uint8Array.from(Buffer.from(checkpoint, 'base64'))));
      try {
        const size = height * width * channels;
        return (await pixelBeliefs(model, test.values.subarray(k * size, (k + 1) * size), test.labels![k])).nats;
      } finally {
        model.dispose();
      }
    };
    const total = page.locator('.nll-total');
    await expect.poll(() => total.getAttribute('data-total'), { timeout: 60_000 }).not.toBeNull();
    expect(await total.getAttribute('data-class')).toBe(String(test.labels![0]));
    expect(await total.textContent()).toContain(`Test image 1 (test split), class ${names[test.labels![0]]}: conditional NLL −log p(x | ${names[test.labels![0]]})`);
    expect(Math.abs(Number(await total.getAttribute('data-total')) - (await conditionalNats(0)))).toBeLessThan(1e-3);
    expect(await page.locator('.nll-card h2').textContent()).toBe('Conditional NLL map (test split)');
    // Another label reads otherwise: the map is of the image's own class.
    const other = test.labels!.findIndex((k) => k !== test.labels![0]);
    await page.locator('select.nll-picker').selectOption(String(other));
    await expect.poll(() => total.getAttribute('data-image')).toBe(String(other));
    await expect.poll(() => total.getAttribute('data-class')).toBe(String(test.labels![other]));
    expect(Math.abs(Number(await total.getAttribute('data-total')) - (await conditionalNats(other)))).toBeLessThan(1e-3);
    const onTest = await hoverAndRead(page, '.dataset canvas', other, 5, 5, { width: 10, height: 10, columns: 4 });
    expect(onTest.text).toContain(`of test image ${other + 1} (test split, class ${names[test.labels![other]]})`);
    await page.locator('.nll-card').screenshot({ path: path.join(OUTPUT, 'class-nll-map-dark.png') });
    expect((await sent(page)).filter((m) => m.type === 'log' && m.level === 'error')).toEqual([]);
    await page.screenshot({ path: path.join(OUTPUT, 'class-panel-dark.png'), fullPage: true });
    await page.close();

    // The same run shown from disk (light): its class names in the run view, its test images' labels in the dataset.
    const light = await openPanel('light');
    const dataset = { data: bytes(test.data), values: bytes(test.values), labels: bytes(test.labels!), count: test.count, height, width, channels };
    await fromHost(light, { type: 'show', run: runView('on-disk', text, { step: 4, steps: 4, checkpoint: { __bytes: checkpoint }, dataset, classNames: names }) });
    const lightCard = light.locator('.card', { has: light.locator('h2', { hasText: /^Samples$/ }) });
    await expect.poll(() => lightCard.locator('select.class-picker option').count()).toBe(11);
    const lightTotal = light.locator('.nll-total');
    await expect.poll(() => lightTotal.getAttribute('data-total'), { timeout: 60_000 }).not.toBeNull();
    expect(Math.abs(Number(await lightTotal.getAttribute('data-total')) - (await conditionalNats(0)))).toBeLessThan(1e-3);
    await light.getByRole('button', { name: 'Sample' }).click();
    await expect.poll(() => lightCard.locator('.grid + .slider + .caption').textContent(), { timeout: 120_000 }).toMatch(/^40 new samples/);
    expect(await lightCard.locator('.row-labels .class-label').allTextContents()).toEqual(names);
    await lightCard.screenshot({ path: path.join(OUTPUT, 'class-rows-light.png') });
    await light.screenshot({ path: path.join(OUTPUT, 'class-panel-light.png'), fullPage: true });
    await light.close();
  });
});

describe('the panel, as users drive it in any order', () => {
  it('with backend auto skips the software GPUs (SwiftShader) for wasm, and says why', async () => {
    const page = await openPanel('dark');
    const message = tinyTraining('wasm', 2);
    await fromHost(page, { ...message, backend: 'auto' });
    expect(await waitForMessage(page, 'ended', 120_000)).toMatchObject({ status: 'finished' });
    const chosen = (await sent(page)).find((m) => m.type === 'backend') as unknown as { info: { name: string; fallbacks: { name: string; reason: string }[] } };
    expect(chosen.info.name).toBe('wasm');
    expect(chosen.info.fallbacks.map((f) => f.name)).toEqual(['webgpu', 'webgl']);
    for (const f of chosen.info.fallbacks) expect(f.reason).toMatch(/is SwiftShader, a CPU emulation of a GPU, about 30× slower than wasm/);
    await expect.poll(() => page.locator('.notice').first().textContent()).toContain('webgpu: its adapter is SwiftShader');
    await expect.poll(() => page.locator('.notice').first().textContent()).toContain('webgl: its renderer is SwiftShader');
    await page.close();
  });

  it('samples a run shown from disk at once, survives a failed request, and samples again', async () => {
    // A checkpoint, as a finished run leaves it.
    const trainer = await openPanel('dark');
    const training = tinyTraining('wasm', 4);
    await fromHost(trainer, training);
    await waitForMessage(trainer, 'ended', 120_000);
    const checkpoint = await checkpointOf(trainer);
    await trainer.close();

    // A fresh panel (as after a reload): Sample from Run comes with no model loaded and nothing shown before.
    const page = await openPanel('dark');
    const run = (runId: string, bytes: string) => runView(runId, training.experiment, { step: 4, steps: 4, checkpoint: { __bytes: bytes } });
    await fromHost(page, { type: 'sample', run: run('on-disk', checkpoint), count: 4, temperature: 1, seed: 3, keepRows: 0 });
    expect(await waitForMessage(page, 'sampled', 120_000)).toMatchObject({ runId: 'on-disk', count: 4 });
    await expect.poll(() => page.locator('#run-status').textContent()).toBe('finished');

    // A damaged checkpoint fails that request alone, visibly; the panel stays usable.
    await fromHost(page, { type: 'sample', run: run('damaged', btoa('PIXLCKPT not really')), count: 4, temperature: 1, seed: 3, keepRows: 0 });
    const problem = await waitForMessage(page, 'problem', 60_000);
    expect(problem).toMatchObject({ task: 'sample', runId: 'damaged' });
    expect(String(problem.message)).toMatch(/^Sampling failed: /);
    await expect.poll(() => page.locator('#run-error').textContent()).toMatch(/Sampling failed/);
    await page.screenshot({ path: path.join(OUTPUT, 'panel-sample-failed-dark.png'), fullPage: true });

    // The next requests are served: show the good run again, sample it, then train.
    await fromHost(page, { type: 'sample', run: run('on-disk', checkpoint), count: 4, temperature: 0.8, seed: 4, keepRows: 0 });
    await expect.poll(async () => (await sent(page)).filter((m) => m.type === 'sampled').length, { timeout: 120_000 }).toBe(2);
    await expect.poll(() => page.locator('#run-error').isVisible()).toBe(false);
    await fromHost(page, tinyTraining('wasm', 2));
    expect(await waitForMessage(page, 'ended', 120_000)).toMatchObject({ status: 'finished', step: 2 });
    expect((await sent(page)).filter((m) => m.type === 'log' && m.level === 'error')).toEqual([]);
    await page.close();
  });

  it('fails the run, says why, and trains again with a fresh worker when the GPU device is lost', async () => {
    const page = await openPanel('dark', '&hook');
    const message = tinyTraining('webgpu', 5000);
    await fromHost(page, message);
    await waitForMessage(page, 'step', 180_000);
    // Lose the device for real: destroy it in the worker, as a driver reset or a removed GPU would.
    await page.workers()[0].evaluate(() => (self as unknown as { __devices: GPUDevice[] }).__devices.forEach((d) => d.destroy()));
    const ended = await waitForMessage(page, 'ended', 60_000);
    expect(ended).toMatchObject({ runId: message.runId, status: 'failed' });
    expect(String(ended.error)).toMatch(/the GPU device was lost/);
    await expect.poll(() => page.locator('#run-error').textContent()).toMatch(/the GPU device was lost/);
    await expect.poll(() => page.locator('#run-status').textContent()).toBe('failed');
    await page.screenshot({ path: path.join(OUTPUT, 'panel-device-lost-dark.png'), fullPage: true });
    await fromHost(page, { ...tinyTraining('wasm', 2), runId: 'again' });
    await expect.poll(async () => (await sent(page)).filter((m) => m.type === 'ended' && m.runId === 'again').map((m) => m.status), { timeout: 120_000 }).toEqual(['finished']);
    await page.close();
  });

  it('starts a large colour model at once: its dependency field is computed on the first hover, not before training', async () => {
    const page = await openPanel('dark');
    // 64×64 in colour: its field is 12,288² bits (18 MiB), once computed before the first step and copied to the page.
    const text = JSON.stringify({
      name: 'large',
      model: { type: 'pixelcnn', layers: 1, hidden: 3, firstKernel: 3, kernel: 3, outputHidden: 3 },
      data: { dataset: 'emoji', limit: 20, height: 64, width: 64, channels: 3, levels: 4, testFraction: 0.2 },
      training: { steps: 1, batchSize: 1, evalEvery: 1, evalImages: 1, sampleEvery: 100, checkpointEvery: 1, backend: 'wasm' },
      sampling: { count: 1 },
    });
    const e = parseExperiment(text, 'large.pixel.json');
    const { set } = loadImages(e, path.join(ROOT, 'large.pixel.json'), text);
    const shape = imageShape(e, set);
    await fromHost(page, { type: 'train', runId: 'large', name: 'large', experiment: JSON.stringify({ ...e, data: { ...e.data, ...shape } }), images: { data: { __bytes: Buffer.from(set.images).toString('base64') }, count: set.count, ...shape }, checkpoint: null, metrics: [], backend: 'wasm' });
    expect(await waitForMessage(page, 'ended', 120_000)).toMatchObject({ status: 'finished' });
    // The first hover asks for the field: the inspector says it is being computed, then shows the map.
    const box = (await page.locator('.dataset canvas').boundingBox())!;
    const unit = box.width / (await page.locator('.dataset canvas').evaluate((c: HTMLCanvasElement) => c.width));
    const caption = page.locator('.inspector-pair p').first();
    await page.mouse.move(box.x + (1 + 40.5) * unit, box.y + (1 + 30.5) * unit);
    expect(await caption.textContent()).toBe('computing the structural map of this model…');
    await expect.poll(() => caption.textContent(), { timeout: 120_000 }).toContain('x[30,40,R] of test image 1 depends on');
    expect(await caption.getAttribute('data-leaks')).toBe('0');
    await page.close();
  });

  it('shows the run it just trained again with its model, and frees Sample when sampling ends off view', async () => {
    const page = await openPanel('dark');
    const training = tinyTraining('wasm', 2);
    await fromHost(page, training);
    await waitForMessage(page, 'ended', 120_000);
    const view = (runId: string) => runView(runId, training.experiment);
    // Shown again (from the tree): the worker still holds its model, and the panel knows it.
    await fromHost(page, { type: 'show', run: view(training.runId) });
    await expect.poll(() => page.locator('.kernels + .caption').textContent()).toMatch(/^pixelcnn, [\d,]+ parameters\.$/);
    expect(await page.locator('.kernel').count()).toBeGreaterThanOrEqual(4);
    // Sample, then another run comes on view before the grid is done: Sample works again afterwards.
    await page.getByRole('button', { name: 'Sample' }).click();
    await fromHost(page, { type: 'show', run: view('other') });
    await fromHost(page, { type: 'show', run: view(training.runId) });
    await expect.poll(() => page.getByRole('button', { name: 'Sample' }).getAttribute('disabled'), { timeout: 60_000 }).toBeNull();
    await page.close();
  });

  it('follows a run training elsewhere: its new points, its step, then its end', async () => {
    const page = await openPanel('dark');
    const experiment = tinyTraining('wasm', 40).experiment;
    await fromHost(page, { type: 'show', run: runView('cli-run', experiment, { status: 'running', step: 0, steps: 40 }) });
    const point = (step: number, split = 'train') => ({ step, split, nats: 100 - step, bitsPerDim: 0.1 });
    await fromHost(page, { type: 'news', runId: 'cli-run', metrics: [point(1), point(2), point(3)], grids: [], status: 'running', step: 0 });
    await expect.poll(() => page.locator('#run-status').textContent()).toBe('step 3/40 (elsewhere)');
    await expect.poll(() => page.locator('.chart').getAttribute('data-points')).toBe('3/0');
    await fromHost(page, { type: 'news', runId: 'other-run', metrics: [point(9)], grids: [], status: 'running', step: 0 });
    await fromHost(page, { type: 'news', runId: 'cli-run', metrics: [point(4), point(4, 'test')], grids: [], status: 'finished', step: 4 });
    await expect.poll(() => page.locator('#run-status').textContent()).toBe('finished');
    // The chart draws on the next animation frame, the status line at once.
    await expect.poll(() => page.locator('.chart').getAttribute('data-points')).toBe('4/1');
    await page.close();
  });

  it('shows a run whose dataset images arrive damaged without them, saying so, instead of refusing it', async () => {
    const page = await openPanel('dark');
    const experiment = tinyTraining('wasm', 4).experiment;
    const damaged = { data: { __bytes: '' }, count: 16, height: 10, width: 10, channels: 1 };
    await fromHost(page, { type: 'show', run: runView('damaged-images', experiment, { dataset: damaged }) });
    await expect.poll(() => page.locator('h1').textContent()).toBe('damaged-images');
    const messages = await sent(page);
    expect(messages.filter((m) => m.type === 'rejected')).toEqual([]);
    expect(messages.some((m) => m.type === 'log' && /arrived with 0 bytes for 16×10×10×1/.test(String(m.message)))).toBe(true);
    await expect.poll(() => page.locator('.dataset + .caption').textContent()).toMatch(/did not arrive whole/);
    await page.close();
  });

  it('honours a stop that arrives while the run is still starting', async () => {
    const page = await openPanel('dark');
    const message = tinyTraining('wasm', 5000);
    await fromHost(page, message);
    await fromHost(page, { type: 'stop', runId: message.runId });
    const ended = await waitForMessage(page, 'ended', 120_000);
    expect(ended).toMatchObject({ status: 'stopped' });
    expect(Number(ended.step)).toBeLessThanOrEqual(2);
    await page.close();
  });
});
