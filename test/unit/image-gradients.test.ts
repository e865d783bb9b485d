/**
 * The hover's cached gradient maps (src/model/image-gradients.ts: one forward pass per image, taken down to the
 * lowest row hovered so far, a cropped backward pass per hover, plain loops for the LSTMs) equal the whole-image reference (dependency.ts gradientMapsFull) for
 * every model, both heads, grey and colour, at the corners, the middle, the last row and every channel — and at
 * 28×28 with the shipped examples' shapes. They hold no tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ModelConfig, MODEL_TYPES } from '../../src/model/config';
import { gradientMapsFull, type PixelChannel } from '../../src/model/dependency';
import { imageGradients } from '../../src/model/image-gradients';
import { createModel } from '../../src/model/index';
import { BERNOULLI, CATEGORICAL, randomImages, randomizeWeights, smallConfig, useBackend } from '../support/engine';

beforeAll(() => useBackend('wasm'));

function positions(config: ModelConfig): PixelChannel[] {
  const { height: H, width: W, channels: C } = config.image;
  const at = [[0, 0], [0, W - 1], [H - 1, 0], [H - 1, W - 1], [Math.floor(H / 2), Math.floor(W / 2)], [1, W - 2], [H - 2, 1], [H - 1, Math.floor(W / 2)]];
  return at.flatMap(([i, j]) => Array.from({ length: C }, (_, c) => ({ i, j, c })));
}

/**
 * Within 1e-6 of the reference, and zero exactly where it is zero. The cached path sums in float64, the reference in
 * float32: the differences are the reference's rounding, ~1e-9 here, up to a few 1e-6 of the map's largest value.
 */
function expectSameMap(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  const scale = Math.max(1e-12, ...want.map(Math.abs));
  let worst = 0;
  for (let e = 0; e < want.length; e++) worst = Math.max(worst, Math.abs(got[e] - want[e]));
  expect(worst, `${what}: largest difference ${worst} of ${scale}`).toBeLessThan(1e-6);
  expect(worst / scale, `${what}: largest difference ${worst} of ${scale}`).toBeLessThan(1e-5);
  for (let e = 0; e < want.length; e++) if (want[e] === 0) expect(got[e], `${what} element ${e}`).toBe(0);
}

const cases: ModelConfig[] = [];
for (const type of MODEL_TYPES) {
  for (const channels of [1, 3] as const) for (const head of [BERNOULLI, CATEGORICAL]) cases.push(smallConfig(type, channels, head));
}
cases.push(smallConfig('row-lstm', 1, BERNOULLI, { firstKernel: 0 }));
cases.push(smallConfig('row-lstm', 3, CATEGORICAL, { residual: false, kernel: 5, outputHidden: 0 }));
cases.push(smallConfig('diagonal-bilstm', 3, CATEGORICAL, { residual: false }));
// Not square: the Diagonal BiLSTM's skewed map is H × (W + H − 1), here scanned in image coordinates.
for (const type of ['row-lstm', 'diagonal-bilstm'] as const) {
  cases.push(smallConfig(type, 1, BERNOULLI, { image: { height: 5, width: 9, channels: 1 } }));
  cases.push(smallConfig(type, 1, CATEGORICAL, { image: { height: 9, width: 4, channels: 1 }, kernel: 1 }));
}
const label = (c: ModelConfig) =>
  `${c.type} ${c.image.height}×${c.image.width}×${c.image.channels} k${c.kernel} ${c.head.kind}${c.firstKernel === 0 ? ' no-input-conv' : ''}${c.residual ? '' : ' plain'}${c.outputHidden === 0 ? ' no-output-hidden' : ''}`;

describe.each(cases.map((c) => [label(c), c] as const))('%s', (_, config) => {
  it('cached == full at corners, middle, last row and every channel; no tensors kept', async () => {
    const model = createModel(config);
    randomizeWeights(model, 1);
    const image = randomImages(config, 1, 3);
    const outputs = positions(config);
    const full = await gradientMapsFull(model, image, outputs);
    const tensors = tf.memory().numTensors;
    const maps = await imageGradients(model, image);
    for (const [k, p] of outputs.entries()) expectSameMap(await maps.map(p), full[k], `(${p.i},${p.j},${p.c})`);
    expect(tf.memory().numTensors).toBe(tensors);
    await expect(maps.map({ i: config.image.height, j: 0, c: 0 })).rejects.toThrow(/outside/);
    model.dispose();
  });
});

it('at 28×28 with the shipped examples’ shapes: cached == full for every model', async () => {
  for (const type of MODEL_TYPES) {
    const lstm = type === 'row-lstm' || type === 'diagonal-bilstm';
    const config = smallConfig(type, 1, BERNOULLI, { image: { height: 28, width: 28, channels: 1 }, layers: lstm ? 4 : 2, hidden: 16, outputHidden: 32, firstKernel: 7, kernel: 3 });
    const model = createModel(config);
    randomizeWeights(model, 2);
    const image = randomImages(config, 1, 4);
    const maps = await imageGradients(model, image);
    // The kept forward pass goes down to the lowest row hovered so far: rows 0–5, then up, then down to 13 and 27.
    for (const p of [{ i: 5, j: 3, c: 0 }, { i: 0, j: 0, c: 0 }, { i: 0, j: 27, c: 0 }, { i: 13, j: 20, c: 0 }, { i: 27, j: 0, c: 0 }, { i: 27, j: 27, c: 0 }, { i: 27, j: 13, c: 0 }]) {
      const [want] = await gradientMapsFull(model, image, [p]);
      expectSameMap(await maps.map(p), want, `${type} (${p.i},${p.j})`);
    }
    model.dispose();
  }
});
