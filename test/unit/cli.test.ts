/**
 * The `pixel-lab` command as a user runs it (the built dist/cli.cjs, in a child process): exit codes, one-line
 * errors, experiment problems with file:line:column, and the files a training run leaves.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageShape, modelConfigOf, parseExperiment } from '../../src/experiment/experiment';
import { configProblems } from '../../src/model/config';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.cjs');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'tiny-mnist.pixel.json');

function pixelLab(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('pixel-lab', () => {
  it('is built', () => expect(existsSync(CLI), 'run npm run build first').toBe(true));

  it('trains, then evaluates, samples and maps dependencies of the run', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'pixel-lab-cli-'));
    const train = pixelLab('train', FIXTURE, '--out', out);
    expect(train.err).not.toMatch(/pixel-lab:/);
    expect(train.code).toBe(0);
    const [id] = readdirSync(out);
    const run = path.join(out, id);
    expect(train.out).toContain(`run folder:  ${run}`);
    expect(train.out).toContain(path.join(run, 'samples', 'step-000012.png'));
    expect(train.out).toMatch(/backend: wasm/);
    expect(JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8')).status).toBe('finished');

    const evaluated = pixelLab('eval', run, '--json');
    expect(evaluated.code).toBe(0);
    const result = JSON.parse(evaluated.out.trim().split('\n').pop()!);
    expect(result).toMatchObject({ checkpoint: 'best', step: 12, split: 'test', testSplit: 'random', testImages: 40, validation: { images: 8 } });
    expect(result.bitsPerDim).toBeCloseTo(result.nats / (144 * Math.LN2), 6);

    const png = path.join(out, 'grid.png');
    const sampled = pixelLab('sample', run, '--count', '9', '--temperature', '0.8', '--out', png);
    expect(sampled.code).toBe(0);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');

    const deps = pixelLab('deps', run, '--pixel', '5,6', '--json');
    expect(deps.code).toBe(0);
    const maps = JSON.parse(deps.out);
    expect(maps.structural).toHaveLength(12);
    expect(maps.structural[0]).toHaveLength(12);
    expect(maps.structural[0][0]).toHaveLength(1);
    // Nothing at or after the pixel, structurally or by gradient.
    const flat = (m: number[][][]) => m.flat(2);
    const at = 5 * 12 + 6;
    expect(flat(maps.structural).slice(at).every((v: number) => v === 0)).toBe(true);
    expect(flat(maps.gradient).slice(at).every((v: number) => v === 0)).toBe(true);
    expect(flat(maps.structural).slice(0, at).some((v: number) => v === 1)).toBe(true);
  });

  it('lists every problem of a malformed experiment as file:line:column and exits 1', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pixel-lab-cli-'));
    const file = path.join(dir, 'bad.pixel.json');
    writeFileSync(file, '{\n  "model": { "type": "pixelcnn", "hidden": 0 },\n  "data": { "dataset": "mnist", "colour": true }\n}\n');
    const r = pixelLab('train', file);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toEqual([
      `${file}:2:44: model.hidden must be ≥ 1, got 0`,
      `${file}:3:33: unknown key "colour" in data; expected one of: dataset, path, labels, test, testLabels, height, width, channels, levels, binarize, threshold, split, testFraction, validationFraction, seed, limit`,
    ]);
  });

  it('names a missing dataset file at its position, and a bad option in one line', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pixel-lab-cli-'));
    const file = path.join(dir, 'idx.pixel.json');
    writeFileSync(file, '{ "model": { "type": "row-lstm" },\n  "data": { "dataset": "idx", "path": "missing.idx.gz" } }');
    const missing = pixelLab('train', file);
    expect(missing.code).toBe(1);
    expect(missing.err.trim()).toBe(`${file}:2:39: data.path: no such file: ${path.join(dir, 'missing.idx.gz')}`);
    const outside = pixelLab('deps', FIXTURE, '--pixel', '12,0');
    expect(outside.code).toBe(1);
    expect(outside.err.trim()).toBe('pixel-lab: --pixel 12,0 is outside the 12×12 image with 1 channel(s) (rows 0–11, columns 0–11, channels 0–0)');
    expect(pixelLab('resume', dir).err.trim()).toBe(`pixel-lab: ${dir} is not a run folder (it has no run.json)`);
  });
});

describe('failures', () => {
  it('are one line on stderr each, never a stack trace', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pixel-lab-cli-'));
    const escaping = path.join(dir, 'escape.pixel.json');
    writeFileSync(escaping, readFileSync(FIXTURE, 'utf8').replace('"name": "tiny-mnist"', '"name": "../../elsewhere"'));
    const broken = path.join(dir, 'runs', 'broken');
    mkdirSync(broken, { recursive: true });
    writeFileSync(path.join(broken, 'run.json'), '{"status": "runn');
    const cases: [string[], RegExp][] = [
      [['train', escaping], /plain folder name.*"..\/..\/elsewhere"|"..\/..\/elsewhere" is not a plain folder name/],
      [['runs', path.join(dir, 'runs')], /^pixel-lab: cannot read .*run\.json: /],
      [['resume', broken], /^pixel-lab: cannot read .*run\.json: /],
      [['runs', path.join(dir, 'nothing-here')], /^pixel-lab: no such experiment file or folder: /],
    ];
    for (const [args, message] of cases) {
      const r = pixelLab(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.err.trim()).toMatch(message);
    }
    expect(existsSync(path.join(dir, '..', 'elsewhere'))).toBe(false);
  });
});

describe('examples', () => {
  const dir = path.join(ROOT, 'examples');
  it.each(readdirSync(dir).map((f) => [f]))('%s is a valid experiment whose model can be built', (name) => {
    const text = readFileSync(path.join(dir, name), 'utf8');
    const e = parseExperiment(text, name);
    expect(configProblems(modelConfigOf(e, imageShape(e)))).toEqual([]);
  });
});
