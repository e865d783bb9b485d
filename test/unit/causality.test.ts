/**
 * Causality, proven for every model, both output heads, one and three colour channels: the prediction of x_ijc
 * depends on no input at a later pixel (raster order) and on no channel ≥ c of its own pixel. Checked two ways —
 * by gradient (the whole Jacobian, one row per output) and by perturbation (change every later input; the
 * prediction stays bit-identical) — and the structural map must be exactly the non-zero pattern of the gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { headLevels, type ModelConfig, MODEL_TYPES } from '../../src/model/config';
import { elementIndex, gradientMaps, type PixelChannel, structuralMap } from '../../src/model/dependency';
import { createModel } from '../../src/model/index';
import { Random } from '../../src/model/random';
import { BERNOULLI, CATEGORICAL, randomImages, randomizeWeights, smallConfig, useBackend } from '../support/engine';

beforeAll(() => useBackend('wasm'));

function allOutputs(config: ModelConfig): PixelChannel[] {
  const { height, width, channels } = config.image;
  const out: PixelChannel[] = [];
  for (let i = 0; i < height; i++) for (let j = 0; j < width; j++) for (let c = 0; c < channels; c++) out.push({ i, j, c });
  return out;
}

const cases: ModelConfig[] = [];
for (const type of MODEL_TYPES) {
  for (const channels of [1, 3] as const) {
    for (const head of [BERNOULLI, CATEGORICAL]) cases.push(smallConfig(type, channels, head));
  }
}
// Row LSTM can also read the image directly (no input convolution); every model can run without residuals.
cases.push(smallConfig('row-lstm', 3, CATEGORICAL, { firstKernel: 0, residual: false }));
cases.push(smallConfig('row-lstm', 1, BERNOULLI, { firstKernel: 0, residual: true, layers: 3 }));
cases.push(smallConfig('diagonal-bilstm', 3, CATEGORICAL, { residual: false }));
cases.push(smallConfig('pixelcnn', 3, BERNOULLI, { residual: false, layers: 3 }));
cases.push(smallConfig('gated-pixelcnn', 3, CATEGORICAL, { residual: false, firstKernel: 5 }));
// Class-conditional variants of every model: the class bias is the same at every pixel and must carry no pixel.
cases.push(smallConfig('pixelcnn', 3, CATEGORICAL, { classes: 3 }));
cases.push(smallConfig('pixelcnn', 1, BERNOULLI, { classes: 3, residual: false }));
cases.push(smallConfig('row-lstm', 1, BERNOULLI, { classes: 3 }));
cases.push(smallConfig('row-lstm', 3, CATEGORICAL, { classes: 3, firstKernel: 0 }));
cases.push(smallConfig('diagonal-bilstm', 3, CATEGORICAL, { classes: 3 }));
cases.push(smallConfig('gated-pixelcnn', 1, BERNOULLI, { classes: 3 }));
cases.push(smallConfig('gated-pixelcnn', 3, CATEGORICAL, { classes: 3 }));

const label = (c: ModelConfig) =>
  `${c.type} ${c.image.channels}ch ${c.head.kind}${c.firstKernel === 0 ? ' no-input-conv' : ''}${c.residual ? '' : ' plain'} L${c.layers}${c.classes ? ` conditional (${c.classes} classes)` : ''}`;

describe.each(cases.map((c) => [label(c), c] as const))('%s', (_, config) => {
  const { height: H, width: W, channels: C } = config.image;
  const D = H * W * C;
  const outputs = allOutputs(config);

  it('by gradient: no output depends on a later input, and the structural map is the gradient’s support', async () => {
    const model = createModel(config);
    randomizeWeights(model, 1);
    // Several random images: a ReLU that happens to be off for one image hides a real dependency there.
    const support = outputs.map(() => new Uint8Array(D));
    const images = randomImages(config, 4, 7);
    for (let n = 0; n < 4; n++) {
      // A conditional model: each image as of another class.
      const grads = await gradientMaps(model, images.subarray(n * D, (n + 1) * D), outputs, config.classes ? n % config.classes : undefined);
      grads.forEach((g, k) => g.forEach((v, e) => (support[k][e] |= v !== 0 ? 1 : 0)));
    }
    outputs.forEach((p, k) => {
      const self = elementIndex(W, C, p);
      const leaks = [...support[k].subarray(self)].reduce((a, b) => a + b, 0);
      expect(leaks, `output (${p.i},${p.j},${p.c}) has gradient on ${leaks} later inputs`).toBe(0);
      expect([...structuralMap(model, p)], `structural map of (${p.i},${p.j},${p.c})`).toEqual([...support[k]]);
    });
    model.dispose();
  });

  it('by perturbation: changing every later input leaves each prediction bit-identical', async () => {
    const model = createModel(config);
    randomizeWeights(model, 2);
    const levels = headLevels(config.head);
    const base = randomImages(config, 1, 5);
    const rng = new Random(9);
    // Batch element k: the base image with every element from output k's own position on redrawn.
    const batch = new Float32Array(outputs.length * D);
    outputs.forEach((p, k) => {
      const from = elementIndex(W, C, p);
      for (let e = 0; e < D; e++) batch[k * D + e] = e < from ? base[e] : (base[e] + 1 + rng.int(levels - 1)) % levels;
    });
    // A conditional model: every image of the batch of the same class (the last), as the original.
    const k = config.classes ? config.classes - 1 : undefined;
    const [perturbed, original] = tf.tidy(() => [
      model.logits(tf.tensor4d(batch, [outputs.length, H, W, C]), k === undefined ? undefined : new Int32Array(outputs.length).fill(k)),
      model.logits(tf.tensor4d(base, [1, H, W, C]), k === undefined ? undefined : [k]),
    ]);
    const per = await perturbed.data();
    const orig = await original.data();
    const L = config.head.kind === 'bernoulli' ? 1 : config.head.levels;
    let changed = 0;
    outputs.forEach((p, k) => {
      const e = elementIndex(W, C, p);
      for (let l = 0; l < L; l++) if (per[(k * D + e) * L + l] !== orig[e * L + l]) changed++;
    });
    expect(changed).toBe(0);
    // And the test has teeth: with every input redrawn (batch element 0), most predictions do change.
    let moved = 0;
    for (let e = 0; e < D; e++) {
      for (let l = 0; l < L; l++) {
        if (per[e * L + l] !== orig[e * L + l]) {
          moved++;
          break;
        }
      }
    }
    expect(moved).toBeGreaterThan(D / 2);
    tf.dispose([perturbed, original]);
    model.dispose();
  });
});
