/**
 * The fused optimisers (src/backend/webgpu/optimizers.ts) on WebGPU against TF.js's own Adam and RMSProp on the
 * cpu backend: the variables and every slot (the state a checkpoint saves, under the same names) after three
 * steps, on odd shapes — and one dispatch a variable and one per six for Adam, three a variable for RMSProp.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { WebGPUAdam, WebGPURMSProp } from '../../src/backend/webgpu/optimizers';
import { countDispatches } from '../../src/bench/dispatch-count';
import { Random } from '../../src/model/random';
import { relativeError, useDawn } from './dawn';

beforeAll(useDawn);

// Eight variables: more than one fused Adam moments dispatch reads (six).
const SHAPES = [[3, 5, 7], [13], [1, 3, 2, 9], [5], [2, 2], [7, 3], [1], [3, 1, 1, 4]];

function values(n: number, seed: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
}

type Make = () => tf.Optimizer;
const cases: [string, Make, Make][] = [
  ['adam', () => tf.train.adam(0.01), () => new WebGPUAdam(0.01, 0.9, 0.999)],
  ['rmsprop', () => tf.train.rmsprop(0.01, 0.9), () => new WebGPURMSProp(0.01, 0.9)],
];

let run = 0;

/** `steps` steps; with `resumeAt`, the state is read after that many and the rest taken by a new optimiser restored from it. */
async function train(backend: 'cpu' | 'webgpu', make: Make, steps: number, resumeAt = -1): Promise<{ state: Map<string, Float32Array>; dispatches: number }> {
  await tf.setBackend(backend);
  const prefix = `opt${run++}/`;
  const variables = SHAPES.map((shape, k) => tf.variable(tf.tensor(values(tf.util.sizeFromShape(shape), k), shape), true, `${prefix}w${k}`));
  let optimizer = make();
  let dispatches = 0;
  for (let s = 0; s < steps; s++) {
    if (s === resumeAt) {
      const saved = await Promise.all((await optimizer.getWeights()).map(async (w) => ({ name: w.name, values: await w.tensor.data(), shape: w.tensor.shape })));
      optimizer.dispose();
      optimizer = make();
      await optimizer.setWeights(saved.map((w) => ({ name: w.name, tensor: tf.tensor(w.values, w.shape) })));
    }
    const grads = Object.fromEntries(variables.map((v, k) => [v.name, tf.tensor(values(v.size, 100 * s + k + 10), v.shape)]));
    const counted = await countDispatches(async () => {
      optimizer.applyGradients(grads);
      await variables[0].data();
    });
    dispatches = counted.dispatches;
    tf.dispose(Object.values(grads));
  }
  const state = new Map<string, Float32Array>();
  for (const v of variables) state.set(v.name.slice(prefix.length), (await v.data()) as Float32Array);
  for (const w of await optimizer.getWeights()) state.set(w.name.replace(prefix, ''), (await w.tensor.data()) as Float32Array);
  optimizer.dispose();
  tf.dispose(variables);
  return { state, dispatches };
}

describe('fused optimisers on WebGPU', () => {
  it.each(cases)('%s: variables and slots after three steps match TF.js on cpu within 1e-4', async (_, reference, fused) => {
    const expected = await train('cpu', reference, 3);
    const actual = await train('webgpu', fused, 3);
    expect([...actual.state.keys()].sort()).toEqual([...expected.state.keys()].sort());
    for (const [name, want] of expected.state) expect(relativeError(actual.state.get(name)!, want), name).toBeLessThanOrEqual(1e-4);
  });

  it.each(cases)('%s: a state read after two steps and restored into a new optimiser gives the same third step', async (_, reference, fused) => {
    const expected = await train('cpu', reference, 3);
    const actual = await train('webgpu', fused, 3, 2);
    for (const [name, want] of expected.state) expect(relativeError(actual.state.get(name)!, want), name).toBeLessThanOrEqual(1e-4);
  });

  it.each(cases)('%s: one dispatch a variable and one per six for Adam, three a variable for RMSProp', async (name, __, fused) => {
    const { dispatches } = await train('webgpu', fused, 2);
    expect(dispatches).toBeLessThanOrEqual(name === 'adam' ? SHAPES.length + Math.ceil(SHAPES.length / 6) : 3 * SHAPES.length);
  });
});
