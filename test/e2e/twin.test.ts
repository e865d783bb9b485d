/**
 * A run trained by the PyTorch twin opens in Pixel Lab like one of its own (issue 13 §4), in real VS Code:
 * *Train Experiment On…* → "On this machine with PyTorch" trains it with the twin in a child process; the panel
 * follows it to its end; then its curves, sample grids and the dependency mask on hover work from its checkpoint.
 * Skipped with a message where no Python has torch (CI installs Debian's python3-torch).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TORCH } from '../unit/torch-support';
import { tinyExperiment, VsCode } from './vscode';

let vs: VsCode;

describe.skipIf(!TORCH.python)('a run trained by the PyTorch twin', () => {
  beforeAll(async () => {
    vs = await VsCode.start({
      prefix: 'twin',
      files: {
        'twin.pixel.json': tinyExperiment('twin', { steps: 60 }),
        // The Python with torch (on this machine python3 may be another one).
        '.vscode/settings.json': `${JSON.stringify({ 'pixelLab.python': TORCH.python }, null, 2)}\n`,
      },
    });
    await vs.openWindow();
  }, 600_000);

  afterAll(async () => {
    await vs?.close();
  });

  it('trains on this machine with PyTorch, is followed to its end, and opens with curves, samples and hover masks', async () => {
    await vs.markNotes();
    await vs.command('Pixel Lab: Train Experiment On…');
    await vs.pick('twin.pixel.json');
    await vs.pick('On this machine with PyTorch');
    await vs.note(/twin finished on this machine \(PyTorch\)/, 240_000);
    const run = vs.runs().find((r) => r.backend === 'pytorch')!;
    expect(run).toMatchObject({ status: 'finished', step: 60 });
    // Shown from the tree, as any run: its curves, its grids, and its model in the inspector.
    await vs.clickTreeRow(path.basename(run.dir));
    const panel = await vs.panel();
    await vs.until('its curves', async () => ((await panel.locator('.chart').getAttribute('data-points')) ?? '').startsWith('60/'));
    await vs.until('its samples', async () => /^Samples at step 60\.$/.test((await panel.locator('.grid + .slider + .caption, .grid ~ .caption').first().textContent()) ?? ''));
    expect(await vs.hoverSample(4, 3)).toBe('0');
    await vs.screenshot('twin-run-hover');
  });
});
