/**
 * Faults a user can cause from the UI (issue 9 §2, issue 10 #4), in real VS Code, each checked by what the user
 * sees (notification, tree row, status bar, panel header) and what is on disk:
 *
 * - the run folder deleted while training: an error notification, the run ends, and a second Train works (it is
 *   not refused as busy);
 * - the panel closed mid-run: the run is `stopped`, with a Resume offer that resumes it;
 * - Reload Window mid-run: the run shows as **interrupted** in the tree, with Resume and Delete in its context menu,
 *   and run.json is not left `running` with no trainer; Resume from the menu continues it;
 * - a run with more sample grids than VS Code's webview messaging can carry as separate buffers (253): shown
 *   whole — every grid on the step slider, its model loaded from the checkpoint;
 * - an experiment whose model cannot be built (an RGB IDX file with `hidden` 8, not a multiple of 3): Train is
 *   refused with `file:line:col`, and no run is left `running`.
 */
import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeIdx } from '../../src/data/idx';
import { stopAnyRun, stopRun, trainUntilFirstStep, untilStep } from './training';
import { badgeStep, tinyExperiment, VsCode } from './vscode';

let vs: VsCode;
/** Steps enough that a run is still training whenever a test acts on it (each test stops its runs). */
const LONG = 20_000;

const rgbImages = () => {
  const data = new Uint8Array(40 * 8 * 8 * 3);
  for (let k = 0; k < data.length; k++) data[k] = (k * 37) % 256;
  return encodeIdx([40, 8, 8, 3], data);
};
const rgbExperiment = `${JSON.stringify(
  {
    name: 'rgb',
    model: { type: 'pixelcnn', layers: 1, hidden: 8, firstKernel: 3, kernel: 3, outputHidden: 8 },
    data: { dataset: 'idx', path: 'rgb-images.idx.gz', levels: 4 },
    training: { steps: 20, batchSize: 4, evalEvery: 4, evalImages: 8, sampleEvery: 4, checkpointEvery: 4 },
    sampling: { count: 4 },
  },
  null,
  2,
)}\n`;

beforeAll(async () => {
  vs = await VsCode.start({
    prefix: 'faults',
    files: {
      'fault-delete.pixel.json': tinyExperiment('fault-delete', { steps: LONG }),
      'fault-close.pixel.json': tinyExperiment('fault-close', { steps: LONG }),
      'fault-reload.pixel.json': tinyExperiment('fault-reload', { steps: LONG }),
      'fault-grids.pixel.json': tinyExperiment('fault-grids', { steps: LONG }),
      'rgb.pixel.json': rgbExperiment,
      'rgb-images.idx.gz': gzipSync(rgbImages()),
    },
  });
  await vs.openWindow();
}, 600_000);

afterEach(async () => {
  await stopAnyRun(vs);
  await vs.clearNotifications();
}, 300_000);

afterAll(async () => {
  await vs?.close();
});

const runsOf = (name: string) => vs.runs().filter((r) => r.dir.includes(`${path.sep}${name}${path.sep}`) || r.experimentFile?.endsWith(`${name}.pixel.json`));

describe('faults driven from the UI', () => {
  it('the run folder deleted while training: an error notification, the run ends, and Train works again', async () => {
    const first = await trainUntilFirstStep(vs, 'fault-delete.pixel.json');
    await untilStep(vs, first.firstStep + 2);
    await vs.markNotes();
    // Retried: the trainer may be writing a checkpoint into it meanwhile (ENOTEMPTY), as a user deleting it would race too.
    rmSync(first.run.dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    const note = await vs.note(/./, 120_000, 'error');
    console.log(`after deleting the run folder the user read: ${note.text}`);
    await vs.screenshot('deleted-run-folder');
    // The run ends: no step counter in the status bar, the panel no longer training, nothing "running" on disk.
    await vs.until('the status bar item to go', async () => !(await vs.pixelLabStatus()), 60_000);
    await vs.until('the panel to stop training', async () => {
      const h = await vs.header();
      const s1 = badgeStep(h.status);
      await new Promise((r) => setTimeout(r, 3000));
      const s2 = badgeStep((await vs.header()).status);
      return s1 === null || s1 === s2;
    }, 60_000);
    expect(vs.runs().filter((r) => r.status === 'running')).toEqual([]);
    // The panel's header says the run failed, and why (not just "stopped").
    const header = await vs.header();
    expect(`${header.status} ${header.error}`).toMatch(/fail/i);

    // Not refused as busy: a second Train starts a new run, which trains and stops normally.
    await vs.markNotes();
    const second = await trainUntilFirstStep(vs, 'fault-delete.pixel.json');
    expect((await vs.notes()).filter((n) => /stop it first|is training/.test(n.text))).toEqual([]);
    expect(second.run.dir).not.toBe(first.run.dir);
    expect((await stopRun(vs, second.run.dir)).status).toBe('stopped');
  }, 600_000);

  it('the panel closed mid-run: the run is stopped, and the Resume offer resumes it', async () => {
    const started = await trainUntilFirstStep(vs, 'fault-close.pixel.json');
    await untilStep(vs, started.firstStep + 4);
    await vs.markNotes();
    await vs.closePanel();
    const info = await vs.until('the run to be stopped on disk', () => {
      const r = vs.run(started.run.dir);
      return r.status !== 'running' ? r : null;
    }, 60_000);
    expect(info.status).toBe('stopped');
    const offer = await vs.note(/closed/i, 60_000);
    expect(offer.buttons).toContain('Resume');
    expect(await vs.pixelLabStatus()).toBeNull();
    await vs.screenshot('panel-closed');

    await vs.clickNotification(/closed/i, 'Resume');
    await vs.until('the run to train again', () => vs.run(started.run.dir).status === 'running' && vs.run(started.run.dir).step >= info.step, 120_000);
    await untilStep(vs, info.step + 1);
    await vs.screenshot('resumed-after-close');
    expect((await stopRun(vs, started.run.dir)).status).toBe('stopped');
  }, 600_000);

  it('Reload Window mid-run: the run shows as interrupted (Resume, Delete), run.json is not left running, Resume continues it', async () => {
    const started = await trainUntilFirstStep(vs, 'fault-reload.pixel.json');
    await untilStep(vs, started.firstStep + 4);
    await vs.reload();
    const id = started.run.id;
    const row = await vs.until(`the run ${id} in the tree as interrupted`, async () => {
      const runs = (await vs.treeRuns()).get('fault-reload') ?? [];
      return runs.find((r) => r.label === id && /^interrupted/.test(r.description));
    }, 120_000);
    console.log(`after the reload the tree reads: ${row.label} — ${row.description}`);
    await vs.screenshot('interrupted-in-tree');
    await vs.until('run.json not left running', () => vs.run(started.run.dir).status !== 'running', 60_000);
    const menu = await vs.contextMenu(id);
    await vs.page.keyboard.press('Escape');
    expect(menu).toContain('Resume Run');
    expect(menu).toContain('Delete Run');

    const before = vs.run(started.run.dir).step;
    await vs.contextMenuChoose(id, 'Resume Run');
    await vs.until('the run to train again', () => vs.run(started.run.dir).status === 'running', 120_000);
    await untilStep(vs, before + 1);
    expect((await stopRun(vs, started.run.dir)).status).toBe('stopped');
  }, 600_000);

  it('a run with 300 sample grids is shown whole: every grid on the slider, its model loaded', async () => {
    const started = await trainUntilFirstStep(vs, 'fault-grids.pixel.json');
    await untilStep(vs, started.firstStep + 8);
    const stopped = await stopRun(vs, started.run.dir);
    expect(stopped.status).toBe('stopped');
    const samples = path.join(started.run.dir, 'samples');
    const grids = readdirSync(samples).filter((f) => f.endsWith('.png'));
    expect(grids.length).toBeGreaterThan(0);
    // More grids than one webview message can carry as separate buffers (VS Code counts them in one byte).
    for (let k = 0; k < 300; k++) copyFileSync(path.join(samples, grids[0]), path.join(samples, `step-${String(100_000 + k).padStart(6, '0')}.png`));
    const total = grids.length + 300;
    await vs.clickTreeRow(started.run.id);
    const panel = await vs.panel();
    const max = await vs.until(`the step slider over ${total} grids`, async () => {
      const value = await panel.locator('label.slider', { hasText: /^step/ }).locator('input').getAttribute('max').catch(() => null);
      return value === String(total - 1) ? value : null;
    }, 120_000);
    expect(Number(max) + 1).toBe(total);
    // The checkpoint came whole too: the model is loaded from it.
    await vs.until('the model loaded from the checkpoint', async () => /parameters/.test((await panel.locator('.kernels + .caption').textContent().catch(() => '')) ?? ''), 120_000);
    const header = await vs.header(panel);
    expect(header.error).toBe('');
    await vs.screenshot('three-hundred-grids');
  }, 600_000);

  it('a model that cannot be built: Train is refused with file:line:col, and no run is left running', async () => {
    await vs.openFile('rgb.pixel.json');
    await vs.markNotes();
    await vs.command('Pixel Lab: Train Experiment');
    const note = await vs.note(/^(?!Pixel Lab: training)/, 120_000);
    console.log(`training an unbuildable model, the user read: ${note.text}`);
    expect(note.severity).toBe('error');
    await vs.screenshot('unbuildable-model');
    expect(note.text).toMatch(/rgb\.pixel\.json:\d+:\d+/);
    // Give a wrongly started run the time to show itself, then: nothing of it is running.
    await new Promise((r) => setTimeout(r, 10_000));
    expect(runsOf('rgb').filter((r) => r.status === 'running')).toEqual([]);
    expect(await vs.pixelLabStatus()).toBeNull();
  }, 300_000);
});
