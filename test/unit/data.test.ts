/** Datasets: IDX files, folders of images (unreadable files skipped and named), resampling, encodings, splits. */
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { Batches, splitImages } from '../../src/data/batches';
import { encodeImage, quantize } from '../../src/data/encoding';
import { encodeIdx, parseIdx } from '../../src/data/idx';
import { fitImages } from '../../src/data/images';
import { loadImages } from '../../src/data/node-load';
import { ExperimentError, parseExperiment } from '../../src/experiment/experiment';
import { Random } from '../../src/model/random';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'pixel-lab-data-'));

function experimentFile(dir: string, data: object): { file: string; text: string } {
  const text = JSON.stringify({ model: { type: 'pixelcnn', hidden: 6, outputHidden: 6 }, data }, null, 2);
  const file = path.join(dir, 'e.pixel.json');
  writeFileSync(file, text);
  return { file, text };
}

describe('IDX', () => {
  it('reads what it writes, and names what is wrong with a bad file', () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, k) => k);
    expect(parseIdx(encodeIdx([2, 3, 4], data))).toEqual({ dims: [2, 3, 4], data });
    expect(() => parseIdx(Uint8Array.from([1, 2, 8, 1]), 'x.idx')).toThrow(/x.idx is not an IDX file/);
    expect(() => parseIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 0]), 'x.idx')).toThrow(/type 0xd/);
    expect(() => parseIdx(encodeIdx([2, 3, 4], data).subarray(0, 20), 'x.idx')).toThrow(/declares 2×3×4 = 24 values but holds/);
  });

  it('loads an IDX file from disk, gzipped or raw, and resamples it to the experiment size', () => {
    const dir = tmp();
    const images = Uint8Array.from({ length: 5 * 4 * 4 }, (_, k) => (k * 7) % 256);
    writeFileSync(path.join(dir, 'raw.idx'), encodeIdx([5, 4, 4], images));
    writeFileSync(path.join(dir, 'packed.idx.gz'), gzipSync(encodeIdx([5, 4, 4], images)));
    for (const name of ['raw.idx', 'packed.idx.gz']) {
      const { file, text } = experimentFile(dir, { dataset: 'idx', path: name, height: 2, width: 2 });
      const loaded = loadImages(parseExperiment(text, file), file, text);
      expect(loaded.set).toMatchObject({ count: 5, height: 2, width: 2, channels: 1 });
      // Each output pixel averages a 2×2 block.
      expect(loaded.set.images[0]).toBe(Math.round((images[0] + images[1] + images[4] + images[5]) / 4));
    }
  });

  it('reports a missing data path at its line and column', () => {
    const dir = tmp();
    const { file, text } = experimentFile(dir, { dataset: 'idx', path: 'nowhere.idx' });
    const error = (() => {
      try {
        loadImages(parseExperiment(text, file), file, text);
      } catch (e) {
        return e as ExperimentError;
      }
    })();
    expect(error).toBeInstanceOf(ExperimentError);
    expect(error!.problems[0]).toMatchObject({ line: 9, column: 13, path: 'data.path' });
    expect(error!.message).toContain(`data.path: no such file: ${path.join(dir, 'nowhere.idx')}`);
  });
});

describe('image folders', () => {
  function png(w: number, h: number, rgba: number[]): Buffer {
    const p = new PNG({ width: w, height: h });
    for (let k = 0; k < w * h; k++) p.data.set(rgba, k * 4);
    return PNG.sync.write(p);
  }

  it('reads PNG and JPEG, composites alpha on white, skips unreadable files in one warning, and fails only when none remain', () => {
    const dir = tmp();
    const images = path.join(dir, 'images');
    mkdirSync(images);
    writeFileSync(path.join(images, 'a.png'), png(8, 8, [255, 0, 0, 255]));
    writeFileSync(path.join(images, 'b.png'), png(4, 4, [0, 0, 0, 0])); // fully transparent: white
    const rgba = Buffer.alloc(6 * 6 * 4, 0);
    for (let k = 0; k < 36; k++) rgba.set([0, 0, 255, 255], k * 4);
    writeFileSync(path.join(images, 'c.jpg'), jpeg.encode({ data: rgba, width: 6, height: 6 }, 95).data);
    writeFileSync(path.join(images, 'broken.png'), 'not a png at all');
    writeFileSync(path.join(images, 'notes.txt'), 'ignored');
    const { file, text } = experimentFile(dir, { dataset: 'folder', path: 'images', height: 4, width: 4 });
    const loaded = loadImages(parseExperiment(text, file), file, text);
    expect(loaded.set).toMatchObject({ count: 3, height: 4, width: 4, channels: 3 });
    expect(loaded.warnings).toHaveLength(1);
    expect(loaded.warnings[0]).toMatch(/skipped 1 unreadable image file\(s\) .*broken\.png/);
    expect([...loaded.set.images.subarray(0, 3)]).toEqual([255, 0, 0]);
    expect([...loaded.set.images.subarray(48, 51)]).toEqual([255, 255, 255]);
    const blue = [...loaded.set.images.subarray(96, 99)];
    expect(blue[2]).toBeGreaterThan(240);
    expect(blue[0]).toBeLessThan(15);

    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    writeFileSync(path.join(empty, 'bad.jpg'), 'nope');
    const second = experimentFile(dir, { dataset: 'folder', path: 'empty' });
    expect(() => loadImages(parseExperiment(second.text, second.file), second.file, second.text)).toThrow(/0 readable PNG or JPEG image\(s\); at least 2 are needed/);
  });
});

describe('resampling and encodings', () => {
  it('converts between grey and RGB and resamples by area', () => {
    const rgb = { images: Uint8Array.from([255, 0, 0, 0, 0, 255]), count: 1, height: 1, width: 2, channels: 3 };
    expect([...fitImages(rgb, 1, 2, 1).images]).toEqual([76, 29]);
    expect([...fitImages({ images: Uint8Array.from([10, 200]), count: 1, height: 1, width: 2, channels: 1 }, 1, 4, 3).images]).toEqual([10, 10, 10, 10, 10, 10, 200, 200, 200, 200, 200, 200]);
  });

  it('binarises with a fixed threshold, stochastically (mean = intensity), and quantises to L equal bins', () => {
    const out = new Float32Array(4);
    encodeImage(Uint8Array.from([0, 127, 128, 255]), { levels: 2, binarize: 'fixed', threshold: 0.5 }, null, out);
    expect([...out]).toEqual([0, 0, 1, 1]);
    expect([0, 63, 64, 127, 128, 255].map((v) => quantize(v, 4))).toEqual([0, 0, 1, 1, 2, 3]);
    const many = new Float32Array(20000);
    encodeImage(new Uint8Array(20000).fill(64), { levels: 2, binarize: 'stochastic', threshold: 0.5 }, new Random(3), many);
    expect(many.reduce((a, b) => a + b, 0) / 20000).toBeCloseTo(64 / 255, 1);
  });
});

describe('splits and batches', () => {
  const set = { images: Uint8Array.from({ length: 50 * 4 }, (_, k) => k % 256), count: 50, height: 2, width: 2, channels: 1 };
  const encoding = { levels: 2, binarize: 'stochastic' as const, threshold: 0.5 };

  it('splits deterministically into disjoint train and test sets covering every image', () => {
    const a = splitImages(50, 0.2, 7);
    expect(a).toEqual(splitImages(50, 0.2, 7));
    expect(a.test.length).toBe(10);
    expect(new Set([...a.train, ...a.test]).size).toBe(50);
    expect(splitImages(50, 0.2, 8).test).not.toEqual(a.test);
  });

  it('gives step s the same batch in a fresh instance (what resuming relies on), across epochs', () => {
    const split = splitImages(50, 0.2, 1);
    const first = new Batches(set, split, encoding, 5);
    const seen = Array.from({ length: 30 }, (_, s) => first.train(s, 8));
    const second = new Batches(set, split, encoding, 5);
    for (const s of [29, 3, 17]) expect([...second.train(s, 8)]).toEqual([...seen[s]]);
    expect([...seen[0]]).not.toEqual([...seen[1]]);
    // The test set is encoded the same way every time.
    expect([...first.test(0, 10)]).toEqual([...second.test(0, 10)]);
  });
});
