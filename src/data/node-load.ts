/**
 * Reading an experiment's images from disk (Node): the bundled datasets (built into dist/data by
 * `npm run build`), an IDX file (.gz or raw), or a folder of PNG / JPEG images. Images are resampled to the
 * experiment's size; unreadable files in a folder are skipped and named in one warning.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { type Experiment, ExperimentError, imageShape, problemAt } from '../experiment/experiment';
import { permutation } from './batches';
import { parseIdx } from './idx';
import { fitImages, type ImageSet } from './images';
import { packageRoot } from '../runs/package-root';

export interface LoadedImages {
  readonly set: ImageSet;
  /** Where the images came from, in words. */
  readonly source: string;
  readonly warnings: string[];
}

export function bundledDataDir(): string {
  return path.join(packageRoot(), 'dist', 'data');
}

/** Read and un-gzip (when gzipped) a file. */
function readMaybeGzip(file: string): Uint8Array {
  const bytes = readFileSync(file);
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
}

function readIdxImages(file: string): ImageSet {
  const { dims, data } = parseIdx(readMaybeGzip(file), file);
  if (dims.length !== 3 && !(dims.length === 4 && (dims[3] === 1 || dims[3] === 3))) {
    throw new Error(`${file} holds an array of ${dims.join('×')}: images need count × height × width (× 1 or 3 channels)`);
  }
  return { images: data, count: dims[0], height: dims[1], width: dims[2], channels: dims[3] ?? 1 };
}

function readFolder(folder: string, height: number, width: number, channels: number): { set: ImageSet; skipped: string[] } {
  const files = readdirSync(folder)
    .filter((f) => /\.(png|jpe?g)$/i.test(f))
    .sort();
  const images: Uint8Array[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    try {
      const full = path.join(folder, file);
      const decoded = /\.png$/i.test(file) ? PNG.sync.read(readFileSync(full)) : jpeg.decode(readFileSync(full), { useTArray: true, formatAsRGBA: true });
      const rgb = new Uint8Array(decoded.width * decoded.height * 3);
      for (let p = 0; p < decoded.width * decoded.height; p++) {
        const alpha = decoded.data[p * 4 + 3] / 255;
        for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round(decoded.data[p * 4 + c] * alpha + 255 * (1 - alpha));
      }
      const one = fitImages({ images: rgb, count: 1, height: decoded.height, width: decoded.width, channels: 3 }, height, width, channels);
      images.push(one.images);
    } catch (error) {
      skipped.push(`${file} (${(error as Error).message.split('\n')[0]})`);
    }
  }
  const all = new Uint8Array(images.length * height * width * channels);
  images.forEach((img, k) => all.set(img, k * img.length));
  return { set: { images: all, count: images.length, height, width, channels }, skipped };
}

/**
 * The experiment's images at its size. `experimentText` lets a missing path be reported at its line and column.
 */
export function loadImages(e: Experiment, experimentFile: string, experimentText: string): LoadedImages {
  const dir = path.dirname(path.resolve(experimentFile));
  const warnings: string[] = [];
  let set: ImageSet;
  let source: string;
  if (e.data.dataset === 'idx' || e.data.dataset === 'folder') {
    const target = path.resolve(dir, e.data.path!);
    const wantFolder = e.data.dataset === 'folder';
    if (!existsSync(target) || statSync(target).isDirectory() !== wantFolder) {
      const what = wantFolder ? 'folder' : 'file';
      throw new ExperimentError(experimentFile, [problemAt(experimentText, 'data.path', `data.path: no such ${what}: ${target}`)]);
    }
    if (wantFolder) {
      const shape = imageShape(e);
      const read = readFolder(target, shape.height, shape.width, shape.channels);
      if (read.skipped.length) warnings.push(`skipped ${read.skipped.length} unreadable image file(s) in ${target}: ${read.skipped.join(', ')}`);
      if (read.set.count < 2) throw new Error(`${target} has ${read.set.count} readable PNG or JPEG image(s); at least 2 are needed`);
      set = read.set;
      source = `${read.set.count} images from ${target}`;
    } else {
      set = readIdxImages(target);
      source = `${set.count} images from ${target}`;
    }
  } else {
    const file = path.join(bundledDataDir(), `${e.data.dataset}-images.idx.gz`);
    if (!existsSync(file)) throw new Error(`the bundled ${e.data.dataset} dataset is not built (${file} is missing): run npm run build`);
    set = readIdxImages(file);
    source = `${set.count} ${e.data.dataset} images (bundled)`;
  }
  if (e.data.limit && e.data.limit < set.count) set = choose(set, e.data.limit, e.data.seed);
  const shape = imageShape(e, set);
  return { set: fitImages(set, shape.height, shape.width, shape.channels), source, warnings };
}

/** A seeded choice of `count` images. */
function choose(set: ImageSet, count: number, seed: number): ImageSet {
  const size = set.height * set.width * set.channels;
  const chosen = permutation(set.count, seed ^ 0x5bd1e995).slice(0, count);
  const images = new Uint8Array(count * size);
  chosen.forEach((index, k) => images.set(set.images.subarray(index * size, (index + 1) * size), k * size));
  return { ...set, images, count };
}
