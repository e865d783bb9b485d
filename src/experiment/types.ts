/**
 * The experiment's types and what follows from them, without the schema validator: the panel's worker uses this
 * (the validator compiles code at run time, which a webview's content security policy forbids).
 */
import type { ModelConfig } from '../model/config';

export type DatasetName = 'mnist' | 'fashion-mnist' | 'emoji' | 'idx' | 'folder';
/** Where models can run, in the order tried: WebGPU, WebGL, WebAssembly, the CPU. */
export const BACKEND_ORDER = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];
export type BackendPreference = BackendName | 'auto';

export interface Experiment {
  readonly name: string;
  readonly description?: string;
  /** The architecture; the image shape and head follow from `data`, the initialisation seed from `training`. */
  readonly model: Omit<ModelConfig, 'image' | 'head' | 'seed' | 'classes'> & {
    /** Class-conditional: a learned per-class bias in every layer; needs a class label for every image. */
    readonly conditional?: boolean;
    /** The number of classes of a conditional model; default: the data's (its class names, else its largest label + 1). */
    readonly classes?: number;
  };
  readonly data: {
    readonly dataset: DatasetName;
    readonly path?: string;
    /** Undefined until the dataset is known (idx files carry their own size): see `imageShape`. */
    readonly height?: number;
    readonly width?: number;
    readonly channels?: 1 | 3;
    readonly levels: number;
    readonly binarize: 'fixed' | 'stochastic';
    readonly threshold: number;
    /** idx: an IDX labels file for `path` (one byte per image, the class index). */
    readonly labels?: string;
    /** idx: an IDX images file holding the official test set; `testLabels` its labels. */
    readonly test?: string;
    readonly testLabels?: string;
    /** Which images are tested on: the official test set (`test`), or a seeded `testFraction` of the images.
     *  Undefined: official when `test` is given, else random (see `splitOf`). */
    readonly split?: 'official' | 'random';
    readonly testFraction: number;
    /** Share of the training images held out (seeded by `seed`) to choose the best checkpoint; 0: none. */
    readonly validationFraction: number;
    readonly seed: number;
    readonly limit?: number;
  };
  readonly training: {
    readonly steps: number;
    readonly batchSize: number;
    readonly optimizer: 'adam' | 'rmsprop';
    readonly learningRate: number;
    readonly seed: number;
    readonly evalEvery: number;
    readonly evalImages: number;
    readonly sampleEvery: number;
    readonly checkpointEvery: number;
    readonly backend: BackendPreference;
  };
  readonly sampling: { readonly count: number; readonly temperature: number };
}

/** The shape of the dataset's own images, used where the experiment does not set one. */
export const DATASET_SHAPES: Record<Exclude<DatasetName, 'idx'>, { height: number; width: number; channels: 1 | 3 }> = {
  mnist: { height: 28, width: 28, channels: 1 },
  'fashion-mnist': { height: 28, width: 28, channels: 1 },
  emoji: { height: 32, width: 32, channels: 3 },
  folder: { height: 32, width: 32, channels: 3 },
};

/** The class names of the bundled datasets that carry labels (label k is names[k]). */
export const DATASET_CLASSES: Partial<Record<DatasetName, readonly string[]>> = {
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  'fashion-mnist': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
};

/** The split an experiment uses: `data.split`, else official when it names an official test set (`data.test`). */
export function splitOf(e: Pick<Experiment, 'data'>): 'official' | 'random' {
  return e.data.split ?? (e.data.test ? 'official' : 'random');
}

/** The classes a conditional experiment will have, as far as the file alone says: model.classes, or a bundled
 *  dataset's; undefined when only its data can tell (or when it is not conditional). */
export function staticClasses(e: Experiment): number | undefined {
  if (!e.model.conditional) return undefined;
  if (e.model.classes) return e.model.classes;
  return DATASET_CLASSES[e.data.dataset]?.length;
}

/** The data's side of a conditional model: how many classes, and their names when the data has them. */
export interface DataClasses {
  readonly classes: number;
  readonly classNames?: readonly string[];
}

/**
 * The classes of a conditional experiment, from its loaded images' labels (null when it is not conditional).
 * Throws, saying what is missing, when the images have no labels or a label is past model.classes: the callers
 * place the message at model.conditional (or model.classes).
 */
export function conditionalClasses(e: Experiment, set: { readonly count: number; readonly labels?: Uint8Array; readonly classNames?: readonly string[] }): DataClasses | null {
  if (!e.model.conditional) return null;
  const source = e.data.dataset === 'idx' || e.data.dataset === 'folder' ? `the ${e.data.dataset} data at ${e.data.path}` : `the ${e.data.dataset} images`;
  if (!set.labels) throw new Error(`model.conditional needs a class label for every image, and ${source} came without labels`);
  if (set.labels.length !== set.count) throw new Error(`model.conditional: ${source} have ${set.count} images but ${set.labels.length} labels`);
  let largest = 0;
  for (const k of set.labels) largest = Math.max(largest, k);
  const classes = e.model.classes ?? Math.max(set.classNames?.length ?? 0, largest + 1);
  if (largest >= classes) throw new Error(`model.classes is ${classes}, but ${source} have label ${largest}: model.classes must be at least ${largest + 1}`);
  if (classes < 2) throw new Error(`model.conditional: ${source} have a single class; a conditional model needs at least 2`);
  return { classes, ...(set.classNames ? { classNames: set.classNames } : {}) };
}

/** Features per layer and in the output stack when the experiment does not say: 16 and 32 for grey images; for RGB
 *  the same rounded up to a multiple of 3 (18 and 33), as the features are split into one group per colour. */
export function defaultFeatures(channels: number): { hidden: number; outputHidden: number } {
  const groups = channels === 3 ? 3 : 1;
  const roundUp = (n: number) => Math.ceil(n / groups) * groups;
  return { hidden: roundUp(16), outputHidden: roundUp(32) };
}

/** The experiment's image shape, given the size of the dataset's own images where it does not set one. */
export function imageShape(e: Experiment, own?: { height: number; width: number; channels: number }): ModelConfig['image'] {
  const base = own ?? (e.data.dataset === 'idx' ? undefined : DATASET_SHAPES[e.data.dataset]);
  const height = e.data.height ?? base?.height;
  const width = e.data.width ?? base?.width;
  const channels = e.data.channels ?? (base?.channels === 3 ? 3 : 1);
  if (!height || !width) throw new Error('the image size is not known before the IDX file is read');
  return { height, width, channels };
}

/**
 * The model configuration an experiment describes, for images of the given shape. A conditional experiment's
 * number of classes is model.classes, else `dataClasses` (the data's: conditionalClasses), else a bundled
 * dataset's; with none of them it throws.
 */
export function modelConfigOf(e: Experiment, image: ModelConfig['image'], dataClasses?: number): ModelConfig {
  const { conditional, classes: own, ...model } = e.model;
  const classes = conditional ? (own ?? dataClasses ?? staticClasses(e)) : undefined;
  if (conditional && !classes) throw new Error('model.conditional: the number of classes is not known before the data is read: set model.classes');
  return {
    ...model,
    ...(classes ? { classes } : {}),
    image,
    head: e.data.levels === 2 ? { kind: 'bernoulli' } : { kind: 'categorical', levels: e.data.levels },
    seed: e.training.seed,
  };
}

