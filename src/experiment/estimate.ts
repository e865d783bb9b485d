/**
 * How much memory training a model takes, estimated before anything is built, so that an experiment that cannot
 * fit is refused with a number instead of aborting the backend minutes later (a 64-layer, h = 512 model on
 * 128×128 images once took wasm down after 21 s at 4.5 GB).
 *
 * The estimate counts float32 values (4 bytes each):
 *
 *   activations  = B · H · W · ( L · a(type) · h  +  8 · (2h + O)  +  20 · C · V )
 *   weights      = P                           (parameters; the masks of the masked kernels as many again)
 *   training     = activations + P · (1 value + 1 mask + 1 gradient + 2 optimiser slots) + data
 *   data         = (N + T) · H · W · C bytes (+ N + T bytes of labels), the images held in memory as bytes:
 *                  N training (with validation) images and T official test images
 *
 * B batch, H×W image, C channels, L layers, h hidden, O outputHidden, V values per channel's logits (1 for
 * binary data, `levels` otherwise), and a(type) the values one layer keeps per pixel and per hidden feature for
 * the backward pass. a(type) was measured with `tf.profile` (peak bytes of one Adam step on the wasm backend,
 * 8×8 and 16×16 images, h 12 and 24, 1 and 3 layers): PixelCNN 42–66, Gated PixelCNN 67–74, Row LSTM
 * 102–130, Diagonal BiLSTM 482–502 (it keeps every diagonal step of both directions). The constants below are
 * those maxima plus about 10%, so the estimate errs high; `test/unit/estimate.test.ts` checks it against the
 * measured peak. The input and output stacks (the second and third terms) and P are upper bounds read off the
 * layer shapes (src/model/*.ts).
 */
import type { ModelConfig, ModelType } from '../model/config';

/**
 * Training above this is refused. TF.js's WebAssembly backend keeps every tensor in one wasm32 heap, which cannot
 * grow past 4 GiB (and must be copied to grow); the dataset, the structural field the panel draws and the heap's
 * fragmentation need room beside the tensors, and a browser tab (the panel) is killed well before the machine's
 * memory runs out. 3 GiB of tensors leaves about 1 GiB of that heap for the rest; the shipped examples need at
 * most 1.8 GiB (the Diagonal BiLSTM on MNIST at batch 16).
 */
export const TRAINING_MEMORY_LIMIT = 3 * 1024 ** 3;

/** Values kept per pixel, per layer and per hidden feature for the backward pass (see above). */
const ACTIVATIONS_PER_FEATURE: Record<ModelType, number> = {
  pixelcnn: 73,
  'gated-pixelcnn': 82,
  'row-lstm': 143,
  'diagonal-bilstm': 552,
};

export interface MemoryEstimate {
  /** Everything together, in bytes. */
  readonly bytes: number;
  readonly activationBytes: number;
  /** Weights, masks, gradients and the optimiser's two slots per weight. */
  readonly parameterBytes: number;
  /** An upper bound on the number of trainable parameters. */
  readonly parameters: number;
  /** The dataset held in memory: training and test images as bytes, and their labels. */
  readonly dataBytes: number;
}

/** The images training holds, where known: `images` of the training file (validation included), `testImages` of an
 *  official test set, and whether each has a label byte. */
export interface DataSize {
  readonly images: number;
  readonly testImages: number;
  readonly labelled?: boolean;
}

/** An upper bound on the trainable parameters of a model (weights and biases of every convolution, and the class
 *  embeddings of a conditional model). */
export function parameterBound(c: ModelConfig): number {
  const h = c.hidden;
  const k = c.kernel;
  const features = c.residual ? 2 * h : h;
  const values = c.head.kind === 'bernoulli' ? 1 : c.head.levels;
  const perLayer: Record<ModelType, number> = {
    // 1×1 down to h, k×k h → h, 1×1 back up to 2h.
    pixelcnn: h * h * (4 + k * k) + 4 * h,
    // Vertical k×k and horizontal 1×k stacks, each to 2h (gates), the links between them and the 1×1 outputs.
    'gated-pixelcnn': h * h * (4 * k * k + 8) + 8 * h,
    // Input-to-state 1×k from 2h to 4h, state-to-state 1×k from h to 4h, 1×1 up to 2h.
    'row-lstm': h * h * (12 * k + 2) + 8 * h,
    // Both directions: input-to-state 1×1 from 2h to 4h and state-to-state 2×1 from h to 4h; 1×1 up to 2h.
    'diagonal-bilstm': 40 * h * h + 16 * h,
  };
  const input = c.image.channels * features * Math.max(c.firstKernel, 1) ** 2 + features;
  const outputHidden = c.outputHidden > 0 ? c.outputHidden : features;
  const output = features * c.outputHidden + outputHidden * c.image.channels * values + c.outputHidden + c.image.channels * values;
  // Conditional models: a row of V per class for each conditioned pre-activation (src/model/*.ts, `…-class`).
  const classFeatures: Record<ModelType, number> = { pixelcnn: h, 'gated-pixelcnn': 4 * h, 'row-lstm': 4 * h, 'diagonal-bilstm': 8 * h };
  const classes = (c.classes ?? 0) * (c.layers * classFeatures[c.type] + (c.type === 'pixelcnn' ? features : 0));
  return c.layers * perLayer[c.type] + input + output + classes;
}

/** The memory one training step of `c` takes at this batch size, with Adam or RMSProp (two slots per weight), with
 *  the dataset's images (the official test set's too) when `data` says how many there are. */
export function trainingMemory(c: ModelConfig, batchSize: number, data: DataSize = { images: 0, testImages: 0 }): MemoryEstimate {
  const { height, width, channels } = c.image;
  const values = c.head.kind === 'bernoulli' ? 1 : c.head.levels;
  const perPixel = c.layers * ACTIVATIONS_PER_FEATURE[c.type] * c.hidden + 8 * (2 * c.hidden + c.outputHidden) + 20 * channels * values;
  const activationBytes = 4 * batchSize * height * width * perPixel;
  const parameters = parameterBound(c);
  const parameterBytes = 4 * parameters * 5;
  const images = data.images + data.testImages;
  const dataBytes = images * height * width * channels + (data.labelled ? images : 0);
  return { bytes: activationBytes + parameterBytes + dataBytes, activationBytes, parameterBytes, parameters, dataBytes };
}

/** "340 MiB", "9.3 GiB", "1,900 GiB". */
export function formatBytes(bytes: number): string {
  const gib = bytes / 1024 ** 3;
  if (gib >= 100) return `${Math.round(gib).toLocaleString('en-US')} GiB`;
  if (gib >= 1) return `${Number(gib.toFixed(1))} GiB`;
  return `${Math.max(1, Math.round(bytes / 1024 ** 2))} MiB`;
}
