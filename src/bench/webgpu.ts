/**
 * `pixel-lab bench --backend webgpu`: the WebGPU figures that mean something on any adapter — GPU dispatches and
 * queue submits per training step and per sampled pixel — beside ms per step (on a software adapter such as
 * SwiftShader that time means nothing; on a real GPU it is the number to compare with PyTorch CUDA).
 *
 *   training  batch 2, 28×28×1 binary, the reference layers of `bench`, Adam: one warm-up step (pipelines
 *             compiled, optimiser slots made), then one counted step, then `steps` timed ones;
 *   sampling  4 images of 10×10×1, 4 layers, h = 16: dispatches and submits per pixel, cached (PixelCNN, Gated
 *             PixelCNN: a dispatch a layer and one for the output stack and the draw, on the GPU), incremental (Row
 *             LSTM, Diagonal BiLSTM: on the CPU once the weights are read) and naive (every model).
 *
 * Submits: TF.js ends its compute pass and submits every WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE (15) dispatches. We
 * keep 15: with the fused programs a step is 46–288 dispatches (46 / 74 / 288 / 132 at the reference
 * configuration), so 4–20 submits, and nothing measured on a real GPU yet says another value is better (a larger
 * batch saves a few submits but starts the GPU later; a smaller one adds submits to steps already this short).
 * PIXEL_LAB_WEBGPU_SUBMIT_BATCH sets it for a try on a GPU (scripts/gpu-check.sh passes the environment on).
 * PIXEL_LAB_WEBGPU_FUSED=0 turns the fused programs off, for the counts before them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createOptimizer } from '../backend/webgpu/optimizers';
import { fusedEnabled } from '../backend/webgpu/program';
import { DEFAULT_MODEL, type ModelConfig } from '../model/config';
import { createModel } from '../model/index';
import { sample, type SamplingMethod } from '../model/sampling/index';
import { trainStep } from '../train/step';
import { countDispatches, dispatchesByKernel } from './dispatch-count';
import { REFERENCE } from './speed';

export const WEBGPU_BATCH = 2;
const SIZE = 28;

export interface WebGPUBenchOptions {
  readonly models?: string[];
  /** Timed steps after the counted one (default 1: SwiftShader takes seconds a step). */
  readonly steps?: number;
  readonly sampling?: boolean;
  /** false: sampling only. */
  readonly training?: boolean;
  /** Where the ms/step lines go besides stdout (gpu-check reads them). */
  readonly print?: (line: Record<string, unknown>) => void;
  /** Each counted step's dispatches by TF.js kernel too (`by_kernel`). */
  readonly byKernel?: boolean;
}

const print = (o: object) => console.log(JSON.stringify(o));
const round = (v: number) => Math.round(v * 10) / 10;

export interface TrainingCount {
  readonly dispatches: number;
  readonly submits: number;
  readonly ms: number[];
  readonly loss: number;
  /** The counted step's dispatches by kernel, when asked for. */
  readonly byKernel?: [string, number][];
}

/** Count one training step (after a warm-up step) and time `steps` more. */
export async function countTraining(config: ModelConfig, batch: number, steps: number, byKernel = false): Promise<TrainingCount> {
  const model = createModel(config);
  // The optimiser the project trains with (TF.js's Adam; its update fused on webgpu).
  const optimizer = createOptimizer('adam', 1e-3);
  const { height, width, channels } = config.image;
  const x = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([batch, height, width, channels], 0, 1, 'float32', 1), 0.5), 'float32')) as tf.Tensor4D;
  try {
    await trainStep(model, optimizer, x);
    const counted = await countDispatches(() => trainStep(model, optimizer, x));
    const kernels = byKernel ? (await dispatchesByKernel('webgpu', () => trainStep(model, optimizer, x))).byKernel : undefined;
    const ms: number[] = [];
    let loss = counted.result;
    for (let s = 0; s < steps; s++) {
      const start = performance.now();
      loss = await trainStep(model, optimizer, x);
      ms.push(performance.now() - start);
    }
    return { dispatches: counted.dispatches, submits: counted.submits, ms, loss, byKernel: kernels };
  } finally {
    tf.dispose([x]);
    optimizer.dispose();
    model.dispose();
  }
}

/** The sampling configuration of issue 12 §3: 10×10×1, 4 layers, h = 16, otherwise the defaults (residual). */
export function samplingConfig(type: ModelConfig['type']): ModelConfig {
  return { ...DEFAULT_MODEL, type, image: { height: 10, width: 10, channels: 1 }, head: { kind: 'bernoulli' }, layers: 4, hidden: 16 };
}

/** Dispatches and submits per pixel when sampling `count` images. */
export async function countSampling(config: ModelConfig, method: SamplingMethod, count: number): Promise<{ dispatches: number; submits: number; ms: number }> {
  const model = createModel(config);
  try {
    const pixels = config.image.height * config.image.width * config.image.channels;
    const start = performance.now();
    const counted = await countDispatches(() => sample(model, { count, seed: 1, method }));
    return { dispatches: counted.dispatches / pixels, submits: counted.submits / pixels, ms: performance.now() - start };
  } finally {
    model.dispose();
  }
}

export async function runWebGPUBench(options: WebGPUBenchOptions = {}): Promise<void> {
  if (tf.getBackend() !== 'webgpu') throw new Error(`the WebGPU bench needs the webgpu backend, not ${tf.getBackend()}`);
  const out = options.print ?? print;
  const steps = options.steps ?? 1;
  const models = options.models ?? Object.keys(REFERENCE);
  out({
    bench: 'environment',
    backend: 'webgpu',
    adapter: describeAdapter(),
    tfjs: tf.version_core,
    submit_batch: tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE'),
    fused: fusedEnabled(),
  });
  for (const name of options.training === false ? [] : models) {
    const entry = REFERENCE[name];
    if (!entry) throw new Error(`unknown model '${name}' (one of ${Object.keys(REFERENCE).join(', ')})`);
    const config = { ...entry.config, image: { height: SIZE, width: SIZE, channels: 1 as const } };
    const c = await countTraining(config, WEBGPU_BATCH, steps, options.byKernel);
    out({
      bench: 'train',
      model: name,
      backend: 'webgpu',
      batch: WEBGPU_BATCH,
      dispatches_per_step: c.dispatches,
      submits_per_step: c.submits,
      median_ms: c.ms.length ? round([...c.ms].sort((a, b) => a - b)[Math.floor(c.ms.length / 2)]) : null,
      loss: Math.round(c.loss * 1e4) / 1e4,
      ...(c.byKernel ? { by_kernel: Object.fromEntries(c.byKernel) } : {}),
    });
  }
  if (!(options.sampling ?? true)) return;
  for (const name of models) {
    const config = samplingConfig(name as ModelConfig['type']);
    const methods: SamplingMethod[] = config.type === 'pixelcnn' || config.type === 'gated-pixelcnn' ? ['cached', 'naive'] : ['incremental', 'naive'];
    for (const method of methods) {
      const s = await countSampling(config, method, 4);
      out({
        bench: 'sample',
        model: name,
        method,
        backend: 'webgpu',
        images: 4,
        size: '10x10x1',
        dispatches_per_pixel: round(s.dispatches),
        submits_per_pixel: round(s.submits),
        ms: Math.round(s.ms),
      });
    }
  }
}

function describeAdapter(): string {
  const info = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string; description?: string } }).adapterInfo;
  return [info?.description, info?.vendor, info?.architecture].filter((s) => s).join(', ') || 'unknown adapter';
}
