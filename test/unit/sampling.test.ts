/**
 * Sampling: raster order, R → G → B, seeded, completion, temperature, progress — and the cached sampler of
 * PixelCNN / Gated PixelCNN computes the same distributions as the full network, so it draws exactly the same
 * images as the naive one for the same seed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { headLevels, type ModelConfig, MODEL_TYPES } from '../../src/model/config';
import { createModel } from '../../src/model/index';
import { sample } from '../../src/model/sampling/index';
import { CachedGatedPixelCNN } from '../../src/model/sampling/cached-gated-pixelcnn';
import { CachedPixelCNN } from '../../src/model/sampling/cached-pixelcnn';
import type { PixelModel } from '../../src/model/model';
import type { GatedPixelCNN } from '../../src/model/gated-pixelcnn';
import type { PixelCNN } from '../../src/model/pixelcnn';
import { BERNOULLI, CATEGORICAL, randomImages, randomizeWeights, smallConfig, useBackend } from '../support/engine';

beforeAll(() => useBackend('wasm'));

const cachedCases: ModelConfig[] = [];
for (const type of ['pixelcnn', 'gated-pixelcnn'] as const) {
  for (const channels of [1, 3] as const) {
    for (const head of [BERNOULLI, CATEGORICAL]) cachedCases.push(smallConfig(type, channels, head, { image: { height: 6, width: 5, channels } }));
  }
}
cachedCases.push(smallConfig('pixelcnn', 1, BERNOULLI, { residual: false, layers: 3, firstKernel: 5 }));
cachedCases.push(smallConfig('gated-pixelcnn', 3, CATEGORICAL, { residual: false, firstKernel: 5, kernel: 5 }));

const label = (c: ModelConfig) => `${c.type} ${c.image.channels}ch ${c.head.kind}${c.residual ? '' : ' plain'} k${c.firstKernel}/${c.kernel}`;

function maxRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1e-6;
  for (let k = 0; k < a.length; k++) {
    diff = Math.max(diff, Math.abs(a[k] - b[k]));
    scale = Math.max(scale, Math.abs(b[k]));
  }
  return diff / scale;
}

describe.each(cachedCases.map((c) => [label(c), c] as const))('cached sampling, %s', (_, config) => {
  const { height: H, width: W, channels: C } = config.image;

  it('gives every pixel the logits of the full network', async () => {
    const model = createModel(config);
    randomizeWeights(model, 4);
    const N = 2;
    const data = Uint8Array.from(randomImages(config, N, 3));
    const images = { data, count: N, height: H, width: W, channels: C };
    const stepper = config.type === 'pixelcnn' ? new CachedPixelCNN(model as PixelCNN, images) : new CachedGatedPixelCNN(model as GatedPixelCNN, images);
    const full = tf.tidy(() => model.logits(tf.tensor4d(Float32Array.from(data), [N, H, W, C])));
    const all = await full.data();
    const perPixel = all.length / (N * H * W);
    let worst = 0;
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        for (let c = 0; c < C; c++) {
          const got = await stepper.logitsAt(i, j, c);
          const want = new Float32Array(N * perPixel);
          for (let n = 0; n < N; n++) want.set(all.subarray(((n * H + i) * W + j) * perPixel, ((n * H + i) * W + j + 1) * perPixel), n * perPixel);
          // Only channel c's logits (and those before it) are meaningful at this point.
          const L = perPixel / C;
          for (let n = 0; n < N; n++) {
            const at = n * perPixel;
            worst = Math.max(worst, maxRelativeDifference(got.subarray(at, at + (c + 1) * L), want.subarray(at, at + (c + 1) * L)));
          }
        }
      }
    }
    expect(worst).toBeLessThan(1e-4);
    stepper.dispose();
    full.dispose();
    model.dispose();
  });

  it('draws exactly the same images as the naive sampler for the same seed, also when completing', async () => {
    const model = createModel(config);
    randomizeWeights(model, 5);
    const naive = await sample(model, { count: 3, seed: 21, method: 'naive' });
    const cached = await sample(model, { count: 3, seed: 21, method: 'cached' });
    expect([...cached]).toEqual([...naive]);
    const given = Uint8Array.from(randomImages(config, 3, 8));
    const prefix = { images: given, rows: 2 };
    const naiveDone = await sample(model, { count: 3, seed: 4, method: 'naive', prefix });
    const cachedDone = await sample(model, { count: 3, seed: 4, method: 'cached', prefix });
    expect([...cachedDone]).toEqual([...naiveDone]);
    model.dispose();
  });
});

describe('sampling, every model', () => {
  it.each(MODEL_TYPES.map((t) => [t]))('%s: row i of the logits is the same when the image is cropped to rows ≤ i', async (type) => {
    const config = smallConfig(type, 3, CATEGORICAL);
    const model = createModel(config);
    randomizeWeights(model, 6);
    const { height: H, width: W, channels: C } = config.image;
    const x = randomImages(config, 2, 9);
    const full = await tf.tidy(() => model.logits(tf.tensor4d(x, [2, H, W, C]))).data();
    const perRow = full.length / (2 * H);
    for (const i of [0, 3, H - 2]) {
      const rows = new Float32Array(2 * (i + 1) * W * C);
      for (let n = 0; n < 2; n++) rows.set(x.subarray(n * H * W * C, n * H * W * C + (i + 1) * W * C), n * (i + 1) * W * C);
      const cropped = await tf.tidy(() => model.logits(tf.tensor4d(rows, [2, i + 1, W, C]))).data();
      for (let n = 0; n < 2; n++) {
        const got = cropped.subarray((n * (i + 1) + i) * perRow, (n * (i + 1) + i + 1) * perRow);
        const want = full.subarray((n * H + i) * perRow, (n * H + i + 1) * perRow);
        expect(maxRelativeDifference(got, want), `row ${i}`).toBeLessThan(1e-5);
      }
    }
    model.dispose();
  });

  it.each(MODEL_TYPES.map((t) => [t]))('%s: draws valid, seeded images; keeps the given rows; reports every row', async (type) => {
    const config = smallConfig(type, 3, CATEGORICAL, { image: { height: 5, width: 5, channels: 3 } });
    const model = createModel(config);
    randomizeWeights(model, 7);
    const levels = headLevels(config.head);
    const rowsSeen: number[] = [];
    const a = await sample(model, { count: 2, seed: 1, onRow: (row) => void rowsSeen.push(row) });
    const b = await sample(model, { count: 2, seed: 1 });
    const c = await sample(model, { count: 2, seed: 2 });
    expect(rowsSeen).toEqual([0, 1, 2, 3, 4]);
    expect([...a]).toEqual([...b]);
    expect([...a]).not.toEqual([...c]);
    expect(a.every((v) => v < levels)).toBe(true);
    const given = Uint8Array.from(randomImages(config, 2, 3));
    const done = await sample(model, { count: 2, seed: 3, prefix: { images: given, rows: 3 } });
    const rowSize = 5 * 3;
    for (let n = 0; n < 2; n++) {
      const start = n * 5 * rowSize;
      expect([...done.subarray(start, start + 3 * rowSize)]).toEqual([...given.subarray(start, start + 3 * rowSize)]);
    }
    model.dispose();
  });
});

describe('sampling controls', () => {
  async function binaryModel(): Promise<PixelModel> {
    const model = createModel(smallConfig('pixelcnn', 1, BERNOULLI));
    randomizeWeights(model, 8);
    return model;
  }

  it('a temperature near zero draws the most likely value, whatever the seed', async () => {
    const model = await binaryModel();
    const a = await sample(model, { count: 2, seed: 1, temperature: 1e-4 });
    const b = await sample(model, { count: 2, seed: 99, temperature: 1e-4 });
    expect([...a]).toEqual([...b]);
    const hot = await sample(model, { count: 2, seed: 99, temperature: 1 });
    expect([...hot]).not.toEqual([...a]);
    model.dispose();
  });

  it('stops after the row whose progress callback returns false', async () => {
    const model = await binaryModel();
    const rows: number[] = [];
    const images = await sample(model, { count: 1, seed: 1, onRow: (row) => (rows.push(row), row < 2) });
    expect(rows).toEqual([0, 1, 2]);
    // Rows after the stop stay empty.
    expect([...images.subarray(3 * 7)].every((v) => v === 0)).toBe(true);
    model.dispose();
  });

  it('refuses cached sampling for the recurrent models and bad options, with a clear message', async () => {
    const model = createModel(smallConfig('row-lstm', 1, BERNOULLI));
    await expect(sample(model, { count: 1, seed: 1, method: 'cached' })).rejects.toThrow(/cached sampling is available for PixelCNN/);
    await expect(sample(model, { count: 1, seed: 1, temperature: 0 })).rejects.toThrow(/temperature/);
    model.dispose();
  });
});
