/** The architecture of a model: everything needed to rebuild it, saved beside its weights. */

export type ModelType = 'pixelcnn' | 'row-lstm' | 'diagonal-bilstm' | 'gated-pixelcnn';
export const MODEL_TYPES: readonly ModelType[] = ['pixelcnn', 'row-lstm', 'diagonal-bilstm', 'gated-pixelcnn'];

export interface ImageShape {
  readonly height: number;
  readonly width: number;
  /** 1 (grey or binary) or 3 (RGB, predicted R → G → B within a pixel). */
  readonly channels: 1 | 3;
}

/** Bernoulli: one logit per pixel and channel (binary data). Categorical: a softmax over `levels` values. */
export type HeadConfig = { readonly kind: 'bernoulli' } | { readonly kind: 'categorical'; readonly levels: number };

export interface ModelConfig {
  readonly type: ModelType;
  readonly image: ImageShape;
  readonly head: HeadConfig;
  /** Residual blocks (PixelCNN), LSTM layers (Row / Diagonal), or gated layers (Gated PixelCNN). */
  readonly layers: number;
  /** h in the paper. With residual connections the layers carry 2h features between them, without, h. */
  readonly hidden: number;
  /** Size k of the first, mask-A convolution (k×k; 7 in the paper). 0: the first Row LSTM layer reads the image
   *  directly through its 1×k mask-A input-to-state kernel (Row LSTM only). */
  readonly firstKernel: number;
  /** Kernel width of the inner layers: PixelCNN k×k, Row LSTM 1×k input-to-state and state-to-state,
   *  Gated PixelCNN k×k. The Diagonal BiLSTM's kernels are fixed by the paper (1×1 and 2×1). */
  readonly kernel: number;
  readonly residual: boolean;
  /** Features of the ReLU – 1×1 – ReLU – 1×1 output stack; 0 for a single 1×1 output convolution. */
  readonly outputHidden: number;
  /** Seed of the weight initialisation. */
  readonly seed: number;
  /**
   * Class-conditional (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN Decoders", §2.3):
   * the number of classes K, each image's class adding a learned per-class bias V·h (h its one-hot class) to
   * every layer's pre-activations. Absent or 0: unconditional. At most 256 (labels are one byte per image).
   */
  readonly classes?: number;
}

/** The most classes a conditional model takes: a label is one byte per image. */
export const MAX_CLASSES = 256;

/** The number of classes a model is conditioned on; 0 when it is unconditional. */
export function classCount(c: ModelConfig): number {
  return c.classes ?? 0;
}

export const DEFAULT_MODEL: Omit<ModelConfig, 'type' | 'image' | 'head'> = {
  layers: 7,
  hidden: 16,
  firstKernel: 7,
  kernel: 3,
  residual: true,
  outputHidden: 32,
  seed: 1,
};

/** Features carried between layers. */
export function layerFeatures(c: ModelConfig): number {
  return c.residual ? 2 * c.hidden : c.hidden;
}

export function headLevels(head: HeadConfig): number {
  return head.kind === 'bernoulli' ? 2 : head.levels;
}

/** Every problem with a configuration, in words; empty when it can be built. */
export function configProblems(c: ModelConfig): string[] {
  const problems: string[] = [];
  const positiveInt = (v: number, name: string, min = 1) => {
    if (!Number.isInteger(v) || v < min) problems.push(`${name} must be an integer ≥ ${min}, got ${v}`);
  };
  positiveInt(c.image.height, 'image.height');
  positiveInt(c.image.width, 'image.width');
  if (c.image.channels !== 1 && c.image.channels !== 3) problems.push(`image.channels must be 1 or 3, got ${c.image.channels}`);
  if (c.head.kind === 'categorical') positiveInt(c.head.levels, 'head.levels', 2);
  if (c.head.kind === 'categorical' && c.head.levels > 256) problems.push(`head.levels must be ≤ 256, got ${c.head.levels}`);
  positiveInt(c.layers, 'layers', c.type === 'pixelcnn' ? 0 : 1);
  positiveInt(c.hidden, 'hidden');
  positiveInt(c.outputHidden, 'outputHidden', 0);
  if (c.classes !== undefined && c.classes !== 0) {
    if (!Number.isInteger(c.classes) || c.classes < 2 || c.classes > MAX_CLASSES) {
      problems.push(`classes must be an integer from 2 to ${MAX_CLASSES} for a class-conditional model, got ${c.classes}`);
    }
  }
  if (c.image.channels === 3) {
    for (const [name, n] of [['hidden', c.hidden], ['outputHidden', c.outputHidden]] as const) {
      if (n > 0 && n % 3 !== 0) problems.push(`${name} must be a multiple of 3 for RGB images (one group per colour), got ${n}`);
    }
  }
  const oddKernel = (k: number, name: string) => {
    if (!Number.isInteger(k) || k < 1 || k % 2 === 0) problems.push(`${name} must be an odd size ≥ 1, got ${k}`);
  };
  if (c.firstKernel !== 0 || c.type === 'pixelcnn' || c.type === 'gated-pixelcnn') oddKernel(c.firstKernel, 'firstKernel');
  if (c.type === 'pixelcnn' || c.type === 'gated-pixelcnn') {
    if (c.firstKernel < 3) problems.push(`firstKernel must be ≥ 3 for ${c.type}: a 1×1 mask-A kernel sees no pixel`);
  }
  if (c.type !== 'diagonal-bilstm') oddKernel(c.kernel, 'kernel');
  if (c.firstKernel === 0 && c.type === 'diagonal-bilstm') {
    problems.push('firstKernel must be ≥ 3 for diagonal-bilstm: its 1×1 mask-A input-to-state kernel would see no pixel');
  }
  if (c.firstKernel === 0 && c.type === 'row-lstm' && c.kernel < 3) {
    problems.push('kernel must be ≥ 3 when row-lstm reads the image directly: a 1×1 mask-A kernel sees no pixel');
  }
  return problems;
}

export function assertValidConfig(c: ModelConfig): void {
  const problems = configProblems(c);
  if (problems.length > 0) throw new Error(`invalid ${c.type} model: ${problems.join('; ')}`);
}
