/**
 * `pixel-lab bench` (`npm run bench`): speed, measured, as ratios against the PyTorch reference run back to back
 * on this machine.
 *
 *   training  ms per step (median of ≥ 10 after warm-up) of each model on wasm (batch 16, 28×28×1 binary,
 *             32 channels, Adam), beside PyTorch's own single-threaded time for the same model: the PyTorch twin
 *             (python/pixel_lab) built from the very same configuration (reference/twin_step.py), so the two time
 *             the same architecture by construction;
 *   sampling  16 PixelCNN images, 28×28 binary: naive (a cropped forward pass per pixel) against cached; and
 *             16 images of the shipped MNIST Row LSTM and Diagonal BiLSTM examples: naive against incremental
 *             (./sampling-speed.ts).
 *   hover     the panel's gradient map of one output pixel, for each shipped example (examples/mnist-*.pixel.json,
 *             28×28 binary, fresh weights): before — a cropped forward and backward pass per hover (gradientMap) —
 *             against after — the image's forward pass kept, a cropped backward pass per hover (imageGradients);
 *             median and max ms per hover over the corners, the centre, the last row and seeded positions, the two
 *             timed back to back at each position; first_hover_ms: an image's first hover (its forward pass too).
 *
 * Prints one JSON object per line. The Python with torch: $PIXEL_LAB_PYTHON, python3 or /usr/bin/python3, the first
 * that imports torch (Debian's python3-torch).
 */
import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { ModelConfig, ModelType } from '../model/config';
import { createModel } from '../model/index';
import type { PixelModel } from '../model/model';
import { readFileSync } from 'node:fs';
import { parseExperiment } from '../experiment/experiment';
import { modelConfigOf } from '../experiment/types';
import { gradientMap } from '../model/dependency';
import { imageGradients } from '../model/image-gradients';
import { Random } from '../model/random';
import { sample } from '../model/sampling/index';
import { packageRoot } from '../runs/package-root';
import { trainStep } from '../train/step';
import { benchIncrementalSampling } from './sampling-speed';
import { findTorchPython, twinRoot } from './twin';

const BATCH = 16;
const SIZE = 28;
const WARMUP = 3;

/** The configurations timed, in both engines (the shapes of the former reference/bench_torch.py). */
export const REFERENCE: Record<string, { config: ModelConfig; target: number | null }> = {
  pixelcnn: {
    target: 4,
    config: reference('pixelcnn', { layers: 4, hidden: 32, firstKernel: 7, kernel: 3, outputHidden: 32 }),
  },
  'row-lstm': {
    target: 1.5,
    config: reference('row-lstm', { layers: 1, hidden: 32, firstKernel: 0, kernel: 3, outputHidden: 0 }),
  },
  'diagonal-bilstm': {
    target: 1.5,
    config: reference('diagonal-bilstm', { layers: 1, hidden: 32, firstKernel: 7, kernel: 3, outputHidden: 0 }),
  },
  'gated-pixelcnn': {
    target: null,
    config: reference('gated-pixelcnn', { layers: 4, hidden: 32, firstKernel: 7, kernel: 3, outputHidden: 32 }),
  },
};

function reference(type: ModelType, shape: Pick<ModelConfig, 'layers' | 'hidden' | 'firstKernel' | 'kernel' | 'outputHidden'>): ModelConfig {
  return { type, image: { height: SIZE, width: SIZE, channels: 1 }, head: { kind: 'bernoulli' }, residual: false, seed: 0, ...shape };
}

export interface SpeedOptions {
  readonly models?: string[];
  readonly steps?: number;
  readonly torch?: boolean;
  readonly sampling?: boolean;
  /** The training benchmark; default true. */
  readonly train?: boolean;
  /** The hover benchmark (gradient maps); default true. */
  readonly hover?: boolean;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const round = (v: number) => Math.round(v * 10) / 10;
const print = (o: object) => console.log(JSON.stringify(o));

function randomBinary(n: number, seed: number): tf.Tensor4D {
  return tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([n, SIZE, SIZE, 1], 0, 1, 'float32', seed), 0.5), 'float32')) as tf.Tensor4D;
}

async function timeTraining(config: ModelConfig, steps: number): Promise<{ median: number; min: number; max: number; loss: number }> {
  const model = createModel(config);
  const optimizer = tf.train.adam(1e-3);
  const x = randomBinary(BATCH, 1);
  const times: number[] = [];
  let loss = NaN;
  for (let s = 0; s < WARMUP + steps; s++) {
    const start = performance.now();
    loss = await trainStep(model, optimizer, x);
    if (s >= WARMUP) times.push(performance.now() - start);
  }
  x.dispose();
  optimizer.dispose();
  model.dispose();
  return { median: median(times), min: Math.min(...times), max: Math.max(...times), loss };
}

interface TorchResult {
  median_ms: number;
  torch: string;
  threads: number;
}

let torchPython: ReturnType<typeof findTorchPython> | null = null;

/** The twin's time for the same configuration, single-threaded, `steps` steps after the same warm-up. */
function torchReference(config: ModelConfig, steps: number, enabled: boolean): TorchResult | { skipped: string } {
  if (!enabled) return { skipped: '--no-torch' };
  torchPython ??= findTorchPython();
  const python = torchPython.python;
  if (!python) return { skipped: torchPython.why };
  const script = path.join(packageRoot(), 'src', 'bench', 'reference', 'twin_step.py');
  try {
    const env = { ...process.env, PYTHONPATH: twinRoot(), TORCH_THREADS: '1', OMP_NUM_THREADS: '1' };
    const out = execFileSync(python, [script, JSON.stringify(config), String(steps), String(WARMUP)], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return JSON.parse(out.trim().split('\n').pop()!) as TorchResult;
  } catch (error) {
    const message = (error as { stderr?: string }).stderr || (error as Error).message;
    return { skipped: `PyTorch reference failed: ${message.trim().split('\n').pop()} (apt-get install -y python3-torch)` };
  }
}

async function benchSampling(): Promise<void> {
  const config = REFERENCE.pixelcnn.config;
  const model: PixelModel = createModel(config);
  const timed = async (method: 'naive' | 'cached') => {
    const start = performance.now();
    const images = await sample(model, { count: 16, seed: 1, method });
    return { ms: performance.now() - start, images };
  };
  await timed('cached'); // warm-up: kernels, operator caches
  const cached = await timed('cached');
  const naive = await timed('naive');
  const same = naive.images.every((v, k) => v === cached.images[k]);
  print({
    bench: 'sample',
    model: 'pixelcnn',
    images: 16,
    size: `${SIZE}x${SIZE}x1`,
    naive_ms: Math.round(naive.ms),
    cached_ms: Math.round(cached.ms),
    speedup: round(naive.ms / cached.ms),
    target_speedup: 10,
    identical_samples: same,
  });
  model.dispose();
}

/** The hover benchmark's model for a shipped example: its configuration at 28×28×1, fresh weights. */
function exampleConfig(name: string): ModelConfig {
  const file = path.join(packageRoot(), 'examples', `mnist-${name}.pixel.json`);
  return modelConfigOf(parseExperiment(readFileSync(file, 'utf8'), file), { height: SIZE, width: SIZE, channels: 1 });
}

async function benchHover(name: string): Promise<void> {
  const model = createModel(exampleConfig(name));
  const rng = new Random(7);
  const image = Float32Array.from({ length: SIZE * SIZE }, () => (rng.next() < 0.2 ? 1 : 0));
  const at: [number, number][] = [[0, 0], [0, SIZE - 1], [SIZE - 1, 0], [SIZE - 1, SIZE - 1], [SIZE >> 1, SIZE >> 1], [SIZE - 1, SIZE >> 1]];
  while (at.length < 16) at.push([rng.int(SIZE), rng.int(SIZE)]);
  // Warm-up: kernels, operator caches, both ways.
  await gradientMap(model, image, { i: 1, j: 1, c: 0 });
  await (await imageGradients(model, image)).map({ i: 1, j: 1, c: 0 });
  // Wall time, and the process's CPU time beside it: on a shared machine the wall time waits for other processes,
  // and the CPU time is close to what a quiet machine's wall time would be.
  const cpu = new Map<number[], number[]>();
  const timed = async <T>(f: () => Promise<T>, into: number[]): Promise<T> => {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const result = await f();
    const used = process.cpuUsage(cpuStart);
    into.push(performance.now() - start);
    if (!cpu.has(into)) cpu.set(into, []);
    cpu.get(into)!.push((used.user + used.system) / 1000);
    return result;
  };
  // An image's first hover, at each position: its forward pass down to that row, kept, and the first backward pass
  // (during training every hover is one: the weights change each step).
  const first: number[] = [];
  for (const [i, j] of at) await timed(async () => (await imageGradients(model, image)).map({ i, j, c: 0 }), first);
  // Then hovers of an image whose forward pass is kept, all of it (a hover in the last row took it).
  const cached = await imageGradients(model, image);
  await cached.map({ i: SIZE - 1, j: 0, c: 0 });
  const before: number[] = [];
  const after: number[] = [];
  let worstDifference = 0;
  for (const [k, [i, j]] of at.entries()) {
    // Each position twice, the order alternating, so neither way always runs first.
    for (const beforeFirst of k % 2 ? [false, true] : [true, false]) {
      const p = { i, j, c: 0 };
      let a: Float32Array;
      let b: Float32Array;
      if (beforeFirst) {
        a = await timed(() => gradientMap(model, image, p), before);
        b = await timed(() => cached.map(p), after);
      } else {
        b = await timed(() => cached.map(p), after);
        a = await timed(() => gradientMap(model, image, p), before);
      }
      for (let e = 0; e < a.length; e++) worstDifference = Math.max(worstDifference, Math.abs(a[e] - b[e]));
    }
  }
  // Medians: the machine may be shared, and a spike should not decide the ratio. Max: the target is every hover.
  print({
    bench: 'hover',
    model: name,
    backend: tf.getBackend(),
    size: `${SIZE}x${SIZE}x1`,
    positions: at.length,
    before_ms: round(median(before)),
    before_max_ms: round(Math.max(...before)),
    after_ms: round(median(after)),
    after_max_ms: round(Math.max(...after)),
    first_hover_ms: round(median(first)),
    first_hover_max_ms: round(Math.max(...first)),
    cpu_before_ms: round(median(cpu.get(before)!)),
    cpu_before_max_ms: round(Math.max(...cpu.get(before)!)),
    cpu_after_ms: round(median(cpu.get(after)!)),
    cpu_after_max_ms: round(Math.max(...cpu.get(after)!)),
    cpu_first_hover_max_ms: round(Math.max(...cpu.get(first)!)),
    speedup: round(median(before) / median(after)),
    target_ms: 100,
    max_difference: worstDifference,
    load: os.loadavg().map((l) => round(l)),
  });
  model.dispose();
}

/** Run the speed benchmark on the current backend (wasm in Node), printing JSON lines. */
export async function runSpeedBench(options: SpeedOptions = {}): Promise<void> {
  const steps = options.steps ?? 15;
  if (!(steps >= 10)) throw new Error('--steps must be at least 10');
  const models = options.models ?? Object.keys(REFERENCE);
  print({
    bench: 'environment',
    node: process.version,
    tfjs: tf.version_core,
    backend: tf.getBackend(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    steps,
    warmup: WARMUP,
  });
  for (const name of options.train === false ? [] : models) {
    const entry = REFERENCE[name];
    if (!entry) throw new Error(`unknown model '${name}' (one of ${Object.keys(REFERENCE).join(', ')})`);
    // Back to back: the reference first, then ours, so both see the same machine state.
    const torch = torchReference(entry.config, steps, options.torch ?? true);
    const ours = await timeTraining(entry.config, steps);
    const line: Record<string, unknown> = {
      bench: 'train',
      model: name,
      backend: tf.getBackend(),
      batch: BATCH,
      median_ms: round(ours.median),
      min_ms: round(ours.min),
      max_ms: round(ours.max),
      loss: Math.round(ours.loss * 1e4) / 1e4,
    };
    if ('median_ms' in torch) {
      Object.assign(line, { torch_median_ms: torch.median_ms, torch_version: torch.torch, torch_threads: torch.threads, ratio: Math.round((ours.median / torch.median_ms) * 100) / 100, target_ratio: entry.target });
    } else {
      Object.assign(line, { torch_skipped: torch.skipped });
    }
    print(line);
  }
  if (options.sampling ?? true) {
    if (models.includes('pixelcnn')) await benchSampling();
    await benchIncrementalSampling(models, print);
  }
  for (const name of models) if (!REFERENCE[name]) throw new Error(`unknown model '${name}' (one of ${Object.keys(REFERENCE).join(', ')})`);
  if (options.hover ?? true) for (const name of models) await benchHover(name);
}
