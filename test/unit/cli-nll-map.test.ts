/**
 * `pixel-lab eval RUN --map N --out FILE.png` (the built dist/cli.cjs): one test image beside its NLL heat map, and
 * the image's NLL printed — the same number evaluation gives that image. And the picture itself (encodeNllMap).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { prepareData, readExperiment } from '../../src/cli/session';
import { loadModel } from '../../src/model/serialize';
import { encodeNllMap, heatColour } from '../../src/runs/nll-map-png';
import { RunFolder } from '../../src/runs/run-folder';
import { decodeCheckpoint } from '../../src/train/checkpoint';
import { evaluate } from '../../src/train/loop';
import { useBackend } from '../support/engine';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.cjs');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'tiny-mnist.pixel.json');

function pixelLab(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const silent = { info: () => {}, warn: () => {}, error: () => {} } as never;

describe('pixel-lab eval --map', () => {
  it('writes the test image beside its NLL map and prints the NLL evaluation gives that image', async () => {
    expect(existsSync(CLI), 'run npm run build first').toBe(true);
    const out = mkdtempSync(path.join(tmpdir(), 'pixel-lab-map-'));
    expect(pixelLab('train', FIXTURE, '--out', out, '--steps', '4').code).toBe(0);
    const run = path.join(out, readdirSync(out)[0]);

    const file = path.join(out, 'map.png');
    const mapped = pixelLab('eval', run, '--map', '3', '--out', file, '--json');
    expect(mapped.err).toBe('');
    expect(mapped.code).toBe(0);
    const result = JSON.parse(mapped.out.trim().split('\n').pop()!);
    expect(result).toMatchObject({ testImage: 3, out: file });
    const png = PNG.sync.read(readFileSync(file));
    expect(png.width).toBeGreaterThanOrEqual(2 * 12 * 14);

    // The same image's NLL from evaluation: the first 4 test images' total less the first 3's.
    await useBackend('wasm');
    const folder = RunFolder.open(run);
    const { experiment, text } = readExperiment(folder.experimentFile);
    const prepared = prepareData(experiment, folder.info.experimentFile, text, silent);
    const model = loadModel(decodeCheckpoint(folder.readBestCheckpoint()!.bytes).model);
    const four = await evaluate(model, prepared.batches, 4);
    const three = await evaluate(model, prepared.batches, 3);
    model.dispose();
    const nats = 4 * four.nats - 3 * three.nats;
    expect(Math.abs(result.nats - nats)).toBeLessThan(1e-3);
    expect(result.bitsPerDim).toBeCloseTo(result.nats / (144 * Math.LN2), 6);

    // Words by default, the PNG in the run folder; an index past the test images is refused in one line.
    const words = pixelLab('eval', run, '--map', '0');
    expect(words.code).toBe(0);
    expect(words.out).toMatch(/test image 0 of 40, the best checkpoint \(step 4\): NLL [\d.]+ nats \([\d.]+ bits\/dim\)/);
    expect(existsSync(path.join(run, 'maps', 'nll-test-0.png'))).toBe(true);
    const refused = pixelLab('eval', run, '--map', '40');
    expect(refused.code).toBe(1);
    expect(refused.err.trim()).toBe('pixel-lab: --map 40: the run has test images 0 … 39');
    expect(pixelLab('eval', run, '--map', '-1').code).toBe(1);
  });
});

describe('encodeNllMap', () => {
  it('draws the image, the heat map of each pixel’s NLL, a panel per colour channel, and a colour bar', () => {
    const H = 4;
    const W = 5;
    for (const C of [1, 3]) {
      const image = Float32Array.from({ length: H * W * C }, (_, k) => k % 4);
      const nll = Float32Array.from({ length: H * W * C }, (_, k) => (k === 0 ? 3 : 0));
      const png = PNG.sync.read(Buffer.from(encodeNllMap({ image, nll, height: H, width: W, channels: C, levels: 4 })));
      const scale = Math.floor(168 / W);
      const panels = C === 3 ? 5 : 2;
      expect(png.width).toBe(12 + panels * (W * scale + 12));
      const at = (x: number, y: number) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3)];
      const top = 12 + 10 + 4;
      // The heat map's first pixel is the most surprising one: the bright end; the next is the dark end.
      const heatX = 12 + W * scale + 12;
      expect(at(heatX + 1, top + 1)).toEqual(heatColour(1));
      expect(at(heatX + scale + 1, top + 1)).toEqual(heatColour(0));
      // Grey at the levels' bin centres, as sample grids draw them (4 levels: 31, 95, 159, 223). Grey: the first
      // pixel is value 0, the second value 1 of 3. Colour: the first is (0, 1, 2) of 3.
      expect(at(13, top + 1)).toEqual(C === 1 ? [31, 31, 31] : [31, 95, 159]);
      if (C === 1) expect(at(13 + scale, top + 1)).toEqual([95, 95, 95]);
    }
  });
});
