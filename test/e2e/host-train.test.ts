/**
 * Train where the GPU is (issue 13 §4), in real VS Code: *Train Experiment On…* → "On this machine with
 * pixel-lab" trains in a child process of the extension host (the CLI carried in the extension's package), the panel
 * follows the run from its files (its header counts the steps "elsewhere"), the tree shows it running, *Stop
 * Training* stops it after a step, saved; then *Export for PyTorch* writes the folder for a cluster.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyExperiment, VsCode } from './vscode';

let vs: VsCode;

beforeAll(async () => {
  vs = await VsCode.start({ prefix: 'host', files: { 'remote.pixel.json': tinyExperiment('remote', { steps: 50_000 }) } });
  await vs.openWindow();
}, 600_000);

afterAll(async () => {
  await vs?.close();
});

describe('a run trained on the extension host\'s machine', () => {
  it('trains in a child process, followed in the panel; Stop stops it after a step, saved', async () => {
    await vs.markNotes();
    await vs.command('Pixel Lab: Train Experiment On…');
    await vs.pick('remote.pixel.json');
    await vs.pick('On this machine with pixel-lab');
    const run = await vs.until('its run folder', () => vs.runs().find((r) => r.status === 'running' && r.owner), 120_000);
    const panel = await vs.panel();
    await vs.until('the panel following its steps', async () => /^step \d+\/50000 \(elsewhere\)$/.test((await vs.header(panel)).status), 120_000);
    await vs.until('the chart growing', async () => Number(((await panel.locator('.chart').getAttribute('data-points')) ?? '0/0').split('/')[0]) > 2, 60_000);
    await vs.screenshot('following');
    expect(run.owner!.pid).not.toBe(process.pid);
    await vs.command('Pixel Lab: Stop Training');
    await vs.until('the run stopped', () => vs.run(run.dir).status === 'stopped', 120_000);
    await vs.note(/remote stopped on this machine \(pixel-lab\)/);
    await vs.until('the panel showing it stopped', async () => (await vs.header(panel)).status === 'stopped', 30_000);
    expect(vs.run(run.dir).step).toBeGreaterThan(0);
    expect(existsSync(path.join(run.dir, 'checkpoints', 'latest.ckpt'))).toBe(true);
    await vs.screenshot('stopped');
  });
});
