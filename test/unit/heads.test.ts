/** The output heads and the NLL in the paper's units: nats per image, and bits/dim = nats / (D · ln 2). */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BernoulliHead, CategoricalHead, natsToBitsPerDim, nllNats } from '../../src/model/heads';
import { useBackend } from '../support/engine';

beforeAll(() => useBackend('cpu'));

describe('NLL units', () => {
  it('a uniform categorical over 256 levels costs exactly 8 bits/dim; a fair coin 1 bit/dim', async () => {
    const [H, W, C] = [4, 5, 3];
    const D = H * W * C;
    const x = tf.tidy(() => tf.floor(tf.randomUniform([2, H, W, C], 0, 256, 'float32', 1))) as tf.Tensor4D;
    const categorical = new CategoricalHead(256);
    const nats = await nllNats(categorical, tf.zeros([2, H, W, C, 256]), x).data();
    expect(nats[0]).toBeCloseTo(D * Math.log(256), 3);
    expect(natsToBitsPerDim(nats[1], D)).toBeCloseTo(8, 5);
    const bits = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([2, H, W, 1], 0, 1, 'float32', 2), 0.5), 'float32')) as tf.Tensor4D;
    const coin = await nllNats(new BernoulliHead(), tf.zeros([2, H, W, 1]), bits).data();
    expect(natsToBitsPerDim(coin[0], H * W)).toBeCloseTo(1, 5);
  });

  it('Bernoulli log-probabilities are exact and finite even for extreme logits', async () => {
    const logits = tf.tensor4d([-100, -3, 0, 3, 100, -100, 3, 100], [1, 2, 4, 1]);
    const x = tf.tensor4d([1, 1, 1, 1, 1, 0, 0, 0], [1, 2, 4, 1]);
    const got = await new BernoulliHead().logProbs(logits, x).data();
    const logSigmoid = (l: number) => -Math.log1p(Math.exp(-l));
    const want = [-100, logSigmoid(-3), Math.log(0.5), logSigmoid(3), 0, 0, logSigmoid(-3), -100];
    got.forEach((v, k) => expect(v).toBeCloseTo(want[k], 4));
  });

  it('the categorical head reads channel c’s logits from its own block, R → G → B', async () => {
    const head = new CategoricalHead(3);
    // One pixel, three channels: features laid out colour-major [R0 R1 R2 G0 G1 G2 B0 B1 B2].
    const y = tf.tensor4d([5, 0, 0, 0, 5, 0, 0, 0, 5], [1, 1, 1, 9]);
    const logits = head.toLogits(y, 3);
    const lp = await head.logProbs(logits, tf.tensor4d([0, 1, 2], [1, 1, 1, 3])).data();
    const best = Math.log(Math.exp(5) / (Math.exp(5) + 2));
    lp.forEach((v) => expect(v).toBeCloseTo(best, 5));
  });
});
