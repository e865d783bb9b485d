/**
 * The run folder on disk, tried the way things break: many runs started at once, an owner that is gone, names that
 * try to escape, a full disk (a real 200 KB tmpfs when this user may mount one) and a model that cannot be built.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readExperiment, type Reporter, startRun } from '../../src/cli/session';
import { encodeIdx } from '../../src/data/idx';
import { effectiveStatus, type RunInfo, RunFolder, runsFolderOf, SAME_HOST_STALE_MS, STALE_MS, writeFileAtomic } from '../../src/runs/run-folder';
import { decodeCheckpoint } from '../../src/train/checkpoint';
import { useBackend } from '../support/engine';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'tiny-mnist.pixel.json');
const quiet: Reporter = { info: () => {}, warn: () => {}, step: () => {}, done: () => {} };
const never = () => false;
const tmp = () => mkdtempSync(path.join(tmpdir(), 'pixel-lab-folder-'));
const TEXT = readFileSync(FIXTURE, 'utf8');
const INFO = { experiment: 'tiny-mnist', experimentFile: FIXTURE, steps: 12 };

/** Every file under `dir`, relative. */
function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

beforeAll(() => useBackend('wasm'));

describe('creating run folders', () => {
  it('gives runs created in the same second distinct folders, each claimed by this process', () => {
    const parent = tmp();
    const runs = Array.from({ length: 25 }, () => RunFolder.create(parent, TEXT, INFO));
    expect(new Set(runs.map((r) => r.dir)).size).toBe(25);
    expect(readdirSync(parent)).toHaveLength(25);
    for (const run of runs) {
      expect(run.info).toMatchObject({ status: 'running', step: 0, owner: { pid: process.pid, host: hostname() } });
      expect(path.basename(run.dir)).toBe(run.info.id);
    }
  });

  it('gives runs created at the same instant by many threads distinct folders', async () => {
    // The run folder code, bundled, in 12 worker threads held at a barrier and released together (four rounds): with a check
    // followed by a create, several of them took the same folder (and their temporary files collided).
    const code = buildSync({ entryPoints: [path.join(__dirname, '..', '..', 'src', 'runs', 'run-folder.ts')], bundle: true, platform: 'node', format: 'cjs', write: false, logLevel: 'silent' }).outputFiles[0].text;
    const body = `const m = { exports: {} }; (function (module, exports, require) {${code}\n})(m, m.exports, require);
      const { workerData, parentPort } = require('node:worker_threads');
      const gate = new Int32Array(workerData.gate);
      Atomics.add(gate, 1, 1);
      Atomics.wait(gate, 0, 0);
      parentPort.postMessage(m.exports.RunFolder.create(workerData.parent, 'x', { experiment: 'x', experimentFile: 'x', steps: 1 }).dir);`;
    const threads = 12;
    for (let round = 0; round < 4; round++) {
      const parent = tmp();
      const gate = new Int32Array(new SharedArrayBuffer(8));
      const workers = Array.from({ length: threads }, () => new Worker(body, { eval: true, workerData: { parent, gate: gate.buffer } }));
      try {
        while (Atomics.load(gate, 1) < threads) await new Promise((r) => setTimeout(r, 5));
        Atomics.store(gate, 0, 1);
        Atomics.notify(gate, 0);
        const dirs = await Promise.all(workers.map((w) => new Promise<string>((resolve, reject) => (w.on('message', resolve), w.on('error', reject)))));
        expect(new Set(dirs).size).toBe(threads);
        expect(readdirSync(parent)).toHaveLength(threads);
        expect(allFiles(parent).filter((f) => f.includes('.tmp-'))).toEqual([]);
      } finally {
        await Promise.all(workers.map((w) => w.terminate()));
      }
    }
  });

  it('never reuses a folder that exists, whatever is in it', () => {
    const parent = tmp();
    const first = RunFolder.create(parent, TEXT, INFO);
    mkdirSync(path.join(parent, `${first.info.id}-2`)); // an empty folder another process just made
    const second = RunFolder.create(parent, TEXT, INFO);
    expect(path.basename(second.dir)).not.toBe(`${first.info.id}-2`);
    expect(readdirSync(path.join(parent, `${first.info.id}-2`))).toEqual([]);
  });
});

describe('who owns a running run', () => {
  const base: RunInfo = { id: 'x', experiment: 'x', experimentFile: 'x.pixel.json', status: 'running', startedAt: '2026-01-01T00:00:00Z', step: 3, steps: 10 };
  const now = Date.parse('2026-11-29T12:00:00Z');
  const ago = (ms: number) => new Date(now - ms).toISOString();

  it('reads a fresh heartbeat from another host as running, a stale one as interrupted', () => {
    expect(effectiveStatus({ ...base, owner: { pid: 1234, host: 'elsewhere', heartbeat: ago(2_000) } }, now)).toBe('running');
    expect(effectiveStatus({ ...base, owner: { pid: 1234, host: 'elsewhere', heartbeat: ago(STALE_MS + 1_000) } }, now)).toBe('interrupted');
    expect(effectiveStatus({ ...base, owner: { pid: 1234, host: 'elsewhere', heartbeat: 'not a time' } }, now)).toBe('interrupted');
  });

  it('reads a dead pid on this host as interrupted at once, a live one with a fresh heartbeat as running', () => {
    const dead = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const fresh = new Date().toISOString();
    expect(effectiveStatus({ ...base, owner: { pid: Number(dead), host: hostname(), heartbeat: fresh } })).toBe('interrupted');
    expect(effectiveStatus({ ...base, owner: { pid: process.pid, host: hostname(), heartbeat: fresh } })).toBe('running');
    expect(effectiveStatus({ ...base })).toBe('interrupted'); // no owner: written before owners existed
  });

  it('leaves an ended run as it is, and claim / heartbeat refresh the owner', () => {
    for (const status of ['finished', 'stopped', 'failed'] as const) expect(effectiveStatus({ ...base, status }, now)).toBe(status);
    const run = RunFolder.create(tmp(), TEXT, INFO);
    run.update({ status: 'stopped', owner: { pid: 1, host: 'elsewhere', heartbeat: ago(STALE_MS * 10) } });
    run.claim(4242);
    expect(run.info).toMatchObject({ status: 'running', owner: { pid: 4242, host: hostname() } });
    // On this host a live trainer reads running through a long silent step; silent for ten minutes, its pid is taken
    // for a reused one.
    run.update({ owner: { pid: process.pid, host: hostname(), heartbeat: new Date(Date.now() - STALE_MS * 2).toISOString() } });
    expect(effectiveStatus(run.info)).toBe('running');
    run.update({ owner: { pid: process.pid, host: hostname(), heartbeat: new Date(Date.now() - SAME_HOST_STALE_MS - 1000).toISOString() } });
    expect(effectiveStatus(run.info)).toBe('interrupted');
    run.heartbeat();
    expect(effectiveStatus(run.info)).toBe('running');
    expect(run.info.owner!.pid).toBe(process.pid);
  });
});

describe('experiment names', () => {
  const file = path.join(tmpdir(), 'project', 'exp.pixel.json');
  it.each([['../../../elsewhere/x'], ['a/b'], ['/etc/x'], ['..'], ['.'], ['.hidden'], [''], ['a\\b'], ['x'.repeat(101)]])('refuses %j as a place for runs', (name) => {
    expect(() => runsFolderOf(file, name)).toThrow(/is not a plain folder name/);
  });
  it('keeps a plain name under the experiment\'s runs folder', () => {
    expect(runsFolderOf(file, 'mnist-v2.1_b')).toBe(path.join(tmpdir(), 'project', 'runs', 'mnist-v2.1_b'));
  });
  it('refuses to train an experiment whose name escapes, before making any folder', async () => {
    const dir = tmp();
    const escaping = path.join(dir, 'deep', 'escape.pixel.json');
    mkdirSync(path.dirname(escaping));
    writeFileSync(escaping, TEXT.replace('"name": "tiny-mnist"', '"name": "../../../elsewhere/x"'));
    await expect(startRun(escaping, undefined, { steps: 1 }, quiet, never)).rejects.toThrow(/plain folder name/); // by the parser, or by runsFolderOf
    expect(allFiles(dir).sort()).toEqual(['deep', path.join('deep', 'escape.pixel.json')]);
  });
});

describe('a model that cannot be built', () => {
  it('leaves no run folder (never one that says running)', async () => {
    const dir = tmp();
    // An RGB IDX file with hidden 8 (not a multiple of 3): known to be wrong only once the data is read.
    writeFileSync(path.join(dir, 'rgb.idx'), encodeIdx([20, 8, 8, 3], Uint8Array.from({ length: 20 * 8 * 8 * 3 }, (_, k) => (k * 37) % 256)));
    const file = path.join(dir, 'rgb.pixel.json');
    writeFileSync(file, JSON.stringify({ name: 'rgb', model: { type: 'pixelcnn', hidden: 8, layers: 1, outputHidden: 8 }, data: { dataset: 'idx', path: 'rgb.idx', levels: 4, testFraction: 0.2 }, training: { steps: 2, batchSize: 4, backend: 'wasm' } }));
    await expect(startRun(file, undefined, {}, quiet, never)).rejects.toThrow(/multiple of 3/);
    const runs = path.join(dir, 'runs', 'rgb');
    const statuses = existsSync(runs) ? readdirSync(runs).map((id) => RunFolder.open(path.join(runs, id)).info.status) : [];
    expect(statuses.filter((s) => s !== 'failed')).toEqual([]);
  });
});

/** Mount a tmpfs of `kb` KB at a new folder, or null where this user may not. */
function smallDisk(kb: number): string | null {
  const dir = tmp();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return null;
  }
}

/** Fill the disk holding `dir` until only `pages` pages of it are free. */
function fillDisk(dir: string, pages: number): void {
  const { bavail, bsize } = statfsSync(dir);
  writeFileSync(path.join(dir, `filler-${Date.now()}`), new Uint8Array(Math.max(0, bavail - pages) * bsize));
}

describe('a full disk', () => {
  const mounted: string[] = [];
  const disk = (kb: number) => {
    const dir = smallDisk(kb);
    if (dir) mounted.push(dir);
    return dir;
  };
  const canMount = smallDisk(64);
  if (canMount) mounted.push(canMount);
  afterAll(() => mounted.forEach((dir) => execFileSync('umount', [dir])));

  it.skipIf(!canMount)('makes writeFileAtomic fail saying so, naming the file, keeping the old content and no temp file', () => {
    const dir = canMount!;
    const file = path.join(dir, 'run.json');
    writeFileAtomic(file, 'old');
    fillDisk(dir, 0);
    expect(() => writeFileAtomic(file, 'x'.repeat(10_000))).toThrow(`could not write ${file}: the disk is full`);
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it.skipIf(!canMount)('fails the run with the disk error in run.json, keeps the last good checkpoint, leaves no temp file', async () => {
    const dir = disk(200)!;
    // At step 5 the disk fills up to two pages: metrics and run.json still fit, a checkpoint (four pages) does not.
    const fill: Reporter = { ...quiet, step: (r) => r.step === 5 && fillDisk(dir, 2) };
    const result = await startRun(FIXTURE, path.join(dir, 'runs'), {}, fill, never);
    expect(result.status).toBe('failed');
    const run = result.run;
    expect(run.info.status).toBe('failed');
    expect(run.info.error).toMatch(/^could not write .*checkpoints\/latest\.ckpt: the disk is full$/);
    expect(decodeCheckpoint(run.readCheckpoint('latest')!).state.step).toBe(4);
    expect(run.info.step).toBe(4);
    expect(allFiles(run.dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it.skipIf(!canMount)('when even run.json cannot be written, says why, and the run reads as interrupted once its trainer is gone', async () => {
    const dir = disk(200)!;
    const fill: Reporter = { ...quiet, step: (r) => r.step === 5 && fillDisk(dir, 0) };
    const result = await startRun(FIXTURE, path.join(dir, 'runs'), {}, fill, never);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/could not write .*: the disk is full; the run could not be marked failed either \(could not write .*run\.json: the disk is full\)/);
    const info = result.run.info;
    expect(info.status).toBe('running'); // the file could not be changed
    expect(effectiveStatus(info, Date.now() + SAME_HOST_STALE_MS + 1_000)).toBe('interrupted');
    expect(decodeCheckpoint(result.run.readCheckpoint('latest')!).state.step).toBe(4);
    expect(allFiles(result.run.dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const lines = readFileSync(path.join(result.run.dir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow(); // no torn line
  });

  it('keeps readExperiment working for the fixture', () => expect(readExperiment(FIXTURE).experiment.name).toBe('tiny-mnist'));
});
