/**
 * Every model runs forward and backward on WebGPU and matches the cpu backend within 1e-4. WebGPU comes from
 * Dawn (npm `webgpu`) on SwiftShader's Vulkan driver, shipped with Debian's chromium package.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODEL_TYPES } from '../../src/model/config';
import { nllNats } from '../../src/model/heads';
import { createModel } from '../../src/model/index';
import type { BackendChoice } from '../../src/backend/select';
import { batchLoss } from '../../src/train/step';
import { BERNOULLI, CATEGORICAL, randomImages, randomizeWeights, smallConfig } from '../support/engine';

const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
let choice: BackendChoice;

beforeAll(async () => {
  if (!existsSync(ICD)) throw new Error(`${ICD} is missing: install Debian's chromium package (SwiftShader's Vulkan driver)`);
  process.env.VK_ICD_FILENAMES ??= ICD;
  process.env.XDG_RUNTIME_DIR ??= tmpdir();
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true });
  // The WebGPU backend registers itself on import only when navigator.gpu exists.
  const { selectBackend } = await import('../../src/backend/select');
  choice = await selectBackend('webgpu');
  await tf.setBackend('cpu');
});

/**
 * 'rgb': 3 colours, a categorical head, residual layers, mean NLL in nats. 'binary': 1 colour, a Bernoulli head,
 * plain layers (ReLUs after the convolutions), two layers, the trainer's loss (fused on WebGPU), images cast from
 * bool as the trainer makes them.
 */
type Variant = 'rgb' | 'binary';

async function forwardAndGradients(type: (typeof MODEL_TYPES)[number], backend: 'cpu' | 'webgpu', variant: Variant): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const config =
    variant === 'rgb'
      ? smallConfig(type, 3, CATEGORICAL, { image: { height: 6, width: 6, channels: 3 }, layers: 1, hidden: 6, outputHidden: 6 })
      : smallConfig(type, 1, BERNOULLI, { image: { height: 7, width: 5, channels: 1 }, layers: 2, hidden: 4, outputHidden: 5, residual: false });
  const { height, width, channels } = config.image;
  const model = createModel(config);
  randomizeWeights(model, 3);
  const pixels = tf.tensor4d(randomImages(config, 2, 4), [2, height, width, channels]);
  const x = variant === 'rgb' ? pixels : (tf.cast(tf.greater(pixels, 0.5), 'float32') as tf.Tensor4D);
  const loss = () => (variant === 'rgb' ? (tf.mean(nllNats(model.head, model.logits(x), x)) as tf.Scalar) : batchLoss(model, x));
  const { value, grads } = tf.variableGrads(loss, model.params.variables);
  const logits = model.logits(x);
  const out = [(await logits.data()) as Float32Array, (await value.data()) as Float32Array];
  for (const [, v] of model.params.named()) out.push((await grads[v.name].data()) as Float32Array);
  tf.dispose([pixels, x, value, logits, ...Object.values(grads)]);
  model.dispose();
  return out;
}

describe('WebGPU', () => {
  it('is selected, on a named adapter', () => {
    expect(choice.name).toBe('webgpu');
    expect(choice.fallbacks).toEqual([]);
    expect(choice.adapter).toMatch(/\w/);
  });

  const cases = (['rgb', 'binary'] as const).flatMap((variant) => MODEL_TYPES.map((type) => [type, variant] as const));
  it.each(cases)('%s, %s: logits, loss and every weight gradient match cpu within 1e-4', async (type, variant) => {
    const expected = await forwardAndGradients(type, 'cpu', variant);
    const actual = await forwardAndGradients(type, 'webgpu', variant);
    expect(actual.length).toBe(expected.length);
    actual.forEach((a, k) => {
      let diff = 0;
      let scale = 1e-6;
      a.forEach((v, e) => {
        diff = Math.max(diff, Math.abs(v - expected[k][e]));
        scale = Math.max(scale, Math.abs(expected[k][e]));
      });
      expect(diff / scale, `tensor ${k}`).toBeLessThanOrEqual(1e-4);
    });
  });
});
