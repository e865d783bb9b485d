/**
 * The tiny, fast journey in real VS Code (code-server, driven in headless Chromium with WebGPU on): open an
 * experiment and see the schema flag a wrong value, fix it; train from the command palette; watch the panel name
 * its backend, the curves and samples arrive and the status bar count steps; hover a sample pixel; stop; find the
 * run on disk; reload the window and find the panel restored; resume. Screenshots of every step go to
 * test-output/e2e-journey-*.png. (8×8 images, 200 of them: it proves the wiring in seconds; real-journey.test.ts
 * proves the real sizes.)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyExperiment, VsCode } from './vscode';

let vs: VsCode;
/** Steps enough that the run is still training when the test stops it. */
const LONG = 20_000;
const runsOf = () => vs.runs().filter((r) => r.dir.includes(`${path.sep}tiny${path.sep}`) || r.experimentFile?.endsWith('tiny.pixel.json'));

beforeAll(async () => {
  vs = await VsCode.start({ prefix: 'journey', files: { 'tiny.pixel.json': tinyExperiment('tiny', { hidden: 'eight', steps: LONG }) } });
}, 600_000);

afterAll(async () => {
  await vs?.close();
});

describe('Pixel Lab in VS Code (tiny journey)', () => {
  it('flags a wrong value in an experiment, then takes the fix', async () => {
    const { page } = vs;
    await vs.openWindow();
    await vs.openFile('tiny.pixel.json');
    // No "$schema" in the file: the diagnostic comes from the schema the extension contributes.
    const squiggles = page.locator('.monaco-editor .squiggly-warning, .monaco-editor .squiggly-error');
    await vs.until('the schema diagnostic', async () => (await squiggles.count()) > 0);
    await vs.screenshot('schema-error');
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
    await vs.until('the diagnostic to clear', async () => (await squiggles.count()) === 0);
    await vs.until('the fix saved', () => readFileSync(path.join(vs.workspace, 'tiny.pixel.json'), 'utf8') === tinyExperiment('tiny', { steps: LONG }));
  });

  it('trains from the command palette: the panel names its backend, draws curves and samples; the status bar counts', async () => {
    await vs.command('Pixel Lab: Train Experiment');
    const panel = await vs.panel();
    const header = await vs.until('the backend', async () => {
      const h = await vs.header(panel);
      return /^\w+ · /.test(h.backend) ? h : null; // before one is chosen: "no backend yet", "choosing a backend…"
    }, 120_000);
    expect(header.backend).toMatch(/^(webgpu|webgl|wasm|cpu) · /);
    await vs.until('the status bar step', async () => /Pixel Lab: .*step \d+/.test((await vs.pixelLabStatus()) ?? ''), 120_000);
    await vs.until('curve points', async () => {
      const points = await panel.locator('.chart').getAttribute('data-points');
      return points && Number(points.split('/')[0]) >= 2 && Number(points.split('/')[1]) >= 1;
    }, 120_000);
    await vs.until('a sample grid', async () => /Samples at step \d+/.test((await panel.locator('.caption').first().textContent()) ?? ''), 120_000);
    await vs.screenshot('training');

    expect(await vs.hoverSample(4, 4)).toBe('0'); // the mask shows no dependence on a later pixel
    await vs.screenshot('hover');
  });

  it('stops, leaving the run on disk', async () => {
    await vs.command('Pixel Lab: Stop Training');
    const [run] = await vs.until('the run to stop', async () => {
      const runs = runsOf();
      return runs.length === 1 && runs[0].status === 'stopped' ? runs : null;
    });
    expect(run.step).toBeGreaterThanOrEqual(4);
    expect(vs.metricsLines(run.dir)).toBeGreaterThanOrEqual(run.step);
    expect(existsSync(path.join(run.dir, 'checkpoints', 'latest.ckpt'))).toBe(true);
    expect(readdirSync(path.join(run.dir, 'samples')).filter((f) => f.endsWith('.png')).length).toBeGreaterThanOrEqual(1);
    await vs.screenshot('stopped');
  });

  it('restores the panel after a reload, and resumes the run from its checkpoint', async () => {
    const [run] = runsOf();
    const stoppedAt = run.step;
    await vs.reload();
    const panel = await vs.panel(90_000);
    await vs.until('the restored run', async () => (await vs.header(panel)).title.startsWith('tiny · '));
    await vs.until('its curves', async () => Number(((await panel.locator('.chart').getAttribute('data-points')) ?? '0').split('/')[0]) >= stoppedAt);
    await vs.screenshot('restored');
    await vs.command('Pixel Lab: Resume Run');
    await vs.pick('tiny');
    await vs.until('training to continue', () => vs.run(run.dir).status === 'running' && vs.run(run.dir).step > stoppedAt, 120_000);
    // The curves carry on from where they were, not from an empty chart.
    const panelAgain = await vs.panel();
    expect(Number(((await panelAgain.locator('.chart').getAttribute('data-points')) ?? '0').split('/')[0])).toBeGreaterThan(stoppedAt);
    await vs.screenshot('resumed');
    await vs.command('Pixel Lab: Stop Training');
    await vs.until('the resumed run to stop', () => vs.run(run.dir).status === 'stopped');
  });
});
