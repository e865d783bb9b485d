/**
 * A first visit, in real VS Code: an empty workspace. Open Panel and Compare Runs with no runs say what to do (the
 * panel's empty state, looked at in its screenshot); New Experiment from a shipped example writes a file named
 * after itself, with no "$schema" line pointing at a file the workspace does not have, and VS Code reports no
 * problem in it (issue 9 §4, issue 11 #4).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, VsCode } from './vscode';

let vs: VsCode;

beforeAll(async () => {
  vs = await VsCode.start({ prefix: 'new', files: { 'README.md': '# an empty project\n' } });
  await vs.openWindow();
}, 600_000);

afterAll(async () => {
  await vs?.close();
});

describe('a first visit', () => {
  it('Open Panel and Compare Runs with no runs say what to do', async () => {
    await vs.markNotes();
    await vs.command('Pixel Lab: Compare Runs');
    await vs.note(/No runs to compare yet: train an experiment first/);
    await vs.command('Pixel Lab: Open Panel');
    const panel = await vs.panel();
    await vs.until('the empty state', async () => panel.locator('.empty-state').isVisible());
    expect(await panel.locator('.empty-state').textContent()).toMatch(/No run on view\. Train an experiment/);
    // No cards without a run: no blank chart, no "output R" picker with no model.
    expect(await panel.locator('.layout').isVisible()).toBe(false);
    await vs.screenshot('empty-panel');
  });

  it('New Experiment writes a file named after itself that VS Code finds no problem in', async () => {
    await vs.command('Pixel Lab: New Experiment');
    await vs.pick('mnist-quickstart');
    await vs.input('my-first');
    const file = path.join(vs.workspace, 'my-first.pixel.json');
    await vs.until('the new experiment file', async () => existsSync(file));
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('$schema');
    expect(JSON.parse(text)).toMatchObject({ name: 'my-first', model: { type: 'pixelcnn' } });
    await vs.until('the new file in an editor', async () => vs.page.locator('.tab.active', { hasText: 'my-first.pixel.json' }).isVisible());
    // The schema the extension contributes is applied (hover documentation comes from it), and nothing is flagged.
    await sleep(4000);
    const problems = vs.page.locator('.monaco-editor .squiggly-warning, .monaco-editor .squiggly-error, .monaco-editor .squiggly-info');
    expect(await problems.count()).toBe(0);
    const counts = (await vs.statusBar()).find((t) => /^\d+\s+\d+/.test(t));
    if (counts) expect(counts.replace(/\s+/g, ' ')).toMatch(/^0 0/);
    await vs.screenshot('new-experiment');
    // It is listed in the Pixel Lab view under its own name.
    await vs.showTree();
    await vs.until('the experiment in the tree', async () => (await vs.tree()).some((r) => r.label === 'my-first'));
  });
});
