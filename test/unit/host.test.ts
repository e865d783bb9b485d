/**
 * The extension host's logic that needs no VS Code: the message contract (validated on arrival, both ways; no
 * message can name a path), showing a run from disk, and that the host bundle carries no TF.js and the package
 * only what the extension runs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Reporter, startRun } from '../../src/cli/session';
import { listRuns, prepareExperiment, runView } from '../../src/extension/runs';
import { contentSecurityPolicy } from '../../src/extension/html';
import { validateHostMessage, validatePanelMessage } from '../../src/protocol';
import { useBackend } from '../support/engine';

const ROOT = path.join(__dirname, '..', '..');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'tiny-mnist.pixel.json');
const quiet: Reporter = { info: () => {}, warn: () => {}, step: () => {}, done: () => {} };

beforeAll(() => useBackend('wasm'));

describe('the message contract', () => {
  it('accepts well-formed messages, binary as binary', () => {
    const png = new Uint8Array([137, 80, 78, 71]);
    expect(validatePanelMessage({ type: 'samples', runId: 'r', step: 10, png }).ok).toBe(true);
    expect(validatePanelMessage({ type: 'step', runId: 'r', step: 1, nats: 90.5, bitsPerDim: 0.16, imagesPerSecond: 120, seconds: 0.1 }).ok).toBe(true);
    const images = { data: new Uint8Array(2 * 3 * 3), count: 2, height: 3, width: 3, channels: 1 };
    expect(validateHostMessage({ type: 'train', runId: 'r', name: 'n', experiment: '{}', images, checkpoint: null, metrics: [], backend: 'wasm' }).ok).toBe(true);
  });

  it('rejects unknown types, missing or wrong fields, extra fields and JSON arrays where binary belongs, saying why', () => {
    const reason = (v: unknown, host = false) => {
      const r = host ? validateHostMessage(v) : validatePanelMessage(v);
      return r.ok ? 'accepted' : r.reason;
    };
    expect(reason({ type: 'delete-everything' })).toBe("unknown panel message type 'delete-everything'");
    expect(reason(null)).toBe('panel message without a type');
    expect(reason({ type: 'samples', runId: 'r', step: 10, png: [137, 80] })).toBe('samples.png must be binary (a Uint8Array)');
    expect(reason({ type: 'step', runId: 'r', step: 1, nats: NaN, bitsPerDim: 0, imagesPerSecond: 1, seconds: 1 })).toBe('step.nats must be a finite number');
    expect(reason({ type: 'checkpoint', runId: 'r', step: 3, kinds: ['latest', 'elsewhere'], bytes: new Uint8Array(1) })).toBe("checkpoint.kinds[1] must be one of latest, best");
    expect(reason({ type: 'ended', runId: 'r', status: 'finished', step: 2, path: '/etc' })).toBe('ended has unknown field path');
    const images = { data: new Uint8Array(5), count: 2, height: 3, width: 3, channels: 1 };
    expect(reason({ type: 'train', runId: 'r', name: 'n', experiment: '{}', images, checkpoint: null, metrics: [], backend: 'wasm' }, true)).toBe('train.images.data holds 5 values, not 2×3×3×1');
    const run = { runId: 'r', name: 'n', status: 'finished', step: 1, steps: 1, metrics: [], grids: [], experiment: '{}', checkpoint: null, dataset: null };
    expect(reason({ type: 'sample', run, count: 4, temperature: 0, seed: 1, keepRows: 0 }, true)).toBe('sample.temperature must be > 0');
    expect(reason({ type: 'sample', run: { ...run, status: 'lost' }, count: 4, temperature: 1, seed: 1, keepRows: 0 }, true)).toBe('sample.run.status must be one of running, finished, stopped, failed, interrupted');
  });
});

describe('files', () => {
  it('show a run from disk: its curves, its grids as PNG, its checkpoint, its experiment with the shape filled in', async () => {
    const { run } = await startRun(FIXTURE, mkdtempSync(path.join(tmpdir(), 'pixel-lab-host-')), {}, quiet, () => false);
    const view = await runView(run);
    expect(view).toMatchObject({ runId: run.dir, status: 'finished', step: 12, steps: 12 });
    expect(view.metrics.filter((m) => m.split === 'test').map((m) => m.step)).toEqual([6, 12]);
    expect(view.grids.map((g) => g.step)).toEqual([12]);
    expect([...view.grids[0].png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(view.checkpoint?.length).toBeGreaterThan(1000);
    expect(JSON.parse(view.experiment).data).toMatchObject({ height: 12, width: 12, channels: 1, levels: 2 });
    expect(validateHostMessage({ type: 'show', run: view }).ok).toBe(true);
  });

  it('prepare an experiment with its images at its size, for the panel to train on', () => {
    const text = readFileSync(FIXTURE, 'utf8');
    const prepared = prepareExperiment(FIXTURE, text, true);
    expect(prepared.images).toMatchObject({ count: 200, height: 12, width: 12, channels: 1 });
    expect(prepared.images!.data.length).toBe(200 * 144);
    expect(listRuns(path.join(tmpdir(), 'nowhere.pixel.json'))).toEqual([]);
  });
});

describe('the package', () => {
  it('allows scripts only by nonce, wasm compilation, blob workers; never unsafe-inline or unsafe-eval', () => {
    const csp = contentSecurityPolicy('https://resource', 'n0nce');
    expect(csp).toContain("script-src 'nonce-n0nce' 'wasm-unsafe-eval'");
    expect(csp).toContain('worker-src blob:');
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/'unsafe-inline'|'unsafe-eval'/);
  });

  it('keeps TF.js out of the extension host bundle', () => {
    const host = readFileSync(path.join(ROOT, 'dist', 'extension.js'), 'utf8');
    expect(host).not.toMatch(/tensorflow|tfjs/i);
    expect(existsSync(path.join(ROOT, 'dist', 'webview', 'worker.js'))).toBe(true);
  });

  it('holds only what the extension runs, under 15 MB', () => {
    const listed = execFileSync(path.join(ROOT, 'node_modules', '.bin', 'vsce'), ['ls', '--no-dependencies'], { cwd: ROOT, encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(listed).toContain('dist/extension.js');
    expect(listed).toContain('dist/webview/worker.js');
    expect(listed).toContain('dist/data/mnist-images.idx.gz');
    expect(listed.filter((f) => /^(src|test|webview|node_modules|scripts)\//.test(f) || f.endsWith('.map'))).toEqual([]);
    const bytes = listed.reduce((n, f) => n + statSync(path.join(ROOT, f)).size, 0);
    expect(bytes).toBeLessThan(15 * 1024 * 1024);
  });
});
