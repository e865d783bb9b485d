/**
 * Reading an experiment's images from disk (Node): the bundled datasets (built into dist/data by
 * `npm run build`), an IDX file (.gz or raw), or a folder of PNG / JPEG images. Images are resampled to the
 * experiment's size; unreadable files in a folder are skipped and named in one warning, and so are images too large
 * to decode safely (their size is read from their header; they are never decoded).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { ExperimentError, problemAt } from '../experiment/problems';
import { type Experiment, imageShape } from '../experiment/types';
import { permutation } from './batches';
import { idxImageShape, parseIdx } from './idx';
import { readIdxImageShape } from './idx-file';
import { MAX_IMAGE_PIXELS, readImageSize } from './image-header';
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

/** Read and un-gzip (when gzipped) an IDX file, never inflating more than its header declares (a gzip bomb
 *  stops there with a clear error instead of filling memory). */
function readIdxImages(file: string): ImageSet {
  const declared = readIdxImageShape(file);
  const most = 4 + 4 * 4 + declared.count * declared.height * declared.width * declared.channels;
  const raw = readFileSync(file);
  let bytes: Uint8Array = raw;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = gunzipSync(raw, { maxOutputLength: most });
    } catch (error) {
      throw new Error(`${file} cannot be un-gzipped within the ${most} bytes its header declares: ${(error as Error).message}`);
    }
  }
  const { dims, data } = parseIdx(bytes, file);
  return { images: data, ...idxImageShape(dims, file) };
}

/** Called after each file of a folder dataset (and once for the other datasets). */
export type LoadProgress = (done: number, total: number) => void;

interface FolderImages {
  readonly set: ImageSet;
  readonly unreadable: string[];
  readonly tooLarge: string[];
}

function readFolder(folder: string, height: number, width: number, channels: number, onProgress?: LoadProgress): FolderImages {
  const files = readdirSync(folder)
    .filter((f) => /\.(png|jpe?g)$/i.test(f))
    .sort();
  const images: Uint8Array[] = [];
  const unreadable: string[] = [];
  const tooLarge: string[] = [];
  files.forEach((file, k) => {
    try {
      const full = path.join(folder, file);
      // The header first: an image too large to decode safely is never decoded.
      const size = readImageSize(full);
      if (size.width * size.height > MAX_IMAGE_PIXELS) tooLarge.push(`${file} (${size.width}×${size.height})`);
      else images.push(decodeImage(full, height, width, channels));
    } catch (error) {
      unreadable.push(`${file} (${(error as Error).message.split('\n')[0]})`);
    }
    onProgress?.(k + 1, files.length);
  });
  const all = new Uint8Array(images.length * height * width * channels);
  images.forEach((img, k) => all.set(img, k * img.length));
  return { set: { images: all, count: images.length, height, width, channels }, unreadable, tooLarge };
}

/** One PNG or JPEG, alpha composited on white, at the experiment's size. */
function decodeImage(file: string, height: number, width: number, channels: number): Uint8Array {
  const bytes = readFileSync(file);
  const decoded = /\.png$/i.test(file)
    ? PNG.sync.read(bytes)
    : jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6, maxMemoryUsageInMB: 512 });
  const rgb = new Uint8Array(decoded.width * decoded.height * 3);
  for (let p = 0; p < decoded.width * decoded.height; p++) {
    const alpha = decoded.data[p * 4 + 3] / 255;
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round(decoded.data[p * 4 + c] * alpha + 255 * (1 - alpha));
  }
  return fitImages({ images: rgb, count: 1, height: decoded.height, width: decoded.width, channels: 3 }, height, width, channels).images;
}

/**
 * The experiment's images at its size. `experimentText` lets a missing path be reported at its line and column.
 */
export function loadImages(e: Experiment, experimentFile: string, experimentText: string, options: { onProgress?: LoadProgress } = {}): LoadedImages {
  const dir = path.dirname(path.resolve(experimentFile));
  const warnings: string[] = [];
  let set: ImageSet;
  let source: string;
  if (e.data.dataset === 'idx' || e.data.dataset === 'folder') {
    const target = path.resolve(dir, e.data.path!);
    const wantFolder = e.data.dataset === 'folder';
    const stat = existsSync(target) ? statSync(target) : null;
    // Only regular files and folders: opening a FIFO or a device could block for good.
    if (!(wantFolder ? stat?.isDirectory() : stat?.isFile())) {
      const what = wantFolder ? 'folder' : 'file';
      throw new ExperimentError(experimentFile, [problemAt(experimentText, 'data.path', `data.path: no such ${what}: ${target}`)]);
    }
    if (wantFolder) {
      const shape = imageShape(e);
      const read = readFolder(target, shape.height, shape.width, shape.channels, options.onProgress);
      if (read.unreadable.length) warnings.push(`skipped ${read.unreadable.length} unreadable image file(s) in ${target}: ${read.unreadable.join(', ')}`);
      if (read.tooLarge.length) {
        const side = Math.sqrt(MAX_IMAGE_PIXELS);
        warnings.push(`skipped ${read.tooLarge.length} image(s) larger than ${side}×${side} pixels in ${target} (not decoded): ${read.tooLarge.join(', ')}`);
      }
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
  const fitted = fitImages(set, shape.height, shape.width, shape.channels);
  if (e.data.dataset !== 'folder') options.onProgress?.(1, 1);
  // A plain Uint8Array, never a Node Buffer (what gunzipSync and readFileSync give): VS Code's webview messaging
  // passes typed arrays as binary but a Buffer as JSON.
  return { set: { ...fitted, images: plainBytes(fitted.images) }, source, warnings };
}

/**
 * The same bytes as a plain Uint8Array over exactly its own memory: kept as they are when they already are (a big
 * gunzip result is), copied otherwise (a Node Buffer, or a view into a shared pool, would carry or expose memory that
 * is not theirs when sent on).
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.constructor === Uint8Array && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  return new Uint8Array(bytes);
}

/** A seeded choice of `count` images. */
function choose(set: ImageSet, count: number, seed: number): ImageSet {
  const size = set.height * set.width * set.channels;
  const chosen = permutation(set.count, seed ^ 0x5bd1e995).slice(0, count);
  const images = new Uint8Array(count * size);
  chosen.forEach((index, k) => images.set(set.images.subarray(index * size, (index + 1) * size), k * size));
  return { ...set, images, count };
}
