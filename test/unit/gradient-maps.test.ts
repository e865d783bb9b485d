/**
 * The hover's gradient map (src/model/dependency.ts gradientMaps: the image cropped to rows ≤ i, input gradients
 * only) equals the whole-image map it replaced (gradientMapsFull), for every model, both heads, grey and colour, at
 * the corners, the middle and every channel — and at 28×28, the shipped examples' size. The Diagonal BiLSTM is the
 * one to watch: cropping changes its skewed map's width, and its right-to-left direction reads rows shifted down.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type ModelConfig, MODEL_TYPES } from '../../src/model/config';
import { gradientMap, gradientMaps, gradientMapsFull, type PixelChannel } from '../../src/model/dependency';
import { createModel } from '../../src/model/index';
import { trainStep } from '../../src/train/step';
import * as tf from '@tensorflow/tfjs-core';
import { BERNOULLI, CATEGORICAL, randomImages, randomizeWeights, smallConfig, useBackend } from '../support/engine';

beforeAll(() => useBackend('wasm'));

function positions(config: ModelConfig): PixelChannel[] {
  const { height: H, width: W, channels: C } = config.image;
  const at = [[0, 0], [0, W - 1], [H - 1, 0], [H - 1, W - 1], [Math.floor(H / 2), Math.floor(W / 2)], [1, W - 2], [H - 2, 1]];
  return at.flatMap(([i, j]) => Array.from({ length: C }, (_, c) => ({ i, j, c })));
}

/** Equal up to float32 rounding of sums taken in another order (in practice: bit-identical). */
function expectSameMap(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  const scale = Math.max(1e-12, ...want.map(Math.abs));
  let worst = 0;
  for (let e = 0; e < want.length; e++) worst = Math.max(worst, Math.abs(got[e] - want[e]));
  expect(worst / scale, `${what}: largest difference ${worst} of ${scale}`).toBeLessThan(1e-6);
  // Zero exactly where the whole-image map is zero: the structural pattern survives the crop.
  for (let e = 0; e < want.length; e++) if (want[e] === 0) expect(got[e], `${what} element ${e}`).toBe(0);
}

const cases: ModelConfig[] = [];
for (const type of MODEL_TYPES) {
  for (const channels of [1, 3] as const) for (const head of [BERNOULLI, CATEGORICAL]) cases.push(smallConfig(type, channels, head));
}
cases.push(smallConfig('row-lstm', 1, BERNOULLI, { firstKernel: 0 }));
cases.push(smallConfig('diagonal-bilstm', 3, CATEGORICAL, { residual: false }));
const label = (c: ModelConfig) => `${c.type} ${c.image.channels}ch ${c.head.kind}${c.firstKernel === 0 ? ' no-input-conv' : ''}${c.residual ? '' : ' plain'}`;

describe.each(cases.map((c) => [label(c), c] as const))('%s', (_, config) => {
  it('cropped == full at corners, middle and every channel, one output at a time and several at once', async () => {
    const model = createModel(config);
    randomizeWeights(model, 1);
    const image = randomImages(config, 1, 3);
    const outputs = positions(config);
    const full = await gradientMapsFull(model, image, outputs);
    for (const [k, p] of outputs.entries()) expectSameMap(await gradientMap(model, image, p), full[k], `(${p.i},${p.j},${p.c})`);
    // Several outputs share one crop (to the lowest row asked for).
    const top = outputs.filter((p) => p.i < config.image.height - 1);
    const together = await gradientMaps(model, image, top);
    top.forEach((p, k) => expectSameMap(together[k], full[outputs.indexOf(p)], `together (${p.i},${p.j},${p.c})`));
    model.dispose();
  });
});

it('at 28×28 (the shipped examples’ size): cropped == full for every model', async () => {
  for (const type of MODEL_TYPES) {
    const lstm = type === 'row-lstm' || type === 'diagonal-bilstm';
    const config = smallConfig(type, 1, BERNOULLI, { image: { height: 28, width: 28, channels: 1 }, layers: lstm ? 2 : 4, hidden: 16, outputHidden: 32, firstKernel: 7 });
    const model = createModel(config);
    randomizeWeights(model, 2);
    const image = randomImages(config, 1, 4);
    for (const p of [{ i: 0, j: 0, c: 0 }, { i: 0, j: 27, c: 0 }, { i: 13, j: 20, c: 0 }, { i: 27, j: 0, c: 0 }, { i: 27, j: 27, c: 0 }]) {
      const [want] = await gradientMapsFull(model, image, [p]);
      expectSameMap(await gradientMap(model, image, p), want, `${type} (${p.i},${p.j})`);
    }
    model.dispose();
  }
});

it('rejects outputs outside the image, and training after a gradient map still gets its LSTM kernel gradients', async () => {
  const config = smallConfig('row-lstm', 1, BERNOULLI);
  const model = createModel(config);
  const image = randomImages(config, 1, 5);
  await expect(gradientMap(model, image, { i: 7, j: 0, c: 0 })).rejects.toThrow(/outside/);
  await gradientMap(model, image, { i: 3, j: 3, c: 0 });
  const kernel = model.params.named().find(([name]) => name.endsWith('state-to-state/kernel'))![1];
  const before = kernel.dataSync().slice();
  const x = tf.tensor4d(randomImages(config, 2, 6), [2, 7, 7, 1]);
  await trainStep(model, tf.train.sgd(0.1), x);
  expect([...kernel.dataSync()].some((v, k) => v !== before[k])).toBe(true);
  x.dispose();
  model.dispose();
});
