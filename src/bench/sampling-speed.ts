/**
 * `npm run bench`, the recurrent models' sampling line: naive (the whole network on the rows so far, once per
 * pixel) against incremental (the recurrent states carried) for 16 images at the shipped MNIST examples' sizes,
 * timed back to back on the current backend (wasm in Node), each a whole grid from the same seed, after one
 * incremental warm-up grid.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { imageShape, modelConfigOf, parseExperiment } from '../experiment/experiment';
import type { ModelConfig } from '../model/config';
import { createModel } from '../model/index';
import { sample, type SamplingMethod } from '../model/sampling/index';
import { packageRoot } from '../runs/package-root';

export const INCREMENTAL_EXAMPLES: Record<string, string> = {
  'row-lstm': 'mnist-row-lstm.pixel.json',
  'diagonal-bilstm': 'mnist-diagonal-bilstm.pixel.json',
};

const COUNT = 16;

/** The model configuration of a shipped example. */
export function exampleConfig(file: string): ModelConfig {
  const full = path.join(packageRoot(), 'examples', file);
  const experiment = parseExperiment(readFileSync(full, 'utf8'), full);
  return modelConfigOf(experiment, imageShape(experiment));
}

export interface IncrementalTiming {
  readonly naiveMs: number;
  readonly incrementalMs: number;
  readonly identical: boolean;
}

export async function timeIncremental(config: ModelConfig, count = COUNT): Promise<IncrementalTiming> {
  const model = createModel(config);
  const timed = async (method: SamplingMethod) => {
    const start = performance.now();
    const images = await sample(model, { count, seed: 1, method });
    return { ms: performance.now() - start, images };
  };
  try {
    await timed('incremental');
    const incremental = await timed('incremental');
    const naive = await timed('naive');
    return { naiveMs: naive.ms, incrementalMs: incremental.ms, identical: naive.images.every((v, k) => v === incremental.images[k]) };
  } finally {
    model.dispose();
  }
}

/** One JSON line per recurrent model in `models`. */
export async function benchIncrementalSampling(models: string[], print: (line: object) => void): Promise<void> {
  for (const name of models) {
    const file = INCREMENTAL_EXAMPLES[name];
    if (!file) continue;
    const config = exampleConfig(file);
    const t = await timeIncremental(config);
    const { height, width, channels } = config.image;
    print({
      bench: 'sample',
      model: name,
      example: file,
      images: COUNT,
      size: `${height}x${width}x${channels}`,
      layers: config.layers,
      hidden: config.hidden,
      naive_ms: Math.round(t.naiveMs),
      incremental_ms: Math.round(t.incrementalMs),
      speedup: Math.round((t.naiveMs / t.incrementalMs) * 10) / 10,
      target_speedup: 10,
      identical_samples: t.identical,
    });
  }
}
