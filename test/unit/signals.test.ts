/**
 * `pixel-lab train` as a real child process, sent real signals: Ctrl+C and SIGTERM stop it after a step with a
 * checkpoint; a second signal quits at once; kill -9 leaves a run that reads as interrupted and resumes; runs
 * started at once get their own folders; a full disk or a deleted run folder ends the command with one line.
 * Bounds below are generous timeouts (the machine is shared), never timing assertions.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { effectiveStatus, type MetricRecord, type RunInfo } from '../../src/runs/run-folder';
import { decodeCheckpoint } from '../../src/train/checkpoint';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.cjs');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'tiny-mnist.pixel.json');
const MANY = '1000000'; // steps: a run that would go on for hours
const BOUND = 120_000;
const tmp = () => mkdtempSync(path.join(tmpdir(), 'pixel-lab-signals-'));

interface Child {
  readonly child: ChildProcess;
  readonly out: () => string;
  readonly err: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(command: string, args: string[]): Child {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, out: () => out, err: () => err, exited };
}

const pixelLab = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: BOUND });

async function waitFor<T>(what: string, probe: () => T | null | undefined | false, ms = BOUND): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The only run folder in `out`, once it exists. */
const runIn = (out: string) => (existsSync(out) ? readdirSync(out).map((d) => path.join(out, d)).find((d) => existsSync(path.join(d, 'run.json'))) : undefined);
const info = (run: string) => JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8')) as RunInfo;
const metrics = (run: string): MetricRecord[] => {
  const file = path.join(run, 'metrics.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).flatMap((l) => { try { return [JSON.parse(l)]; } catch { return []; } }) : [];
};
const trainSteps = (run: string) => metrics(run).filter((m) => m.split === 'train').map((m) => m.step);
const latestStep = (run: string) => decodeCheckpoint(new Uint8Array(readFileSync(path.join(run, 'checkpoints', 'latest.ckpt')))).state.step;
const tempFiles = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.includes('.tmp-'));

/** Start a long training run and wait until it has taken `steps` steps (and so has a checkpoint, every 4). */
async function trainingChild(out: string, steps = 10): Promise<Child & { run: string }> {
  const c = start(process.execPath, [CLI, 'train', FIXTURE, '--steps', MANY, '--out', out]);
  const run = await waitFor(`${steps} steps`, () => {
    const r = runIn(out);
    return r && trainSteps(r).length >= steps && existsSync(path.join(r, 'checkpoints', 'latest.ckpt')) ? r : null;
  });
  return { ...c, run };
}

/** What a run stopped by a signal must show: stopped at step S, a checkpoint at S, metrics 1..S. */
function expectStoppedCleanly(run: string): number {
  const { status, step } = info(run);
  expect(status).toBe('stopped');
  expect(step).toBeLessThan(Number(MANY));
  expect(latestStep(run)).toBe(step);
  expect(trainSteps(run)).toEqual(Array.from({ length: step }, (_, k) => k + 1));
  expect(tempFiles(run)).toEqual([]);
  return step;
}

describe('pixel-lab train stops on a signal', () => {
  it('is built', () => expect(existsSync(CLI), 'run npm run build first').toBe(true));

  it.each([['SIGINT'], ['SIGTERM']] as const)('on %s: finishes the step, writes a checkpoint, marks the run stopped, exits 0', async (signal) => {
    const c = await trainingChild(tmp());
    c.child.kill(signal);
    const { code } = await c.exited;
    expect(c.err()).toContain('stopping after this step…');
    expect(code).toBe(0);
    const step = expectStoppedCleanly(c.run);
    expect(c.out()).toContain(`stopped at step ${step}`);
    expect(c.out()).toContain(`continue with: pixel-lab resume ${c.run}`);
  }, 3 * BOUND);

  it('on kill -INT to a CLI started in the background by a shell script', async () => {
    const out = tmp();
    const pidFile = path.join(out, 'pid');
    const script = `"${process.execPath}" "${CLI}" train "${FIXTURE}" --steps ${MANY} --out "${out}/runs" > /dev/null 2>&1 & echo $! > "${pidFile}"; wait $!; echo "exit $?"`;
    const c = start('bash', ['-c', script]);
    const run = await waitFor('10 steps', () => { const r = runIn(path.join(out, 'runs')); return r && trainSteps(r).length >= 10 ? r : null; });
    execFileSync('bash', ['-c', `kill -INT $(cat "${pidFile}")`]);
    await c.exited;
    expect(c.out().trim()).toBe('exit 0');
    expectStoppedCleanly(run);
  }, 3 * BOUND);

  it('on a second signal inside one step: marks the run stopped at its last checkpoint and quits at once', async () => {
    const c = await trainingChild(tmp());
    // Both signals land while the child is held, so both are seen at the same point between two steps. (Two SIGINTs
    // would merge into one while pending: the second is a SIGTERM, and the exit code is that of whichever came second.)
    c.child.kill('SIGSTOP');
    c.child.kill('SIGINT');
    c.child.kill('SIGTERM');
    c.child.kill('SIGCONT');
    const { code } = await c.exited;
    expect([130, 143]).toContain(code);
    expect(c.err()).toContain('stopping after this step…');
    expect(c.err()).toMatch(/quit: .* is stopped at its last checkpoint, step \d+/);
    const { status, step } = info(c.run);
    expect(status).toBe('stopped');
    expect(latestStep(c.run)).toBe(step);
    expect(Math.max(...trainSteps(c.run))).toBeGreaterThanOrEqual(step);
    expect(tempFiles(c.run)).toEqual([]);
  }, 3 * BOUND);
});

describe('a trainer that dies', () => {
  it('killed with SIGKILL: its run reads as interrupted, `runs` says so, and `resume` takes it to the end', async () => {
    const out = tmp();
    const c = await trainingChild(out);
    const first = info(c.run).owner!;
    expect(first.pid).toBe(c.child.pid);
    // The heartbeat is refreshed while training (this needs the loop to let timers run).
    await waitFor('a newer heartbeat', () => info(c.run).owner!.heartbeat !== first.heartbeat);
    const busy = pixelLab('resume', c.run);
    expect(busy.status).toBe(1);
    expect(busy.stderr.trim()).toMatch(new RegExp(`^pixel-lab: .* is still training \\(process ${c.child.pid} on .*\\): stop it first`));
    c.child.kill('SIGKILL');
    expect((await c.exited).signal).toBe('SIGKILL');

    const dead = info(c.run);
    expect(dead.status).toBe('running'); // what the file says…
    expect(effectiveStatus(dead)).toBe('interrupted'); // …and what it means
    const listed = pixelLab('runs', out);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${dead.id}\\s+interrupted\\s+${dead.step}/${MANY}\\s`, 'm'));
    const json = JSON.parse(pixelLab('runs', out, '--json').stdout);
    expect(json).toMatchObject([{ id: dead.id, status: 'interrupted', step: dead.step }]);

    const from = latestStep(c.run);
    const resumed = pixelLab('resume', c.run, '--steps', String(from + 6));
    expect(resumed.stderr).not.toMatch(/pixel-lab:/);
    expect(resumed.status).toBe(0);
    expect(info(c.run)).toMatchObject({ status: 'finished', step: from + 6, resumedAt: [from] });
    expect(trainSteps(c.run)).toEqual(Array.from({ length: from + 6 }, (_, k) => k + 1));
    expect(pixelLab('runs', out).stdout).toMatch(new RegExp(`^${dead.id}\\s+finished\\s+${from + 6}/${from + 6}\\s`, 'm'));
  }, 4 * BOUND);

  it('four runs started at once in one folder get four folders, none sharing a metric', async () => {
    const out = tmp();
    const children = Array.from({ length: 4 }, () => start(process.execPath, [CLI, 'train', FIXTURE, '--steps', '2', '--out', out]));
    const codes = await Promise.all(children.map((c) => c.exited.then((e) => e.code)));
    expect(codes).toEqual([0, 0, 0, 0]);
    const runs = readdirSync(out);
    expect(runs).toHaveLength(4);
    for (const id of runs) {
      const run = path.join(out, id);
      expect(info(run)).toMatchObject({ status: 'finished', step: 2 });
      const pairs = metrics(run).map((m) => `${m.step}/${m.split}`);
      expect(pairs).toEqual(['1/train', '2/train', '2/validation', '2/test']);
    }
  }, 4 * BOUND);

  it('whose run folder is deleted while it trains: exits 1 with one line naming the file', async () => {
    const c = await trainingChild(tmp());
    rmSync(c.run, { recursive: true, force: true });
    const { code } = await c.exited;
    expect(code).toBe(1);
    const lines = c.err().split('\n').filter((l) => l.startsWith('pixel-lab:') || /^\s+at /.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^pixel-lab: (could not write .*: its folder no longer exists|cannot read .*run\.json: it no longer exists \(was the run folder moved or deleted\?\))/);
  }, 3 * BOUND);
});

describe('a full disk under the CLI', () => {
  const dir = tmp();
  let mounted = false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=200k', 'tmpfs', dir], { stdio: 'ignore' });
    mounted = true;
  } catch {
    // not allowed here: the in-process tests of run-folder.test.ts cover what they can
  }
  afterAll(() => {
    if (mounted) execFileSync('umount', [dir]);
  });

  it.skipIf(!mounted)('ends the command with one line saying the disk is full; the checkpoint stays; the run reads as interrupted', async () => {
    const c = await trainingChild(path.join(dir, 'runs'));
    const { bavail, bsize } = statfsSync(dir);
    writeFileSync(path.join(dir, 'filler'), new Uint8Array(bavail * bsize));
    const { code } = await c.exited;
    expect(code).toBe(1);
    const last = c.err().trim().split('\n').pop()!;
    expect(last).toMatch(/^pixel-lab: could not write .*: the disk is full/);
    expect(c.err()).not.toMatch(/^\s+at /m);
    expect(tempFiles(c.run)).toEqual([]);
    const step = latestStep(c.run);
    expect(step).toBeGreaterThanOrEqual(4);
    expect(['failed', 'interrupted']).toContain(effectiveStatus(info(c.run)));
  }, 3 * BOUND);
});
