/**
 * The user's journey in real VS Code (code-server, driven in headless Chromium with WebGPU on): open an
 * experiment and see the schema flag a wrong value, fix it; train from the command palette; watch the panel name
 * its backend, the curves and samples arrive and the status bar count steps; hover a sample pixel; stop; find the
 * run on disk; reload the window and find the panel restored; resume. Screenshots of every step go to
 * test-output/e2e-*.png.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, chromium, type Frame, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CodeServer, startCodeServer } from './code-server';

const ROOT = path.join(__dirname, '..', '..');
const OUTPUT = path.join(ROOT, 'test-output');
const VSIX = path.join(ROOT, 'dist', 'pixel-lab.vsix');

const experiment = (hidden: number | string) =>
  `${JSON.stringify(
    {
      name: 'tiny',
      model: { type: 'pixelcnn', layers: 1, hidden, firstKernel: 3, kernel: 3, outputHidden: 8 },
      data: { dataset: 'mnist', limit: 200, height: 8, width: 8, levels: 2, binarize: 'fixed', testFraction: 0.2 },
      training: { steps: 400, batchSize: 8, evalEvery: 4, evalImages: 16, sampleEvery: 4, checkpointEvery: 4, backend: 'auto' },
      sampling: { count: 4 },
    },
    null,
    2,
  )}\n`;

let server: CodeServer;
let browser: Browser;
let page: Page;
let workspace: string;
let shot = 0;

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(OUTPUT, `e2e-${String(++shot).padStart(2, '0')}-${name}.png`) });
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeout = 60_000): Promise<T> {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > end) {
      await screenshot(`timeout-${what.replace(/\W+/g, '-')}`);
      throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    }
    await page.waitForTimeout(300);
  }
}

/** Run a command from the palette; it shows up a few seconds after the window loads, so retry until it does. */
async function command(title: string): Promise<void> {
  await until(`the command "${title}"`, async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    await page.locator('.quick-input-box input').waitFor({ timeout: 5000 });
    await page.keyboard.type(title);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    await row.waitFor({ timeout: 3000 });
    await page.keyboard.press('Enter');
    return true;
  });
}

async function openWindow(): Promise<void> {
  await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
}

/** The panel's page: the inner frame of the webview that holds the app. */
async function panelFrame(): Promise<Frame> {
  return until('the Pixel Lab panel', async () => {
    for (const frame of page.frames()) {
      if (await frame.locator('#app .bar').count().catch(() => 0)) return frame;
    }
    return null;
  });
}

function runFolders(): string[] {
  const parent = path.join(workspace, 'runs', 'tiny');
  return existsSync(parent) ? readdirSync(parent).map((d) => path.join(parent, d)) : [];
}

const runJson = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')) as { status: string; step: number };

beforeAll(async () => {
  if (!existsSync(VSIX)) throw new Error(`${VSIX} is missing: run npm run package`);
  mkdirSync(OUTPUT, { recursive: true });
  for (const old of readdirSync(OUTPUT).filter((f) => f.startsWith('e2e-'))) rmSync(path.join(OUTPUT, old));
  workspace = mkdtempSync(path.join(tmpdir(), 'pixel-lab-workspace-'));
  writeFileSync(path.join(workspace, 'tiny.pixel.json'), experiment('eight'));
  server = await startCodeServer(VSIX, workspace);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--enable-unsafe-webgpu'],
  });
  page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('Pixel Lab in VS Code', () => {
  it('flags a wrong value in an experiment, then takes the fix', async () => {
    await openWindow();
    await until('the experiment open in an editor', async () => {
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+P');
      await page.locator('.quick-input-box input').waitFor({ timeout: 5000 });
      await page.keyboard.type('tiny.pixel.json');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'tiny.pixel.json' }).first().waitFor({ timeout: 5000 });
      await page.keyboard.press('Enter');
      await page.locator('.tab.active', { hasText: 'tiny.pixel.json' }).waitFor({ timeout: 5000 });
      return true;
    });
    // No "$schema" in the file: the diagnostic comes from the schema the extension contributes (a warning, as VS
    // Code shows schema violations).
    const squiggles = page.locator('.monaco-editor .squiggly-warning, .monaco-editor .squiggly-error');
    await until('the schema diagnostic', async () => (await squiggles.count()) > 0);
    await screenshot('schema-error');
    // Fix it in the editor, as a user would: line 6 is `"hidden": "eight",`.
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+G');
    await page.keyboard.type('6');
    await page.keyboard.press('Enter');
    await page.keyboard.press('End');
    await page.keyboard.press('Shift+Home');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('"hidden": 8,');
    await page.keyboard.press('Control+S');
    await until('the diagnostic to clear', async () => (await squiggles.count()) === 0);
    await until('the fix saved', async () => readFileSync(path.join(workspace, 'tiny.pixel.json'), 'utf8') === experiment(8));
  });

  it('trains from the command palette: the panel names its backend, draws curves and samples; the status bar counts', async () => {
    await command('Pixel Lab: Train Experiment');
    const panel = await panelFrame();
    const backend = await until('the backend', async () => {
      const text = await panel.locator('.backend').textContent();
      return text && text !== 'no backend yet' ? text : null;
    });
    expect(backend).toMatch(/^(webgpu|webgl|wasm|cpu) · /);
    await until('the status bar step', async () => (await page.locator('.statusbar-item', { hasText: 'Pixel Lab: step' }).count()) > 0, 120_000);
    await until('curve points', async () => {
      const points = await panel.locator('.chart').getAttribute('data-points');
      return points && Number(points.split('/')[0]) >= 2 && Number(points.split('/')[1]) >= 1;
    }, 120_000);
    await until('a sample grid', async () => /Samples at step \d+/.test((await panel.locator('.caption').first().textContent()) ?? ''), 120_000);
    await screenshot('training');

    const canvas = panel.locator('.grid canvas').first();
    const box = (await canvas.boundingBox())!;
    const width = await canvas.evaluate((c: HTMLCanvasElement) => c.width);
    const unit = box.width / width;
    await page.mouse.move(box.x + (1 + 4.5) * unit, box.y + (1 + 4.5) * unit); // sample 1, pixel (4, 4)
    const caption = panel.locator('.inspector-pair p').first();
    await until('the mask', async () => ((await caption.textContent()) ?? '').includes('x[4,4] of sample 1 depends on'));
    expect(await caption.getAttribute('data-leaks')).toBe('0');
    await screenshot('hover');
  });

  it('stops, leaving the run on disk', async () => {
    await command('Pixel Lab: Stop Training');
    const [run] = await until('the run to stop', async () => {
      const runs = runFolders();
      return runs.length === 1 && runJson(runs[0]).status === 'stopped' ? runs : null;
    });
    const info = runJson(run);
    expect(info.step).toBeGreaterThanOrEqual(4);
    expect(readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(info.step);
    expect(existsSync(path.join(run, 'checkpoints', 'latest.ckpt'))).toBe(true);
    expect(readdirSync(path.join(run, 'samples')).filter((f) => f.endsWith('.png')).length).toBeGreaterThanOrEqual(1);
    await screenshot('stopped');
  });

  it('restores the panel after a reload, and resumes the run from its checkpoint', async () => {
    const [run] = runFolders();
    const stoppedAt = runJson(run).step;
    await command('Developer: Reload Window');
    await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    const panel = await panelFrame();
    await until('the restored run', async () => ((await panel.locator('h1').textContent()) ?? '').startsWith('tiny · '));
    await until('its curves', async () => Number(((await panel.locator('.chart').getAttribute('data-points')) ?? '0').split('/')[0]) >= stoppedAt);
    await screenshot('restored');
    await command('Pixel Lab: Resume Run');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'tiny' }).first().waitFor();
    await page.keyboard.press('Enter');
    await until('training to continue', async () => runJson(run).status === 'running' && runJson(run).step > stoppedAt, 120_000);
    // The curves carry on from where they were, not from an empty chart.
    const panelAgain = await panelFrame();
    expect(Number(((await panelAgain.locator('.chart').getAttribute('data-points')) ?? '0').split('/')[0])).toBeGreaterThan(stoppedAt);
    await screenshot('resumed');
    await command('Pixel Lab: Stop Training');
    await until('the resumed run to stop', async () => runJson(run).status === 'stopped');
  });
});
