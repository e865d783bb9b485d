/**
 * A run training elsewhere — here a real `pixel-lab train` child process — followed from its files, as the panel
 * follows a run started in a terminal or by the PyTorch twin: its new curve points and sample grids arrive as they
 * are written, then its end; a trainer killed outright is noticed too.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunFollower, type RunNews } from '../../src/extension/follow';
import { RunFolder } from '../../src/runs/run-folder';
import { tinyExperimentFile } from '../support/tiny-experiment';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.cjs');

async function until<T>(what: string, probe: () => T | null | undefined | false, timeout = 120_000): Promise<T> {
  const end = Date.now() + timeout;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A CLI training run in its own folder; resolves once its run folder exists. */
async function training(steps: number): Promise<{ child: ReturnType<typeof spawn>; run: RunFolder; exited: Promise<number | null> }> {
  const file = tinyExperimentFile('follow', steps);
  const dir = path.dirname(file);

  const child = spawn(process.execPath, [CLI, 'train', file], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const parent = path.join(dir, 'runs', 'follow');
  const runDir = await until('the run folder', () => existsSync(parent) && readdirSync(parent)[0]);
  return { child, run: RunFolder.open(path.join(parent, runDir)), exited };
}

describe('following a run that trains elsewhere', () => {
  it('gets its new curve points and grids as they are written, then its end', async () => {
    const { run, exited } = await training(60);
    const news: RunNews[] = [];
    const follower = new RunFollower(run, (n) => news.push(n));
    expect(await exited).toBe(0);
    await until('the end of the run', () => news.some((n) => n.status === 'finished'));
    follower.close();
    const steps = news.flatMap((n) => n.metrics.filter((m) => m.split === 'train').map((m) => m.step));
    // Every point once, in order, up to the last step; test points and grids as the experiment writes them.
    expect(steps.length).toBeGreaterThan(0);
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, k) => 60 - steps.length + 1 + k));
    expect(news.flatMap((n) => n.metrics.filter((m) => m.split === 'test').map((m) => m.step)).at(-1)).toBe(60);
    expect(news.flatMap((n) => n.grids.map((g) => g.step)).at(-1)).toBe(60);
    expect([...news.flatMap((n) => n.grids)[0].png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(news.at(-1)).toMatchObject({ status: 'finished', step: 60 });
  });

  it('notices a trainer killed outright (it writes nothing more) as interrupted', async () => {
    const { child, run } = await training(100_000);
    const news: RunNews[] = [];
    const follower = new RunFollower(run, (n) => news.push(n));
    await until('a few steps', () => news.some((n) => n.metrics.length > 0));
    child.kill('SIGKILL');
    await until('the run read as interrupted', () => news.some((n) => n.status === 'interrupted'), 60_000);
    follower.close();
  });
});
