/**
 * The extension host's training controller — the real code — driven through its panel side as the panel would
 * drive it, with faults injected: a run folder deleted mid-run, a message the panel rejects, a panel that never
 * reports a step, a panel closed before the first checkpoint, a window reloaded mid-run, a failure the panel
 * reports. After each, the run is ended on disk with its reason, the user is told (with a way to act), the
 * status bar and progress end, and the next Train works.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { PixelLabPanel } from '../../src/extension/panel';
import { TrainingController } from '../../src/extension/training';
import type { HostMessage, PanelMessage } from '../../src/protocol';
import { RunFolder } from '../../src/runs/run-folder';
import { resetSeen, seen, settings } from '../support/fake-vscode';

/** The panel's side of the contract, played by the test: it records what the host posts and answers as told. */
class ScriptedPanel {
  readonly posted: HostMessage[] = [];
  private readonly listeners = new Set<(m: PanelMessage) => void>();
  private readonly closers = new Set<() => void>();
  async post(m: HostMessage): Promise<void> {
    this.posted.push(m);
  }
  onMessage(l: (m: PanelMessage) => void) {
    this.listeners.add(l);
    return { dispose: () => this.listeners.delete(l) };
  }
  onClose(l: () => void) {
    this.closers.add(l);
    return { dispose: () => this.closers.delete(l) };
  }
  say(m: PanelMessage): void {
    for (const l of this.listeners) l(m);
  }
  close(): void {
    for (const l of this.closers) l();
  }
  trainMessage(): Extract<HostMessage, { type: 'train' }> {
    return this.posted.filter((m) => m.type === 'train').at(-1) as Extract<HostMessage, { type: 'train' }>;
  }
}

let dir: string;
let file: string;
let panel: ScriptedPanel;
let controller: TrainingController;
const log = { lines: [] as string[], appendLine(l: string) { this.lines.push(l); }, show() {} };

beforeEach(() => {
  resetSeen();
  for (const key of Object.keys(settings)) delete settings[key];
  dir = mkdtempSync(path.join(tmpdir(), 'pixel-lab-controller-'));
  file = path.join(dir, 'tiny.pixel.json');
  writeFileSync(file, JSON.stringify({ name: 'tiny', model: { type: 'pixelcnn', layers: 1, hidden: 4 }, data: { dataset: 'mnist', limit: 40, height: 6, width: 6 }, training: { steps: 50, checkpointEvery: 2 } }));
  panel = new ScriptedPanel();
  controller = new TrainingController(panel as unknown as PixelLabPanel, log as never, () => {});
});

const statusBar = () => seen.statusBar[0];
const last = (level: string) => seen.notifications.filter((n) => n.level === level).at(-1);
const runOf = () => RunFolder.open(panel.trainMessage().runId);

/** Start a run and let the panel take it and report `steps` steps, with a checkpoint every 2. */
async function started(steps: number): Promise<RunFolder> {
  await controller.train(file);
  const { runId } = panel.trainMessage();
  panel.say({ type: 'started', runId });
  panel.say({ type: 'backend', runId, info: { name: 'wasm', adapter: 'WebAssembly with SIMD, one thread', fallbacks: [] } });
  for (let step = 1; step <= steps; step++) {
    panel.say({ type: 'step', runId, step, nats: 100 - step, bitsPerDim: 0.2, imagesPerSecond: 50, seconds: step / 10 });
    if (step % 2 === 0) panel.say({ type: 'checkpoint', runId, step, kinds: ['latest'], bytes: new Uint8Array([1, 2, 3, step]) });
  }
  return RunFolder.open(runId);
}

async function expectEnded(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0)); // the progress notification closes as its promise settles
  expect(controller.running).toBeNull();
  expect(statusBar().visible).toBe(false);
  expect(seen.progress.at(-1)?.done ?? true).toBe(true);
}

describe('a run always ends, visibly, and the extension never stays busy', () => {
  it('hands the panel the full image set as plain binary', async () => {
    await controller.train(file);
    const images = panel.trainMessage().images;
    expect(images.data.constructor).toBe(Uint8Array);
    expect(images).toMatchObject({ count: 40, height: 6, width: 6, channels: 1 });
    expect(runOf().info).toMatchObject({ status: 'running', owner: { pid: process.pid } });
  });

  it('run folder deleted while training: the run fails with the reason, the user is told, Train works again', async () => {
    const run = await started(3);
    rmSync(run.dir, { recursive: true });
    panel.say({ type: 'step', runId: run.dir, step: 4, nats: 90, bitsPerDim: 0.2, imagesPerSecond: 50, seconds: 1 });
    await expectEnded();
    expect(last('error')?.message).toMatch(/tiny failed: could not write metrics\.jsonl .*its folder no longer exists \(was the run folder moved or deleted\?\)/);
    expect(last('error')?.message).not.toMatch(/checkpoint .* is kept/);
    expect(last('error')?.message).toMatch(/could not be recorded in run\.json/);
    expect(last('error')?.actions).toEqual(['Show Log', 'Retry on wasm']);
    // The panel is told to drop it, and why.
    expect(panel.posted.at(-1)).toMatchObject({ type: 'abandon', runId: run.dir });
    expect((panel.posted.at(-1) as { reason: string }).reason).toMatch(/could not write metrics\.jsonl/);
    // Not busy: a new run starts.
    await controller.train(file);
    expect(controller.running).not.toBeNull();
    expect(seen.notifications.filter((n) => /is training/.test(n.message))).toEqual([]);
  });

  it('a failed checkpoint write is not only logged: the run fails, the last good checkpoint stays', async () => {
    const run = await started(2);
    // The checkpoint's target is now a folder: the write fails as a full or broken disk would.
    rmSync(run.checkpointPath('latest'));
    mkdirSync(run.checkpointPath('latest'));
    panel.say({ type: 'checkpoint', runId: run.dir, step: 4, kinds: ['latest'], bytes: new Uint8Array([9]) });
    await expectEnded();
    expect(run.info).toMatchObject({ status: 'failed', step: 2 });
    expect(run.info.error).toMatch(/could not write a checkpoint/);
    expect(last('error')?.actions).toContain('Resume');
  });

  it('a train message the panel rejects fails the run with the panel\'s reason', async () => {
    await controller.train(file);
    const { runId } = panel.trainMessage();
    panel.say({ type: 'rejected', messageType: 'train', runId, reason: 'rejected a message from the host: train.images.data must be binary (a Uint8Array)' });
    await expectEnded();
    expect(RunFolder.open(runId).info).toMatchObject({ status: 'failed', error: 'the panel rejected a message from the host: train.images.data must be binary (a Uint8Array)' });
    expect(last('error')?.message).toMatch(/tiny failed: the panel rejected/);
  });

  it('a panel that reports no first step within the bound: failed, with the setting named', async () => {
    settings['pixelLab.firstStepTimeoutSeconds'] = 0.3;
    await controller.train(file);
    const { runId } = panel.trainMessage();
    panel.say({ type: 'started', runId });
    panel.say({ type: 'backend', runId, info: { name: 'cpu', adapter: 'plain JavaScript', fallbacks: [] } });
    await new Promise((resolve) => setTimeout(resolve, 600));
    await expectEnded();
    expect(RunFolder.open(runId).info.error).toMatch(/no training step within 0\.3 s \(setting pixelLab\.firstStepTimeoutSeconds\)/);
  });

  it('a first-step bound too large for a timer does not fail the run at once', async () => {
    settings['pixelLab.firstStepTimeoutSeconds'] = 1e12;
    await controller.train(file);
    panel.say({ type: 'started', runId: panel.trainMessage().runId });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(controller.running).not.toBeNull();
    controller.dispose();
  });

  it('the worker fails: the run fails at its last checkpoint, with Retry on wasm and Resume', async () => {
    const run = await started(5);
    panel.say({ type: 'ended', runId: run.dir, status: 'failed', step: 5, error: 'the GPU device was lost (destroyed)' });
    await expectEnded();
    expect(run.info).toMatchObject({ status: 'failed', step: 4, error: 'the GPU device was lost (destroyed)' });
    expect(run.info.owner).toBeUndefined();
    const shown = last('error')!;
    expect(shown.actions).toEqual(['Show Log', 'Retry on wasm', 'Resume']);
    shown.choose('Retry on wasm');
    await expect.poll(() => panel.trainMessage().runId, { timeout: 30_000 }).not.toBe(run.dir);
    expect(panel.trainMessage()).toMatchObject({ backend: 'wasm' });
    expect(panel.trainMessage().runId).not.toBe(run.dir);
  });

  it('the panel closed before the first checkpoint: stopped, saying nothing can be resumed, no Resume offered', async () => {
    const run = await started(1);
    panel.close();
    await expectEnded();
    expect(run.info).toMatchObject({ status: 'stopped', step: 0 });
    expect(last('warning')?.message).toMatch(/before the first checkpoint was written: nothing of this run can be resumed/);
    expect(last('warning')?.actions).toEqual([]);
  });

  it('the panel closed after a checkpoint: stopped at it, with Resume', async () => {
    const run = await started(5);
    panel.close();
    expect(run.info).toMatchObject({ status: 'stopped', step: 4 });
    expect(last('warning')?.message).toMatch(/last checkpoint \(step 4\) is saved/);
    expect(last('warning')?.actions).toEqual(['Resume']);
  });

  it('the window reloads mid-run: the run is recorded as interrupted at its last checkpoint, never left running', async () => {
    const run = await started(3);
    controller.dispose();
    expect(run.info).toMatchObject({ status: 'interrupted', step: 2 });
    expect(run.info.owner).toBeUndefined();
  });

  it('Stop says "stopping…" until the panel reports the end', async () => {
    const run = await started(3);
    await controller.stop();
    expect(statusBar().text).toMatch(/stopping after step 4/);
    expect(panel.posted.at(-1)).toEqual({ type: 'stop', runId: run.dir });
    panel.say({ type: 'ended', runId: run.dir, status: 'stopped', step: 3 });
    await expectEnded();
    expect(run.info).toMatchObject({ status: 'stopped', step: 3 });
  });

  it('Sample from Run sends one request that carries the run and its checkpoint', async () => {
    const run = await started(2);
    panel.say({ type: 'ended', runId: run.dir, status: 'finished', step: 2 });
    await controller.sample(run.dir);
    const sample = panel.posted.find((m) => m.type === 'sample') as Extract<HostMessage, { type: 'sample' }>;
    expect(panel.posted.filter((m) => m.type === 'show')).toEqual([]);
    expect(sample.run.runId).toBe(run.dir);
    expect([...sample.run.checkpoint!]).toEqual([1, 2, 3, 2]);
    expect(existsSync(path.join(run.dir, 'metrics.jsonl'))).toBe(true);
    expect(readFileSync(path.join(run.dir, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });
});
