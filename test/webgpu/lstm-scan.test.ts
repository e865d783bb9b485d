/**
 * The fused LSTM scan (src/backend/webgpu/lstm-*.ts) against the cpu backend's unfused `lstmRecurrence`: the
 * states and both gradients (of the input-to-state gates and of K^ss), along rows (Row LSTM, 1×3) and skewed
 * columns (Diagonal LSTM, 2×1), on odd sizes where the state-to-state kernel hangs over both edges — and the
 * scan costs one dispatch a step each way.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { countDispatches } from '../../src/bench/dispatch-count';
import { Conv2D, lstmRecurrence } from '../../src/model/layers';
import type { KernelGeometry } from '../../src/model/masks';
import { ParamStore } from '../../src/model/params';
import { Random } from '../../src/model/random';
import { relativeError, useDawn } from './dawn';

beforeAll(useDawn);

const cases: [string, KernelGeometry, 1 | 2, [number, number, number, number]][] = [
  ['rows, 1×3 state-to-state (Row LSTM)', { rows: 1, cols: 3, cy: 0, cx: 1, mask: 'none' }, 1, [2, 5, 7, 12]],
  ['skewed columns, 2×1 state-to-state (Diagonal LSTM)', { rows: 2, cols: 1, cy: 1, cx: 0, mask: 'none' }, 2, [3, 4, 7, 20]],
];

function values(n: number, seed: number, scale: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

async function scan(backend: 'cpu' | 'webgpu', geometry: KernelGeometry, axis: 1 | 2, shape: [number, number, number, number]) {
  await tf.setBackend(backend);
  const hidden = shape[3] / 4;
  const size = shape.reduce((a, b) => a * b, 1);
  const params = new ParamStore(3);
  const stateToState = new Conv2D(params, 'ss', geometry, { in: hidden, out: 4 * hidden, colours: 1, outChunks: 4, bias: false });
  stateToState.kernel.assign(tf.tensor(values(stateToState.kernel.size, 1, 0.6), stateToState.kernel.shape));
  const gatesIn = tf.tensor4d(values(size, 2, 2), shape);
  // A loss that weighs every state differently, so that every path back through time matters.
  const weights = tf.tensor4d(values(size / 4, 3, 1), [shape[0], shape[1], shape[2], hidden]);
  const states = lstmRecurrence(gatesIn, stateToState, axis);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(lstmRecurrence(gatesIn, stateToState, axis), weights)) as tf.Scalar, [stateToState.kernel]);
  const dGates = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(lstmRecurrence(x as tf.Tensor4D, stateToState, axis), weights)))(gatesIn);
  const out = {
    states: await states.data(),
    loss: await value.data(),
    dKernel: await grads[stateToState.kernel.name].data(),
    dGates: await dGates.data(),
  };
  tf.dispose([gatesIn, weights, states, value, dGates, ...Object.values(grads)]);
  params.dispose();
  return out;
}

describe('fused LSTM scan on WebGPU', () => {
  it.each(cases)('%s: states and gradients match the cpu backend within 1e-4', async (_, geometry, axis, shape) => {
    const expected = await scan('cpu', geometry, axis, shape);
    const actual = await scan('webgpu', geometry, axis, shape);
    for (const key of ['states', 'loss', 'dKernel', 'dGates'] as const) {
      expect(relativeError(actual[key], expected[key]), key).toBeLessThanOrEqual(1e-4);
    }
  });

  it.each(cases)('%s: one dispatch a step forward and one backward, plus three', async (_, geometry, axis, shape) => {
    await tf.setBackend('webgpu');
    const hidden = shape[3] / 4;
    const params = new ParamStore(3);
    const stateToState = new Conv2D(params, 'ss', geometry, { in: hidden, out: 4 * hidden, colours: 1, outChunks: 4, bias: false });
    const gatesIn = tf.tensor4d(values(shape.reduce((a, b) => a * b, 1), 2, 2), shape);
    const dy = tf.ones([shape[0], shape[1], shape[2], hidden]);
    const steps = shape[axis];
    const counted = await countDispatches(async () => {
      const g = tf.grad((x: tf.Tensor) => lstmRecurrence(x as tf.Tensor4D, stateToState, axis))(gatesIn, dy);
      await g.data();
      g.dispose();
    });
    expect(counted.dispatches).toBeLessThanOrEqual(2 * steps + 3);
    tf.dispose([gatesIn, dy]);
    params.dispose();
  });

  it('leaves no tensor behind, forward alone (sampling) or with gradients (training)', async () => {
    await tf.setBackend('webgpu');
    const [geometry, axis, shape] = [cases[0][1], cases[0][2], cases[0][3]];
    const params = new ParamStore(3);
    const stateToState = new Conv2D(params, 'ss', geometry, { in: shape[3] / 4, out: shape[3], colours: 1, outChunks: 4, bias: false });
    const gatesIn = tf.tensor4d(values(shape.reduce((a, b) => a * b, 1), 2, 2), shape);
    const before = tf.memory().numTensors;
    for (let k = 0; k < 2; k++) {
      const states = lstmRecurrence(gatesIn, stateToState, axis);
      await states.data();
      states.dispose();
      const g = tf.grad((x: tf.Tensor) => lstmRecurrence(x as tf.Tensor4D, stateToState, axis))(gatesIn);
      await g.data();
      g.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    gatesIn.dispose();
    params.dispose();
  });
});
