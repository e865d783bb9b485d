/**
 * Training on the extension host's machine in a child process (issue 13 §4, "train where the GPU is"): the real
 * `pixel-lab` CLI started as the extension starts it, its run folder found from what it prints, stopped after a
 * step by Stop, and a trainer that cannot start or dies without ending its run recorded as failed with the reason.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunFollower, type RunNews } from '../../src/extension/follow';
import { HostRun, hostCommand } from '../../src/extension/host-run';
import { effectiveStatus, type RunFolder } from '../../src/runs/run-folder';
import { tinyExperimentFile } from '../support/tiny-experiment';
import { TORCH } from './torch-support';

const ROOT = path.join(__dirname, '..', '..');

function experiment(steps: number): string {
  return tinyExperimentFile('remote', steps, { checkpointEvery: 5, backend: 'auto' });
}

type Exit = { code: number | null; status: string; reason?: string };

function start(file: string, command = hostCommand('cli', file, ROOT)) {
  const lines: string[] = [];
  let run: RunFolder | null = null;
  let exited: (result: Exit) => void = () => {};
  const exit = new Promise<Exit>((resolve) => (exited = resolve));
  const host = new HostRun('cli', file, command, { onRun: (r) => (run = r), onLine: (l) => lines.push(l), onExit: (r) => exited(r) });
  return { exit, lines, run: () => run, host };
}

describe('a run trained on this machine by the CLI, as the extension starts it', () => {
  it('finds its run folder, and ends finished', async () => {
    const file = experiment(12);
    const { exit, lines, run } = start(file);
    expect(await exit).toMatchObject({ code: 0, status: 'finished' });
    expect(run()?.info).toMatchObject({ status: 'finished', step: 12, experimentFile: file });
    expect(lines.some((l) => /^backend: wasm/.test(l))).toBe(true);
  });

  it('stops after a step when asked, saved', async () => {
    const file = experiment(100_000);
    const { exit, run, host } = start(file);
    const end = Date.now() + 120_000;
    while (!run() || run()!.metrics().length < 3) {
      if (Date.now() > end) throw new Error('no steps');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    host.stop();
    expect(await exit).toMatchObject({ code: 0, status: 'stopped' });
    expect(run()!.info.step).toBeGreaterThan(0);
  });

  it('a trainer that cannot start, or dies without ending its run, ends failed with the reason', async () => {
    const missing = await start(experiment(5), hostCommand('pytorch', experiment(5), ROOT, 'no-such-python-here')).exit;
    expect(missing).toMatchObject({ status: 'failed' });
    expect(missing.reason).toMatch(/could not start no-such-python-here/);

    const file = experiment(100_000);
    const { exit, run, host } = start(file);
    const end = Date.now() + 120_000;
    while (!run() || run()!.metrics().length < 2) {
      if (Date.now() > end) throw new Error('no steps');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    process.kill(host.pid!, 'SIGKILL');
    const result = await exit;
    expect(result).toMatchObject({ status: 'failed' });
    expect(result.reason).toMatch(/exited with SIGKILL/);
    expect(run()!.info).toMatchObject({ status: 'failed' });
  });
});

describe.skipIf(!TORCH.python)('a run trained on this machine by the PyTorch twin, as the extension starts it', () => {
  it('reads as running while it trains (its owner and heartbeat), is followed from its files, and ends finished', async () => {
    const file = experiment(30);
    const news: RunNews[] = [];
    let follower: RunFollower | null = null;
    let seenRunning = false;
    let exited: (result: Exit) => void = () => {};
    const exit = new Promise<Exit>((resolve) => (exited = resolve));
    new HostRun('pytorch', file, hostCommand('pytorch', file, ROOT, TORCH.python!), {
      onRun: (run) => {
        seenRunning = effectiveStatus(run.info) === 'running' && run.info.owner?.pid !== undefined;
        follower = new RunFollower(run, (n) => news.push(n));
      },
      onLine: () => {},
      onExit: (r) => exited(r),
    });
    expect(await exit).toMatchObject({ code: 0, status: 'finished' });
    expect(seenRunning).toBe(true);
    follower!.read();
    follower!.close();
    expect(news.at(-1)).toMatchObject({ status: 'finished', step: 30 });
    expect(news.flatMap((n) => n.metrics).filter((m) => m.split === 'train').length).toBeGreaterThan(0);
  });
});
