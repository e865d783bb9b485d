/**
 * Checks only the whole experiment shows, made after the schema's: the data file or folder must be there (an IDX
 * file's header says how many channels its images have), the model must fit the images it will see, and training
 * must fit in memory. Each problem is a JSON path and a message; the parser places them in the file.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { readIdxImageShape } from '../data/idx-file';
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

/** The shape of the dataset's own images: the bundled ones', or an IDX file's header; with the problems met. */
export function datasetShape(data: { dataset: DatasetName; path?: string }, experimentFile: string): { shape?: ImageShape; problems: PathProblem[] } {
  if (data.dataset !== 'idx' && data.dataset !== 'folder') return { shape: DATASET_SHAPES[data.dataset], problems: [] };
  const target = path.resolve(path.dirname(path.resolve(dataPathsBase(experimentFile))), data.path ?? '');
  const wantFolder = data.dataset === 'folder';
  // Only regular files and folders: opening a FIFO or a device (/dev/stdin, say) could block for good.
  const stat = existsSync(target) ? statSync(target) : null;
  if (!(wantFolder ? stat?.isDirectory() : stat?.isFile())) return { problems: [['data.path', `data.path: no such ${wantFolder ? 'folder' : 'file'}: ${target}`]] };
  if (wantFolder) return { shape: DATASET_SHAPES.folder, problems: [] };
  try {
    const { height, width, channels } = readIdxImageShape(target);
    return { shape: { height, width, channels }, problems: [] };
  } catch (error) {
    return { problems: [['data.path', `data.path: ${(error as Error).message}`]] };
  }
}

/** What the model, the data and the memory estimate say about an experiment whose images have this shape. */
export function wholeExperimentProblems(e: Experiment, image: ImageShape): PathProblem[] {
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
    const need = trainingMemory(config, e.training.batchSize).bytes;
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
  if (e.data.dataset === 'idx' || e.data.dataset === 'folder') return [];
  const own = DATASET_CLASSES[e.data.dataset];
  if (own === null) {
    return [['model.conditional', `model.conditional needs a class label for every image, and the ${e.data.dataset} dataset has none (mnist and fashion-mnist do): remove it, or use labelled data`]];
  }
  if (classes !== undefined && classes < own) return [['model.classes', `model.classes is ${classes}, but ${e.data.dataset} has ${own} classes: it must be at least ${own}`]];
  return [];
}
