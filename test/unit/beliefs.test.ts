/**
 * What the model believes at each pixel (src/model/beliefs.ts), with the real engine on wasm: the NLL map sums to
 * the image's NLL exactly as evaluation computes it (every model, both heads, grey and colour, and once at 28×28);
 * the predictive distributions are the ones the NLL map reads, depend on nothing later in the image, and are the
 * very distributions the sampler draws from (its onLogits hook).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Batches, splitImages } from '../../src/data/batches';
import type { ImageSet } from '../../src/data/images';
import { distributionAt, pixelBeliefs, pixelBeliefsOf, samplingDistribution } from '../../src/model/beliefs';
import { headLevels, type ModelConfig, MODEL_TYPES } from '../../src/model/config';
import { createHead, createModel } from '../../src/model/index';
import { Random } from '../../src/model/random';
import { sample } from '../../src/model/sampling/index';
import { evaluate } from '../../src/train/loop';
import { BERNOULLI, CATEGORICAL, randomizeWeights, smallConfig, useBackend } from '../support/engine';

beforeAll(() => useBackend('wasm'));

/** A small image set of random bytes and its evaluation batches, encoded for the model's head. */
function batchesFor(config: ModelConfig, count: number): Batches {
  const { height, width, channels } = config.image;
  const rng = new Random(3);
  const set: ImageSet = { images: Uint8Array.from({ length: count * height * width * channels }, () => rng.int(256)), count, height, width, channels };
  const levels = headLevels(config.head);
  return new Batches(set, splitImages(count, 0.5, 4), { levels, binarize: levels === 2 ? 'stochastic' : 'fixed', threshold: 0.5 }, 5);
}

const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);

const cases: ModelConfig[] = [];
for (const type of MODEL_TYPES) {
  for (const channels of [1, 3] as const) for (const head of [BERNOULLI, CATEGORICAL]) cases.push(smallConfig(type, channels, head));
}
const label = (c: ModelConfig) => `${c.type} ${c.image.channels}ch ${c.head.kind}`;

describe.each(cases.map((c) => [label(c), c] as const))('%s', (_, config) => {
  const { height: H, width: W, channels: C } = config.image;
  const D = H * W * C;

  it('the NLL map sums to the NLL evaluation computes, image by image (1e-4)', async () => {
    const model = createModel(config);
    randomizeWeights(model, 1);
    const batches = batchesFor(config, 8);
    const tests = batches.split.test.length;
    const images = batches.test(0, tests);
    const beliefs = await pixelBeliefsOf(model, images, tests);
    for (let k = 0; k < tests; k++) {
      expect(beliefs[k].nll.length).toBe(D);
      expect(Math.abs(sum(beliefs[k].nll) - beliefs[k].nats)).toBeLessThan(1e-4 * Math.max(1, beliefs[k].nats));
      expect([...beliefs[k].nll].every((v) => v >= -1e-6 && Number.isFinite(v))).toBe(true);
    }
    // The first test image alone, and the mean over all of them, as `pixel-lab eval` computes them.
    const first = await evaluate(model, batches, 1);
    const one = await pixelBeliefs(model, batches.test(0, 1));
    expect(Math.abs(sum(one.nll) - first.nats)).toBeLessThan(1e-4 * Math.max(1, first.nats));
    const all = await evaluate(model, batches, tests);
    const mean = sum(beliefs.map((b) => sum(b.nll))) / tests;
    expect(Math.abs(mean - all.nats)).toBeLessThan(1e-4 * Math.max(1, all.nats));
    model.dispose();
  });

  it('the predictive distributions: normalised, the ones the NLL map reads, blind to everything later', async () => {
    const model = createModel(config);
    randomizeWeights(model, 2);
    const levels = headLevels(config.head);
    const rng = new Random(6);
    const image = Float32Array.from({ length: D }, () => rng.int(levels));
    const b = await pixelBeliefs(model, image);
    expect(b.probabilities.length).toBe(config.head.kind === 'bernoulli' ? D : D * levels);
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        for (let c = 0; c < C; c++) {
          const e = (i * W + j) * C + c;
          const p = distributionAt(b, i, j, c);
          expect(p.length).toBe(levels);
          expect(Math.abs(sum(p) - 1)).toBeLessThan(1e-5);
          expect(-Math.log(p[image[e]])).toBeCloseTo(b.nll[e], 3);
        }
      }
    }
    // Redraw everything from element e on: the distributions of elements ≤ e stay (channels < c of the pixel included).
    const e = Math.floor(D / 2);
    const changed = image.map((v, k) => (k >= e ? (v + 1) % levels : v));
    const b2 = await pixelBeliefs(model, changed);
    const per = b.binary ? 1 : levels;
    const before = b.probabilities.subarray(0, (e + 1) * per);
    const after = b2.probabilities.subarray(0, (e + 1) * per);
    for (let k = 0; k < before.length; k++) expect(Math.abs(before[k] - after[k])).toBeLessThan(1e-5);
    model.dispose();
  });

  it('the sampler draws each pixel from exactly the predictive distribution of the finished sample', async () => {
    const model = createModel(config);
    randomizeWeights(model, 3);
    const N = 2;
    const seen: Float32Array[][] = Array.from({ length: N }, () => new Array(D));
    const images = await sample(model, {
      count: N,
      seed: 4,
      onLogits: (i, j, c, logits) => {
        const p = samplingDistribution(model.head, logits, C, c);
        const per = p.length / N;
        for (let n = 0; n < N; n++) seen[n][(i * W + j) * C + c] = p.slice(n * per, (n + 1) * per);
      },
    });
    const beliefs = await pixelBeliefsOf(model, images, N);
    for (let n = 0; n < N; n++) {
      for (let e = 0; e < D; e++) {
        const c = e % C;
        const j = Math.floor(e / C) % W;
        const i = Math.floor(e / (C * W));
        const expected = distributionAt(beliefs[n], i, j, c);
        const got = beliefs[n].binary ? Float32Array.of(1 - seen[n][e][0], seen[n][e][0]) : seen[n][e];
        for (let l = 0; l < expected.length; l++) expect(Math.abs(got[l] - expected[l]), `image ${n} element ${e} level ${l}`).toBeLessThan(2e-5);
      }
    }
    model.dispose();
  });
});

it('temperature: the sampling distribution is softmax(logits / T)', () => {
  const head = createHead(CATEGORICAL);
  const logits = Float32Array.of(0, Math.log(2), Math.log(4), 0, /* image 2 */ 1, 1, 1, 1);
  const p = samplingDistribution(head, logits, 1, 0, 2);
  const w = [1, Math.SQRT2, 2, 1];
  w.forEach((v, l) => expect(p[l]).toBeCloseTo(v / sum(w), 6));
  for (let l = 4; l < 8; l++) expect(p[l]).toBeCloseTo(0.25, 6);
  const bernoulli = samplingDistribution(createHead(BERNOULLI), Float32Array.of(2), 1, 0, 2);
  expect(bernoulli[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 6);
});

it('at 28×28 (the shipped examples’ size): the NLL map of every model sums to evaluation’s NLL', async () => {
  for (const type of MODEL_TYPES) {
    const config = smallConfig(type, 1, BERNOULLI, { image: { height: 28, width: 28, channels: 1 }, hidden: 16, outputHidden: 32, firstKernel: 7 });
    const model = createModel(config);
    const batches = batchesFor(config, 2);
    const [b] = await pixelBeliefsOf(model, batches.test(0, 1), 1);
    const first = await evaluate(model, batches, 1);
    expect(Math.abs(sum(b.nll) - first.nats), type).toBeLessThan(1e-4 * Math.max(1, first.nats));
    model.dispose();
  }
});
