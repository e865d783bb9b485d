/**
 * The host's view of runs on disk, without VS Code: images handed to the panel as plain binary at full size, runs
 * that belong to their experiment file (not to its "name"), runs whose trainer died shown and recorded as
 * interrupted, and New Experiment's file.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeIdx } from '../../src/data/idx';
import { parseExperiment } from '../../src/experiment/experiment';
import { makeNonce } from '../../src/extension/html';
import { newExperimentText } from '../../src/extension/new-experiment';
import { findRuns, groupRuns, listRuns, markInterruptedRuns, prepareExperiment, retargetRuns, runDataset, runView } from '../../src/extension/runs';
import { validateHostMessage } from '../../src/protocol';
import { conditionalInfo, effectiveStatus, RunFolder, runsFolderOf, STALE_MS } from '../../src/runs/run-folder';

const ROOT = path.join(__dirname, '..', '..');
const EXAMPLES = path.join(ROOT, 'examples');

function workspace(): string {
  return mkdtempSync(path.join(tmpdir(), 'pixel-lab-host-runs-'));
}

function experimentFile(dir: string, file: string, name: string): string {
  const target = path.join(dir, file);
  writeFileSync(target, JSON.stringify({ name, model: { type: 'pixelcnn', layers: 1, hidden: 4 }, data: { dataset: 'mnist', limit: 20, height: 6, width: 6 }, training: { steps: 4 } }, null, 2));
  return target;
}

function newRun(file: string, name: string): RunFolder {
  return RunFolder.create(runsFolderOf(file, name), readFileSync(file, 'utf8'), { experiment: name, experimentFile: file, steps: 4 });
}

describe('the images the panel trains on', () => {
  it('are the full data set as a plain Uint8Array (a Node Buffer does not survive VS Code webview messaging)', () => {
    const file = path.join(EXAMPLES, 'mnist-quickstart.pixel.json');
    const prepared = prepareExperiment(file, readFileSync(file, 'utf8'), true);
    const data = prepared.images!.data;
    expect(prepared.images).toMatchObject({ count: 10_000, height: 28, width: 28, channels: 1 });
    expect(data.constructor).toBe(Uint8Array);
    expect(Buffer.isBuffer(data)).toBe(false);
    // Exactly its own memory: nothing of a shared pool travels with it.
    expect([data.byteOffset, data.byteLength]).toEqual([0, data.buffer.byteLength]);
    const message = { type: 'train', runId: 'r', name: 'n', experiment: JSON.stringify(prepared.experiment), images: prepared.images, checkpoint: null, metrics: [], backend: 'auto' };
    expect(validateHostMessage(structuredClone(message))).toMatchObject({ ok: true });
  });
});

describe('a class-conditional run in the panel', () => {
  it('shows with its class names, and its test images come with their labels', async () => {
    const dir = workspace();
    const file = path.join(dir, 'c.pixel.json');
    writeFileSync(file, JSON.stringify({ name: 'c', model: { type: 'pixelcnn', layers: 1, hidden: 4, conditional: true }, data: { dataset: 'fashion-mnist', limit: 40, height: 6, width: 6 }, training: { steps: 4 } }));
    const prepared = prepareExperiment(file, readFileSync(file, 'utf8'), true);
    expect(prepared.classNames).toHaveLength(10);
    const run = RunFolder.create(runsFolderOf(file, 'c'), readFileSync(file, 'utf8'), { experiment: 'c', experimentFile: file, steps: 4, ...conditionalInfo(10, prepared.classNames) });
    const view = await runView(run);
    expect(view.classNames).toEqual([...prepared.classNames!]);
    const { images } = await runDataset(run);
    expect(images!.labels).toHaveLength(images!.count);
    expect(validateHostMessage(structuredClone({ type: 'show', run: { ...view, dataset: images } }))).toMatchObject({ ok: true });
    // An unconditional run has neither.
    const plain = newRun(experimentFile(dir, 'p.pixel.json', 'p'), 'p');
    expect((await runView(plain)).classNames).toBeUndefined();
    expect((await runDataset(plain)).images!.labels).toBeUndefined();
  });
});

describe('runs belong to their experiment file', () => {
  it('two files with the same "name" never share runs; renaming "name" or the file loses none', () => {
    const dir = workspace();
    const a = experimentFile(dir, 'qa.pixel.json', 'same');
    const b = experimentFile(dir, 'qb.pixel.json', 'same');
    const runA = newRun(a, 'same');
    const runB = newRun(b, 'same');
    expect(listRuns(a).map((r) => r.dir)).toEqual([runA.dir]);
    expect(listRuns(b).map((r) => r.dir)).toEqual([runB.dir]);

    // "name" edited while the runs exist: they stay listed under their file.
    experimentFile(dir, 'qa.pixel.json', 'renamed');
    expect(listRuns(a).map((r) => r.dir)).toEqual([runA.dir]);

    // The file renamed in VS Code: its runs follow it.
    const moved = path.join(dir, 'qc.pixel.json');
    cpSync(a, moved);
    rmSync(a);
    expect(retargetRuns(findRuns(dir), a, moved)).toBe(1);
    expect(listRuns(moved).map((r) => r.dir)).toEqual([runA.dir]);
    expect(listRuns(b).map((r) => r.dir)).toEqual([runB.dir]);

    // Moved to another folder: found workspace-wide, still its own.
    mkdirSync(path.join(dir, 'elsewhere'));
    const away = path.join(dir, 'elsewhere', 'qc.pixel.json');
    cpSync(moved, away);
    rmSync(moved);
    expect(retargetRuns(findRuns(dir), moved, away)).toBe(1);
    const groups = groupRuns(findRuns(dir), [away, b]);
    expect(groups.get(away)!.map((r) => r.dir)).toEqual([runA.dir]);
    expect(groups.get(path.resolve(b))!.map((r) => r.dir)).toEqual([runB.dir]);

    // The folder holding it renamed: the runs follow the folder.
    const renamed = path.join(dir, 'renamed');
    cpSync(path.join(dir, 'elsewhere'), renamed, { recursive: true });
    rmSync(path.join(dir, 'elsewhere'), { recursive: true });
    expect(retargetRuns(findRuns(dir), path.join(dir, 'elsewhere'), renamed)).toBe(1);
    expect(groupRuns(findRuns(dir), [path.join(renamed, 'qc.pixel.json')]).get(path.join(renamed, 'qc.pixel.json'))!.map((r) => r.dir)).toEqual([runA.dir]);
  });

  it('a run whose file vanished stays listed under the experiment of the same name beside it', () => {
    const dir = workspace();
    const file = experimentFile(dir, 'x.pixel.json', 'x');
    const run = RunFolder.create(runsFolderOf(file, 'x'), '{}', { experiment: 'x', experimentFile: path.join(dir, 'gone.pixel.json'), steps: 4 });
    expect(listRuns(file).map((r) => r.dir)).toEqual([run.dir]);
  });
});

describe('runs whose trainer is gone', () => {
  it('read as interrupted, and are recorded so; a live trainer stays running', async () => {
    const dir = workspace();
    const file = experimentFile(dir, 'e.pixel.json', 'e');
    const live = newRun(file, 'e');
    const dead = newRun(file, 'e');
    // A process that has exited: its pid is no longer alive.
    const gone = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    dead.claim(gone);
    const elsewhere = newRun(file, 'e');
    elsewhere.update({ owner: { pid: 1, host: 'another-machine', heartbeat: new Date(Date.now() - STALE_MS - 1000).toISOString() } });

    expect(effectiveStatus(live.info)).toBe('running');
    expect(effectiveStatus(dead.info)).toBe('interrupted');
    expect(effectiveStatus(elsewhere.info)).toBe('interrupted');
    expect(listRuns(file).find((r) => r.dir === dead.dir)?.status).toBe('interrupted');

    expect(markInterruptedRuns(findRuns(dir)).sort()).toEqual([dead.dir, elsewhere.dir].sort());
    expect(dead.info.status).toBe('interrupted');
    expect(dead.info.error).toMatch(/its trainer stopped without ending it/);
    expect(live.info.status).toBe('running');
    // The panel shows it as it is, too.
    expect((await runView(dead)).status).toBe('interrupted');
  });
});

describe('a run shown from disk', () => {
  it('brings a few of its test images, for the dataset card, completion and hovering', async () => {
    const dir = workspace();
    const file = experimentFile(dir, 'd.pixel.json', 'd');
    const run = newRun(file, 'd');
    // Shown at once; the images follow (loaded off the host's thread, then kept for the next show).
    expect((await runView(run)).dataset).toBeNull();
    const { images } = await runDataset(run);
    expect(images).toMatchObject({ count: 2, height: 6, width: 6, channels: 1 }); // 10% of 20 images are test images
    expect(images!.data.length).toBe(2 * 36);
    // VS Code's webview messaging takes the memory of the bytes it sends: the next show still has its images.
    structuredClone(images!.data, { transfer: [images!.data.buffer] });
    expect(images!.data.length).toBe(0);
    const again = (await runDataset(run)).images!;
    expect(again.data.length).toBe(2 * 36);
    structuredClone(again.data, { transfer: [again.data.buffer] });
    expect((await runDataset(run)).images!.data.length).toBe(2 * 36);
  });

  it('says why when its data set can no longer be read', async () => {
    const dir = workspace();
    writeFileSync(path.join(dir, 'own.idx'), encodeIdx([10, 4, 4], new Uint8Array(160)));
    const file = path.join(dir, 'own.pixel.json');
    writeFileSync(file, JSON.stringify({ name: 'own', model: { type: 'pixelcnn', layers: 1, hidden: 4 }, data: { dataset: 'idx', path: 'own.idx' }, training: { steps: 4 } }));
    const run = newRun(file, 'own');
    rmSync(path.join(dir, 'own.idx'));
    const { images, error } = await runDataset(run);
    expect(images).toBeNull();
    expect(error).toMatch(/own\.idx/);
  });
});

describe('New Experiment', () => {
  it.each(['mnist-quickstart', 'emoji-gated-pixelcnn'])('writes %s named after its file, with no $schema line that points nowhere', (example) => {
    const text = newExperimentText(readFileSync(path.join(EXAMPLES, `${example}.pixel.json`), 'utf8'), 'my-run');
    expect(text).not.toContain('$schema');
    const dir = workspace();
    mkdirSync(dir, { recursive: true });
    const parsed = parseExperiment(text, path.join(dir, 'my-run.pixel.json'));
    expect(parsed.name).toBe('my-run');
    expect(JSON.parse(text).model).toEqual(JSON.parse(readFileSync(path.join(EXAMPLES, `${example}.pixel.json`), 'utf8')).model);
  });
});

describe('the panel page', () => {
  it('gets a fresh 128-bit nonce from a cryptographic source each time', () => {
    const nonces = new Set(Array.from({ length: 50 }, makeNonce));
    expect(nonces.size).toBe(50);
    for (const n of nonces) expect(n).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
