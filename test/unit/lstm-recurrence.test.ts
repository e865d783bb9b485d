/**
 * The LSTM recurrence's hand-written backward pass (backpropagation through time) gives the same gradients as
 * TF.js's automatic differentiation of the plain loop, along rows (Row LSTM) and along columns (Diagonal LSTM).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { Conv2D, lstmCell, lstmRecurrence } from '../../src/model/layers';
import type { KernelGeometry } from '../../src/model/masks';
import { samePadding } from '../../src/model/masks';
import { ParamStore } from '../../src/model/params';
import { useBackend } from '../support/engine';

beforeAll(() => useBackend('cpu'));

/** The recurrence written as the plain loop of §3.1, differentiated by the tape. */
function referenceScan(gatesIn: tf.Tensor4D, kernel: tf.Tensor4D, geometry: KernelGeometry, axis: 1 | 2): tf.Tensor4D {
  const p = samePadding(geometry);
  const padding: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]];
  const inputs = tf.split(gatesIn, gatesIn.shape[axis], axis);
  let h: tf.Tensor | null = null;
  let c: tf.Tensor | null = null;
  const hs: tf.Tensor[] = [];
  for (const input of inputs) {
    const gates: tf.Tensor = h ? tf.add(tf.conv2d(h as tf.Tensor4D, kernel, 1, padding), input) : input;
    ({ h, c } = lstmCell(gates, c));
    hs.push(h);
  }
  return tf.concat(hs, axis) as tf.Tensor4D;
}

const cases: [string, KernelGeometry, 1 | 2, [number, number, number, number]][] = [
  ['rows, 1×3 state-to-state (Row LSTM)', { rows: 1, cols: 3, cy: 0, cx: 1, mask: 'none' }, 1, [2, 5, 6, 12]],
  ['skewed columns, 2×1 state-to-state (Diagonal LSTM)', { rows: 2, cols: 1, cy: 1, cx: 0, mask: 'none' }, 2, [2, 4, 7, 12]],
];

describe('lstmRecurrence', () => {
  it.each(cases)('%s: value and gradients match autodiff of the plain loop', async (_, geometry, axis, shape) => {
    const hidden = shape[3] / 4;
    const params = new ParamStore(3);
    const stateToState = new Conv2D(params, 'ss', geometry, { in: hidden, out: 4 * hidden, colours: 1, outChunks: 4, bias: false });
    const gatesIn = tf.randomNormal(shape, 0, 1, 'float32', 5) as tf.Tensor4D;
    // A loss that weighs every state differently, so that every path back through time matters.
    const weights = tf.randomNormal([shape[0], shape[1], shape[2], hidden], 0, 1, 'float32', 6);
    const loss = (states: tf.Tensor) => tf.sum(tf.mul(states, weights));
    // The kernel variable is used inside lstmRecurrence; the tape differentiates with respect to it by identity.
    const kernel = stateToState.kernel;
    const [ours, oursGrads] = tf.tidy(() => {
      const g = tf.grads((x: tf.Tensor) => loss(lstmRecurrence(x as tf.Tensor4D, stateToState, axis)))([gatesIn, kernel]);
      return [lstmRecurrence(gatesIn, stateToState, axis), g];
    });
    const [ref, refGrads] = tf.tidy(() => {
      const g = tf.grads((x: tf.Tensor, k: tf.Tensor) => loss(referenceScan(x as tf.Tensor4D, k as tf.Tensor4D, geometry, axis)))([gatesIn, kernel]);
      return [referenceScan(gatesIn, kernel as tf.Tensor4D, geometry, axis), g];
    });
    const close = async (a: tf.Tensor, b: tf.Tensor) => {
      const [x, y] = [await a.data(), await b.data()];
      let diff = 0;
      let scale = 0;
      x.forEach((v, k) => {
        diff = Math.max(diff, Math.abs(v - y[k]));
        scale = Math.max(scale, Math.abs(y[k]));
      });
      return diff / scale;
    };
    expect(await close(ours, ref)).toBeLessThan(1e-5);
    expect(await close(oursGrads[0], refGrads[0])).toBeLessThan(1e-5);
    expect(await close(oursGrads[1], refGrads[1])).toBeLessThan(1e-5);
    params.dispose();
  });
});

