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
  readonly model: Omit<ModelConfig, 'image' | 'head' | 'seed'>;
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

/** The model configuration an experiment describes, for images of the given shape. */
export function modelConfigOf(e: Experiment, image: ModelConfig['image']): ModelConfig {
  return {
    ...e.model,
    image,
    head: e.data.levels === 2 ? { kind: 'bernoulli' } : { kind: 'categorical', levels: e.data.levels },
    seed: e.training.seed,
  };
}

