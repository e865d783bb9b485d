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
import { DATASET_CLASSES, type Experiment, imageShape } from '../experiment/types';
import { permutation } from './batches';
import { idxImageShape, parseIdx } from './idx';
import { readIdxImageShape, readIdxLabelCount } from './idx-file';
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
function readIdxFile(file: string, declared: readonly number[]): { dims: number[]; data: Uint8Array } {
  const most = 4 + 4 * declared.length + declared.reduce((a, b) => a * b, 1);
  const raw = readFileSync(file);
  let bytes: Uint8Array = raw;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = gunzipSync(raw, { maxOutputLength: most });
    } catch (error) {
      throw new Error(`${file} cannot be un-gzipped within the ${most} bytes its header declares: ${(error as Error).message}`);
    }
  }
  return parseIdx(bytes, file);
}

function readIdxImages(file: string): ImageSet {
  const declared = readIdxImageShape(file);
  const { dims, data } = readIdxFile(file, [declared.count, declared.height, declared.width, declared.channels]);
  return { images: data, ...idxImageShape(dims, file) };
}

/** An IDX labels file's bytes (1-D, one per image). */
function readIdxLabels(file: string): Uint8Array {
  const { data } = readIdxFile(file, [readIdxLabelCount(file)]);
  return data;
}

/** Class names "0" … for labels that come without names (IDX files). */
function numberedClasses(labels: Uint8Array): string[] {
  let most = -1;
  for (const l of labels) most = Math.max(most, l);
  return Array.from({ length: most + 1 }, (_, k) => String(k));
}

/** Labels, checked against the images they label: a clear error naming both files and counts, at the key's line. */
function labelsFor(file: string, images: string, count: number, key: string, experimentFile: string, experimentText: string): Uint8Array {
  const labels = readIdxLabels(file);
  if (labels.length !== count) {
    throw new ExperimentError(experimentFile, [problemAt(experimentText, key, `${key}: ${file} holds ${labels.length.toLocaleString('en-US')} labels but ${images} holds ${count.toLocaleString('en-US')} images: a labels file needs one label per image`)]);
  }
  return labels;
}

/** Called after each file of a folder dataset (and once for the other datasets). */
export type LoadProgress = (done: number, total: number) => void;

interface FolderImages {
  readonly set: ImageSet;
  readonly unreadable: string[];
  readonly tooLarge: string[];
  /** Images beside class sub-folders: they belong to no class and are left out. */
  readonly unclassed: string[];
}

const IMAGE_FILE = /\.(png|jpe?g)$/i;

/** The image files directly in a folder, sorted. */
function imageFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .filter((f) => (f.isFile() || f.isSymbolicLink()) && IMAGE_FILE.test(f.name))
    .map((f) => f.name)
    .sort();
}

/**
 * A folder's images. When it holds sub-folders with images in them, each such sub-folder is a class (its name the
 * class name, sorted by name; label k is the k-th) and its images are labelled; images beside them are left out.
 */
function readFolder(folder: string, height: number, width: number, channels: number, onProgress?: LoadProgress): FolderImages {
  const classes = readdirSync(folder, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort()
    .filter((name) => imageFiles(path.join(folder, name)).length > 0);
  if (classes.length > 256) throw new Error(`${folder} has ${classes.length} class sub-folders; labels are bytes, so at most 256 classes`);
  const files: { file: string; label: number }[] = classes.length
    ? classes.flatMap((name, label) => imageFiles(path.join(folder, name)).map((f) => ({ file: path.join(name, f), label })))
    : imageFiles(folder).map((file) => ({ file, label: 0 }));
  const unclassed = classes.length ? imageFiles(folder) : [];
  const images: Uint8Array[] = [];
  const labels: number[] = [];
  const unreadable: string[] = [];
  const tooLarge: string[] = [];
  files.forEach(({ file, label }, k) => {
    try {
      const full = path.join(folder, file);
      // The header first: an image too large to decode safely is never decoded.
      const size = readImageSize(full);
      if (size.width * size.height > MAX_IMAGE_PIXELS) tooLarge.push(`${file} (${size.width}×${size.height})`);
      else {
        images.push(decodeImage(full, height, width, channels));
        labels.push(label);
      }
    } catch (error) {
      unreadable.push(`${file} (${(error as Error).message.split('\n')[0]})`);
    }
    onProgress?.(k + 1, files.length);
  });
  const all = new Uint8Array(images.length * height * width * channels);
  images.forEach((img, k) => all.set(img, k * img.length));
  const set: ImageSet = { images: all, count: images.length, height, width, channels, ...(classes.length ? { labels: Uint8Array.from(labels), classNames: classes } : {}) };
  return { set, unreadable, tooLarge, unclassed };
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
      if (read.unclassed.length) warnings.push(`left out ${read.unclassed.length} image(s) beside the class sub-folders of ${target} (they belong to no class): ${read.unclassed.join(', ')}`);
      if (read.set.count < 2) throw new Error(`${target} has ${read.set.count} readable PNG or JPEG image(s); at least 2 are needed`);
      set = read.set;
      const classes = read.set.classNames;
      source = `${read.set.count} images from ${target}${classes ? ` in ${classes.length} classes (${classes.join(', ')})` : ''}`;
    } else {
      set = readIdxImages(target);
      if (e.data.labels) {
        const labels = labelsFor(path.resolve(dir, e.data.labels), target, set.count, 'data.labels', experimentFile, experimentText);
        set = { ...set, labels };
      }
      source = `${set.count} images from ${target}${set.labels ? ' (labelled)' : ''}`;
      if (e.data.test) {
        const testFile = path.resolve(dir, e.data.test);
        if (!existsSync(testFile) || !statSync(testFile).isFile()) throw new ExperimentError(experimentFile, [problemAt(experimentText, 'data.test', `data.test: no such file: ${testFile}`)]);
        const test = readIdxImages(testFile);
        if (test.height !== set.height || test.width !== set.width || test.channels !== set.channels) {
          throw new ExperimentError(experimentFile, [problemAt(experimentText, 'data.test', `data.test: ${testFile} holds ${test.height}×${test.width}×${test.channels} images but ${target} holds ${set.height}×${set.width}×${set.channels}: the test set must be the same kind of image`)]);
        }
        const testLabels = e.data.testLabels ? labelsFor(path.resolve(dir, e.data.testLabels), testFile, test.count, 'data.testLabels', experimentFile, experimentText) : undefined;
        if (set.labels && !testLabels) throw new ExperimentError(experimentFile, [problemAt(experimentText, 'data.test', 'data.test: the training images have labels (data.labels), so the test set needs its own: add data.testLabels')]);
        set = withTestSet(limited(set, e), test, testLabels);
        source += ` and an official test set of ${test.count} from ${testFile}${testLabels ? ' (labelled)' : ''}`;
      }
      if (set.labels) set = { ...set, classNames: numberedClasses(set.labels) };
    }
  } else {
    const file = path.join(bundledDataDir(), `${e.data.dataset}-images.idx.gz`);
    if (!existsSync(file)) throw new Error(`the bundled ${e.data.dataset} dataset is not built (${file} is missing): run npm run build`);
    set = readIdxImages(file);
    const labelsFile = path.join(bundledDataDir(), `${e.data.dataset}-labels.idx.gz`);
    const names = DATASET_CLASSES[e.data.dataset];
    if (names && existsSync(labelsFile)) {
      const labels = readIdxLabels(labelsFile);
      if (labels.length !== set.count) throw new Error(`the bundled ${e.data.dataset} dataset is damaged: ${labelsFile} holds ${labels.length} labels but ${file} holds ${set.count} images: run npm run build`);
      set = { ...set, labels, classNames: names };
    }
    source = `${set.count} ${e.data.dataset} images (bundled${set.labels ? ', labelled' : ''})`;
  }
  set = limited(set, e);
  const shape = imageShape(e, set);
  const fitted = fitImages(set, shape.height, shape.width, shape.channels);
  if (e.data.dataset !== 'folder') options.onProgress?.(1, 1);
  // A plain Uint8Array, never a Node Buffer (what gunzipSync and readFileSync give): VS Code's webview messaging
  // passes typed arrays as binary but a Buffer as JSON.
  return { set: { ...fitted, images: plainBytes(fitted.images), ...(fitted.labels ? { labels: plainBytes(fitted.labels) } : {}) }, source, warnings };
}

/** The set with `data.limit` applied to its training images (once: a set with a test set appended is left as it is). */
function limited(set: ImageSet, e: Experiment): ImageSet {
  if (set.testCount) return set;
  return e.data.limit && e.data.limit < set.count ? choose(set, e.data.limit, e.data.seed) : set;
}

/** The official test set appended after the training images (and its labels after theirs). */
function withTestSet(set: ImageSet, test: ImageSet, testLabels: Uint8Array | undefined): ImageSet {
  const images = new Uint8Array(set.images.length + test.images.length);
  images.set(set.images);
  images.set(test.images, set.images.length);
  let labels: Uint8Array | undefined;
  if (set.labels && testLabels) {
    labels = new Uint8Array(set.count + test.count);
    labels.set(set.labels);
    labels.set(testLabels, set.count);
  }
  return { images, count: set.count + test.count, height: set.height, width: set.width, channels: set.channels, testCount: test.count, ...(labels ? { labels } : {}) };
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

/** A seeded choice of `count` images (with their labels). */
function choose(set: ImageSet, count: number, seed: number): ImageSet {
  const size = set.height * set.width * set.channels;
  const chosen = permutation(set.count, seed ^ 0x5bd1e995).slice(0, count);
  const images = new Uint8Array(count * size);
  chosen.forEach((index, k) => images.set(set.images.subarray(index * size, (index + 1) * size), k * size));
  const labels = set.labels ? Uint8Array.from(chosen, (index) => set.labels![index]) : undefined;
  return { ...set, images, count, ...(labels ? { labels } : {}) };
}
