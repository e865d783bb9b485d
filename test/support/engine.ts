/** Shared test setup: a TF.js backend, small model configurations, seeded random images. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { HeadConfig, ModelConfig, ModelType } from '../../src/model/config';
import type { PixelModel } from '../../src/model/model';
import { headLevels } from '../../src/model/config';
import { Random } from '../../src/model/random';

export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (name === 'wasm') {
    const { useWasmInNode } = await import('../../src/backend/node');
    await useWasmInNode();
  } else {
    await tf.setBackend(name);
    await tf.ready();
  }
}

export const BERNOULLI: HeadConfig = { kind: 'bernoulli' };
export const CATEGORICAL: HeadConfig = { kind: 'categorical', levels: 4 };

export function smallConfig(type: ModelType, channels: 1 | 3, head: HeadConfig, overrides: Partial<ModelConfig> = {}): ModelConfig {
  return {
    type,
    image: { height: 7, width: 7, channels },
    head,
    layers: 2,
    // Four features per colour group: with fewer, ReLUs that are off for every test image hide real paths.
    hidden: 4 * channels,
    firstKernel: 3,
    kernel: 3,
    residual: true,
    outputHidden: 4 * channels,
    seed: 11,
    ...overrides,
  };
}

/** Images of uniformly random pixel values, [n, H, W, C] flattened. */
export function randomImages(config: ModelConfig, n: number, seed: number): Float32Array {
  const { height, width, channels } = config.image;
  const levels = headLevels(config.head);
  const rng = new Random(seed);
  return Float32Array.from({ length: n * height * width * channels }, () => rng.int(levels));
}

/**
 * Give every parameter a random value: "random weights" in the structural-map sense. Biases are drawn positive
 * so that ReLUs are mostly on: a unit that is off for every test image would hide a real dependency.
 */
export function randomizeWeights(model: PixelModel, seed: number): void {
  tf.tidy(() => {
    for (const [name, v] of model.params.named()) {
      const key = `${seed}/${name}`;
      v.assign(name.endsWith('/bias') ? tf.randomUniform(v.shape, 1, 2, 'float32', key) : tf.mul(tf.randomUniform(v.shape, -1, 1, 'float32', key), 0.35));
    }
  });
}
