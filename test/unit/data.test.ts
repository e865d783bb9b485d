/** Datasets: IDX files, folders of images (unreadable files skipped and named), resampling, encodings, splits. */
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { Batches, splitImages } from '../../src/data/batches';
import { readImageSize } from '../../src/data/image-header';
import { loadImagesOffThread } from '../../src/data/load-off-thread';
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

/** A PNG whose IHDR declares width × height, followed by no image data: only its header can be read. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'latin1');
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  ihdr.set([8, 6, 0, 0, 0], 16);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr]);
}

/** A JPEG with an APP0 segment, then a baseline frame header declaring width × height, then its end. */
function jpegHeaderOnly(width: number, height: number): Buffer {
  const app0 = [0xff, 0xe0, 0, 16, ...Buffer.from('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const sof0 = [0xff, 0xc0, 0, 11, 8, height >> 8, height & 255, width >> 8, width & 255, 1, 1, 0x11, 0];
  return Buffer.from([0xff, 0xd8, ...app0, ...sof0, 0xff, 0xd9]);
}

function solidPng(w: number, h: number, rgba: number[]): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let k = 0; k < w * h; k++) p.data.set(rgba, k * 4);
  return PNG.sync.write(p);
}

describe('bounded decoding', () => {
  it('reads the size of PNG and JPEG files from their headers', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'a.png'), solidPng(7, 5, [1, 2, 3, 255]));
    writeFileSync(path.join(dir, 'b.jpg'), jpeg.encode({ data: Buffer.alloc(9 * 4 * 4), width: 9, height: 4 }, 90).data);
    writeFileSync(path.join(dir, 'c.png'), pngHeaderOnly(16000, 16000));
    writeFileSync(path.join(dir, 'd.jpg'), jpegHeaderOnly(20000, 15000));
    writeFileSync(path.join(dir, 'e.png'), 'text');
    expect(['a.png', 'b.jpg', 'c.png', 'd.jpg'].map((f) => readImageSize(path.join(dir, f)))).toEqual([
      { width: 7, height: 5 },
      { width: 9, height: 4 },
      { width: 16000, height: 16000 },
      { width: 20000, height: 15000 },
    ]);
    expect(() => readImageSize(path.join(dir, 'e.png'))).toThrow(/not a PNG or JPEG/);
  });

  it('skips images above 4096×4096 without decoding them, naming them in one warning', () => {
    const dir = tmp();
    const images = path.join(dir, 'images');
    mkdirSync(images);
    writeFileSync(path.join(images, 'a.png'), solidPng(8, 8, [255, 0, 0, 255]));
    writeFileSync(path.join(images, 'b.png'), solidPng(8, 8, [0, 255, 0, 255]));
    // Had these been decoded, they would have failed as unreadable (they hold no image data).
    writeFileSync(path.join(images, 'huge.png'), pngHeaderOnly(16000, 16000));
    writeFileSync(path.join(images, 'wide.jpg'), jpegHeaderOnly(8192, 4096));
    const { file, text } = experimentFile(dir, { dataset: 'folder', path: 'images', height: 4, width: 4 });
    const loaded = loadImages(parseExperiment(text, file), file, text);
    expect(loaded.set.count).toBe(2);
    expect(loaded.warnings).toEqual([`skipped 2 image(s) larger than 4096×4096 pixels in ${images} (not decoded): huge.png (16000×16000), wide.jpg (8192×4096)`]);
  });
});

describe('image bytes are a plain Uint8Array (a Node Buffer does not survive webview messaging)', () => {
  it.each([
    ['bundled MNIST at its own size', { dataset: 'mnist', limit: 20 }, null],
    ['bundled MNIST, all of it', { dataset: 'mnist' }, null],
    ['a raw IDX file at its own size', { dataset: 'idx', path: 'raw.idx' }, 'raw.idx'],
    ['a gzipped IDX file at its own size', { dataset: 'idx', path: 'packed.idx.gz' }, 'packed.idx.gz'],
  ])('%s', (_name, data, idx) => {
    const dir = tmp();
    const bytes = encodeIdx([3, 4, 4], Uint8Array.from({ length: 48 }, (_, k) => k));
    if (idx) writeFileSync(path.join(dir, idx), idx.endsWith('.gz') ? gzipSync(bytes) : bytes);
    const { file, text } = experimentFile(dir, data);
    const { set } = loadImages(parseExperiment(text, file), file, text);
    expect(set.images.constructor).toBe(Uint8Array);
    expect(set.images.length).toBe(set.count * set.height * set.width * set.channels);
  });
});

describe('loading off the thread', () => {
  function folderOf(count: number): { dir: string; file: string; text: string } {
    const dir = tmp();
    mkdirSync(path.join(dir, 'images'));
    for (let k = 0; k < count; k++) writeFileSync(path.join(dir, 'images', `${String(k).padStart(3, '0')}.png`), solidPng(16, 16, [k % 256, 40, 200, 255]));
    writeFileSync(path.join(dir, 'images', 'broken.png'), 'not a png');
    return { dir, ...experimentFile(dir, { dataset: 'folder', path: 'images', height: 4, width: 4 }) };
  }

  it('gives what loadImages gives, as a plain Uint8Array, reporting progress per file', async () => {
    const { file, text } = folderOf(6);
    const e = parseExperiment(text, file);
    const progress: [number, number][] = [];
    const loaded = await loadImagesOffThread(e, file, text, { onProgress: (done, total) => progress.push([done, total]) });
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7].map((k) => [k, 7]));
    expect(loaded.set.images.constructor).toBe(Uint8Array);
    expect(loaded).toEqual(loadImages(e, file, text));
    expect(loaded.warnings[0]).toMatch(/broken\.png/);
    // The bundled datasets too (progress once).
    const mnist = experimentFile(tmp(), { dataset: 'mnist', limit: 50 });
    const m = parseExperiment(mnist.text, mnist.file);
    const once: [number, number][] = [];
    expect(await loadImagesOffThread(m, mnist.file, mnist.text, { onProgress: (d, t) => once.push([d, t]) })).toEqual(loadImages(m, mnist.file, mnist.text));
    expect(once).toEqual([[1, 1]]);
  });

  it('stops when cancelled, rejecting with "loading cancelled"', async () => {
    const { file, text } = folderOf(150);
    const e = parseExperiment(text, file);
    const controller = new AbortController();
    const seen: number[] = [];
    const loading = loadImagesOffThread(e, file, text, {
      signal: controller.signal,
      onProgress: (done) => {
        seen.push(done);
        controller.abort();
      },
    });
    await expect(loading).rejects.toMatchObject({ name: 'AbortError', message: 'loading cancelled' });
    expect(seen).toEqual([1]);
    const already = new AbortController();
    already.abort();
    await expect(loadImagesOffThread(e, file, text, { signal: already.signal })).rejects.toThrow('loading cancelled');
  });

  it('rejects with the same ExperimentError, positions kept, when the data is gone', async () => {
    const { dir, file, text } = folderOf(2);
    const e = parseExperiment(text, file);
    rmSync(path.join(dir, 'images'), { recursive: true });
    const error = await loadImagesOffThread(e, file, text).catch((x: unknown) => x);
    expect(error).toBeInstanceOf(ExperimentError);
    expect((error as ExperimentError).problems[0]).toMatchObject({ line: 9, column: 13, path: 'data.path' });
    expect((error as ExperimentError).message).toContain('no such folder');
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
