/**
 * `pixel-lab bench --quality` as a user runs it (the built dist/cli.cjs), on tiny IDX files named like Debian's
 * Fashion-MNIST ones: every model gets a row with this engine's test NLL and ms/step, and — where a Python with torch
 * is found — the PyTorch twin's beside it, scored by the same evaluator, with their relative difference.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeIdx } from '../../src/data/idx';
import { Random } from '../../src/model/random';
import { TORCH } from './torch-support';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.cjs');
const MODELS = ['pixelcnn', 'row-lstm', 'diagonal-bilstm', 'gated-pixelcnn'];

const data = mkdtempSync(path.join(tmpdir(), 'pixel-lab-bench-quality-'));
afterAll(() => rmSync(data, { recursive: true, force: true }));

function writeImages(file: string, count: number, seed: number): void {
  const rng = new Random(seed);
  writeFileSync(path.join(data, file), gzipSync(encodeIdx([count, 8, 8], Uint8Array.from({ length: count * 64 }, () => rng.int(256)))));
}
writeImages('train-images-idx3-ubyte.gz', 48, 1);
writeImages('t10k-images-idx3-ubyte.gz', 20, 2);

function bench(...args: string[]): { code: number; out: string; err: string; rows: Record<string, unknown>[] } {
  const r = spawnSync(process.execPath, [CLI, 'bench', '--quality', '--steps', '2', '--test-images', '8', '--data', data, ...args], {
    encoding: 'utf8',
    timeout: 240_000,
  });
  const rows = r.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr, rows };
}

describe('bench --quality', () => {
  it('is built', () => expect(existsSync(CLI), 'run npm run build first').toBe(true));

  it.skipIf(!TORCH.python)('reports both engines side by side for every model, scored on the first N official test images', () => {
    const r = bench('--twin');
    expect(r.err).not.toMatch(/pixel-lab:/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/PyTorch twin: .* -m pixel_lab\.train/);
    expect(r.rows.map((row) => row.model)).toEqual(MODELS);
    for (const row of r.rows) {
      expect(row).toMatchObject({ bench: 'quality', steps: 2, batch: 16, testImages: 8 });
      for (const key of ['tsNats', 'twinNats', 'tsMsPerStep', 'twinMsPerStep', 'relativeDifference']) expect(Number.isFinite(row[key]), `${row.model} ${key}`).toBe(true);
      // Random 8×8 binary pixels: about 64·ln 2 ≈ 44 nats per image for a model that has learnt little.
      expect(row.tsNats as number).toBeGreaterThan(20);
      expect(row.tsNats as number).toBeLessThan(100);
      // Two steps from the same initial weights on the same batches: the engines have not drifted apart yet.
      expect(Math.abs(row.relativeDifference as number), `${row.model}`).toBeLessThan(0.02);
      expect(row.relativeDifference).toBeCloseTo(((row.twinNats as number) - (row.tsNats as number)) / (row.tsNats as number), 3);
    }
    expect(r.out).toContain('| model | steps | TS test NLL | PyTorch test NLL | relative difference | TS ms/step | PyTorch ms/step |');
    expect(r.out).toContain('on the first 8 official test images');
  });

  it('leaves the twin out with --no-twin, and says so', () => {
    const r = bench('--no-twin', '--models', 'pixelcnn');
    expect(r.code).toBe(0);
    expect(r.out).toContain('PyTorch twin: off (--no-twin)');
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({ model: 'pixelcnn', twinNats: null, twinMsPerStep: null, relativeDifference: null });
    expect(Number.isFinite(r.rows[0].tsNats)).toBe(true);
    expect(r.out).toMatch(/\| pixelcnn \| 2 \| [\d.]+ \| — \| — \|/);
  });

  it('fails in one line on an unknown model or a missing data folder', () => {
    const unknown = bench('--no-twin', '--models', 'pixelrnn');
    expect(unknown.code).not.toBe(0);
    expect(unknown.err).toMatch(/pixel-lab: unknown model 'pixelrnn'/);
    const missing = spawnSync(process.execPath, [CLI, 'bench', '--quality', '--no-twin', '--data', path.join(data, 'nowhere')], { encoding: 'utf8' });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/pixel-lab: no such file: .*-idx3-ubyte\.gz/);
  });
});
