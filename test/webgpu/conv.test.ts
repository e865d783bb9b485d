/**
 * The fused masked convolution (src/backend/webgpu/conv*.ts) against the cpu backend's unfused ops
 * (mask multiply, conv2d, bias, ReLUs, shift, residual add): the value and the gradients of the input, kernel,
 * bias and addend, for 1×1, 1×3, 3×3 and 7×7 kernels under mask A, mask B and none, 1 and 3 colour channels,
 * gate blocks, odd map sizes where the kernel hangs over every edge — and the dispatches it costs.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { countDispatches } from '../../src/bench/dispatch-count';
import { Conv2D, type ConvApply, type ConvFeatures } from '../../src/model/layers';
import { causalGeometry, type KernelGeometry } from '../../src/model/masks';
import { ParamStore } from '../../src/model/params';
import { Random } from '../../src/model/random';
import { relativeError, useDawn } from './dawn';

beforeAll(useDawn);

/** `image`: the input is a binary image cast from bool, as the trainer makes it (on webgpu an integer buffer). */
type Options = { shiftDown?: boolean; reluIn?: boolean; reluOut?: boolean; add?: boolean; image?: boolean };
type Case = [string, KernelGeometry, ConvFeatures, Options, [number, number, number]];

const cases: Case[] = [
  ['7×7 mask A, 1 colour, image in, ReLU out', causalGeometry(7, 7, 'A'), { in: 1, out: 8, colours: 1 }, { reluOut: true, image: true }, [2, 9, 7]],
  ['7×7 mask A, 3 colours', causalGeometry(7, 7, 'A'), { in: 3, out: 9, colours: 3 }, {}, [1, 5, 8]],
  ['3×3 mask B, 1 colour, ReLU out', causalGeometry(3, 3, 'B'), { in: 5, out: 7, colours: 1 }, { reluOut: true }, [2, 7, 5]],
  ['3×3 mask B, 3 colours, ReLU in and out', causalGeometry(3, 3, 'B'), { in: 6, out: 9, colours: 3 }, { reluIn: true, reluOut: true }, [2, 3, 5]],
  ['1×1 mask B, 3 colours, residual add', causalGeometry(1, 1, 'B'), { in: 6, out: 12, colours: 3 }, { add: true }, [2, 5, 3]],
  ['1×1 mask B, 1 colour, ReLU in, no bias', causalGeometry(1, 1, 'B'), { in: 4, out: 3, colours: 1, bias: false }, { reluIn: true }, [3, 1, 1]],
  ['1×3 mask A, 3 colours, gate blocks', causalGeometry(1, 3, 'A'), { in: 3, out: 12, colours: 3, outChunks: 2 }, {}, [2, 4, 7]],
  ['1×3 mask B, 3 colours, gate blocks, residual add', causalGeometry(1, 3, 'B'), { in: 6, out: 12, colours: 3, outChunks: 2 }, { add: true }, [1, 6, 5]],
  ['2×3 unmasked (vertical stack), 3 colours', { rows: 2, cols: 3, cy: 1, cx: 1, mask: 'none' }, { in: 3, out: 12, colours: 3, outChunks: 2 }, {}, [2, 5, 5]],
  ['1×1 unmasked, shifted down, gate blocks in', causalGeometry(1, 1, 'none'), { in: 8, out: 8, colours: 1, inChunks: 2, outChunks: 2 }, { shiftDown: true }, [2, 5, 3]],
];

function values(n: number, seed: number, low: number, high: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: n }, () => low + rng.next() * (high - low));
}

async function run(backend: 'cpu' | 'webgpu', geometry: KernelGeometry, features: ConvFeatures, options: Options, [b, h, w]: number[]) {
  await tf.setBackend(backend);
  const params = new ParamStore(5);
  const conv = new Conv2D(params, 'conv', geometry, features);
  conv.kernel.assign(tf.tensor(values(conv.kernel.size, 1, -1, 1), conv.kernel.shape));
  conv.bias?.assign(tf.tensor(values(conv.bias.size, 2, -0.5, 0.5), conv.bias.shape));
  const raw = tf.tensor4d(values(b * h * w * features.in, 3, -1, 1), [b, h, w, features.in]);
  const x = options.image ? tf.cast(tf.greater(raw, 0), 'float32') : raw;
  const outShape: [number, number, number, number] = [b, h, w, features.out];
  const add = tf.tensor4d(values(b * h * w * features.out, 4, -1, 1), outShape);
  // A loss that weighs every output differently, so that every path back matters.
  const weights = tf.tensor4d(values(b * h * w * features.out, 5, -1, 1), outShape);
  const apply = (input: tf.Tensor, addend: tf.Tensor): tf.Tensor => {
    const o: ConvApply = { shiftDown: options.shiftDown, reluIn: options.reluIn, reluOut: options.reluOut, add: options.add ? (addend as tf.Tensor4D) : undefined };
    return conv.apply(input as tf.Tensor4D, o);
  };
  const y = apply(x, add);
  const loss = (input: tf.Tensor, addend: tf.Tensor) => tf.sum(tf.mul(apply(input, addend), weights)) as tf.Scalar;
  const [dx, dAdd] = options.add ? tf.grads(loss)([x, add]) : [tf.grad((input: tf.Tensor) => loss(input, add))(x), tf.zeros([1])];
  const { grads } = tf.variableGrads(() => loss(x, add), params.variables);
  const out: Record<string, Float32Array> = {
    y: (await y.data()) as Float32Array,
    dx: (await dx.data()) as Float32Array,
    dKernel: (await grads[conv.kernel.name].data()) as Float32Array,
  };
  if (conv.bias) out.dBias = (await grads[conv.bias.name].data()) as Float32Array;
  if (options.add) out.dAdd = (await dAdd.data()) as Float32Array;
  tf.dispose([raw, x, add, weights, y, dx, dAdd, ...Object.values(grads)]);
  params.dispose();
  return out;
}

describe('fused masked convolution on WebGPU', () => {
  it.each(cases)('%s: value and gradients match the cpu backend within 1e-4', async (_, geometry, features, options, shape) => {
    const expected = await run('cpu', geometry, features, options, shape);
    const actual = await run('webgpu', geometry, features, options, shape);
    expect(Object.keys(actual)).toEqual(Object.keys(expected));
    for (const key of Object.keys(expected)) {
      // The masked entries of δK are exactly zero on both.
      expect(relativeError(actual[key], expected[key]), key).toBeLessThanOrEqual(1e-4);
    }
    const zeros = (a: Float32Array) => a.reduce((n, v) => n + (v === 0 ? 1 : 0), 0);
    expect(zeros(actual.dKernel)).toBe(zeros(expected.dKernel));
  });

  it('costs one dispatch forward, and one per gradient asked for backward', async () => {
    await tf.setBackend('webgpu');
    const params = new ParamStore(5);
    const conv = new Conv2D(params, 'conv', causalGeometry(3, 3, 'B'), { in: 6, out: 6, colours: 3 });
    const x = tf.tensor4d(values(2 * 5 * 5 * 6, 3, -1, 1), [2, 5, 5, 6]);
    const dy = tf.tensor4d(values(2 * 5 * 5 * 6, 4, -1, 1), [2, 5, 5, 6]);
    const count = async (f: () => tf.Tensor[]) =>
      (
        await countDispatches(async () => {
          const out = f();
          await Promise.all(out.map((t) => t.data()));
          tf.dispose(out);
        })
      ).dispatches;
    const forward = () => [conv.apply(x, { reluIn: true, reluOut: true })];
    // The tape asks for the kernel's and the bias's gradients only: no δx.
    const weightsOnly = () => tf.grads((k: tf.Tensor, b: tf.Tensor) => {
      void k;
      void b;
      return conv.apply(x, { reluIn: true, reluOut: true });
    })([conv.kernel, conv.bias!], dy);
    const all = () => tf.grads((input: tf.Tensor) => conv.apply(input as tf.Tensor4D, { reluIn: true, reluOut: true }))([x], dy);
    expect(await count(forward)).toBe(1);
    expect(await count(weightsOnly)).toBe(3);
    expect(await count(all)).toBe(2);
    tf.dispose([x, dy]);
    params.dispose();
  });
});
