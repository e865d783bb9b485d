/**
 * Incremental sampling of the Row LSTM and the Diagonal BiLSTM: carrying the recurrent states gives every pixel
 * the logits of the full network, so it draws exactly the naive sampler's images for the same seed — 1 and 3
 * channels, both heads, with and without residual connections, the Row LSTM that reads the image directly.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/model/config';
import type { DiagonalBiLSTM } from '../../src/model/diagonal-bilstm';
import { createModel } from '../../src/model/index';
import type { RowLSTM } from '../../src/model/row-lstm';
import { fastMethod, sample } from '../../src/model/sampling/index';
import { IncrementalDiagonalBiLSTM } from '../../src/model/sampling/incremental-diagonal-bilstm';
import { IncrementalRowLSTM } from '../../src/model/sampling/incremental-row-lstm';
import type { PixelStepper, SampleImages } from '../../src/model/sampling/stepper';
import type { PixelModel } from '../../src/model/model';
import { BERNOULLI, CATEGORICAL, randomImages, randomizeWeights, smallConfig, useBackend } from '../support/engine';

beforeAll(() => useBackend('wasm'));

const image = (channels: 1 | 3) => ({ image: { height: 6, width: 5, channels } });
const cases: ModelConfig[] = [];
for (const type of ['row-lstm', 'diagonal-bilstm'] as const) {
  for (const channels of [1, 3] as const) {
    for (const head of [BERNOULLI, CATEGORICAL]) cases.push(smallConfig(type, channels, head, image(channels)));
    cases.push(smallConfig(type, channels, CATEGORICAL, { ...image(channels), residual: false, layers: 3 }));
  }
}
// The Row LSTM whose first layer reads the image through its 1×k mask-A input-to-state kernel.
for (const channels of [1, 3] as const) {
  cases.push(smallConfig('row-lstm', channels, CATEGORICAL, { ...image(channels), firstKernel: 0 }));
  cases.push(smallConfig('row-lstm', channels, BERNOULLI, { ...image(channels), firstKernel: 0, residual: false, kernel: 5 }));
}
cases.push(smallConfig('row-lstm', 1, BERNOULLI, { ...image(1), firstKernel: 5, kernel: 5, outputHidden: 0 }));
cases.push(smallConfig('diagonal-bilstm', 1, BERNOULLI, { ...image(1), firstKernel: 5, outputHidden: 0, layers: 1 }));

const label = (c: ModelConfig) =>
  `${c.type} ${c.image.channels}ch ${c.head.kind}${c.residual ? '' : ' plain'} k${c.firstKernel}/${c.kernel} ${c.layers} layers`;

function maxRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1e-6;
  for (let k = 0; k < a.length; k++) {
    diff = Math.max(diff, Math.abs(a[k] - b[k]));
    scale = Math.max(scale, Math.abs(b[k]));
  }
  return diff / scale;
}

function stepper(model: PixelModel, images: SampleImages): Promise<PixelStepper> {
  return model.config.type === 'row-lstm'
    ? IncrementalRowLSTM.create(model as RowLSTM, images)
    : IncrementalDiagonalBiLSTM.create(model as DiagonalBiLSTM, images);
}

describe.each(cases.map((c) => [label(c), c] as const))('incremental sampling, %s', (_, config) => {
  const { height: H, width: W, channels: C } = config.image;

  it('gives every pixel and channel the logits of the full network', async () => {
    const model = createModel(config);
    randomizeWeights(model, 4);
    const N = 2;
    const data = Uint8Array.from(randomImages(config, N, 3));
    const steps = await stepper(model, { data, count: N, height: H, width: W, channels: C });
    const full = tf.tidy(() => model.logits(tf.tensor4d(Float32Array.from(data), [N, H, W, C])));
    const all = await full.data();
    const perPixel = all.length / (N * H * W);
    const L = perPixel / C;
    let worst = 0;
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        for (let c = 0; c < C; c++) {
          const got = await steps.logitsAt(i, j, c);
          expect(got.length).toBe(N * perPixel);
          for (let n = 0; n < N; n++) {
            // Channel c's logits (and those before it) are the ones that are meaningful now.
            const want = all.subarray(((n * H + i) * W + j) * perPixel, ((n * H + i) * W + j) * perPixel + (c + 1) * L);
            worst = Math.max(worst, maxRelativeDifference(got.subarray(n * perPixel, n * perPixel + (c + 1) * L), want));
          }
        }
      }
    }
    expect(worst).toBeLessThan(1e-4);
    steps.dispose();
    full.dispose();
    model.dispose();
  });

  it('draws exactly the naive sampler’s images for the same seed, also when completing and at another temperature', async () => {
    const model = createModel(config);
    randomizeWeights(model, 5);
    expect(fastMethod(model)).toBe('incremental');
    const naive = await sample(model, { count: 3, seed: 21, method: 'naive' });
    const incremental = await sample(model, { count: 3, seed: 21 });
    expect([...incremental]).toEqual([...naive]);
    const prefix = { images: Uint8Array.from(randomImages(config, 3, 8)), rows: 2 };
    const naiveDone = await sample(model, { count: 3, seed: 4, temperature: 0.7, method: 'naive', prefix });
    const done = await sample(model, { count: 3, seed: 4, temperature: 0.7, method: 'incremental', prefix });
    expect([...done]).toEqual([...naiveDone]);
    model.dispose();
  });
});

describe('incremental sampling controls', () => {
  it('is refused for the convolutional models, with a clear message', async () => {
    const model = createModel(smallConfig('pixelcnn', 1, BERNOULLI));
    await expect(sample(model, { count: 1, seed: 1, method: 'incremental' })).rejects.toThrow(/incremental sampling is available for unconditional Row LSTM/);
    model.dispose();
  });

  it('reports every row and stops after the row whose callback returns false, leaving no tensor behind', async () => {
    const model = createModel(smallConfig('diagonal-bilstm', 1, BERNOULLI));
    const before = tf.memory().numTensors;
    const rows: number[] = [];
    let pixels = 0;
    const images = await sample(model, { count: 2, seed: 1, onRow: (row) => (rows.push(row), row < 2), onPixel: () => void pixels++ });
    expect(rows).toEqual([0, 1, 2]);
    expect(pixels).toBe(3 * 7);
    expect([...images.subarray(3 * 7, 7 * 7)].every((v) => v === 0)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
