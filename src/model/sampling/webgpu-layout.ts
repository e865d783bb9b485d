/**
 * Cached sampling on WebGPU keeps the network's activations in one workspace and its weights in one packed
 * tensor (see src/backend/webgpu/sample-program.ts); this file lays both out.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Grid, MapRef, PackedConv, SampleProgram, Uniform } from '../../backend/webgpu/sample-program';
import type { HeadShape } from '../../backend/webgpu/sample-head';
import type { Head } from '../heads';
import type { Conv2D, OutputStack } from '../layers';

/** Regions of the workspace: maps [H][W][N][F] and plain blocks. */
export class WorkspaceLayout {
  size = 0;

  constructor(readonly grid: Grid) {}

  map(features: number): MapRef {
    const { count, height, width } = this.grid;
    const ref = { at: this.size, features };
    this.size += height * width * count * features;
    return ref;
  }

  block(size: number): number {
    const at = this.size;
    this.size += size;
    return at;
  }
}

/** Every convolution's kernel (as applied: masked) and bias, one after another in one flat tensor. */
export class WeightPack {
  private readonly parts: tf.Tensor[] = [];
  private size = 0;

  add(conv: Conv2D): PackedConv {
    const { rows, cols, cy, cx, mask } = conv.geometry;
    const [, , nIn, nOut] = conv.kernel.shape as number[];
    const kernelAt = this.push(tf.tidy(() => tf.reshape(conv.weights(), [-1])));
    const biasAt = this.push(conv.bias ? tf.reshape(conv.bias, [-1]) : tf.zeros([nOut]));
    return { rows, cols, cy, cx, masked: mask !== 'none', nIn, nOut, kernelAt, biasAt };
  }

  /** The packed tensor (the parts are disposed). */
  build(): tf.Tensor1D {
    const packed = tf.concat(this.parts) as tf.Tensor1D;
    tf.dispose(this.parts.splice(0));
    return packed;
  }

  private push(t: tf.Tensor): number {
    const at = this.size;
    this.parts.push(t);
    this.size += t.size;
    return at;
  }
}

/** Runs one program on the workspace, with the packed weights (and whatever else it reads) bound. */
export type Dispatch = (program: SampleProgram, uniforms: Uniform[]) => void;

/** A network laid out for cached sampling on WebGPU. */
export interface WebGPUNetwork {
  readonly layout: WorkspaceLayout;
  /** The encoded image map, [H][W][N][C]. */
  readonly image: MapRef;
  readonly head: HeadShape;
  /** Work before the pixels of row i (every row above is final). */
  beginRow(i: number, run: Dispatch): void;
  /** The layers at columns j0 … j0 + positions / N − 1 of row i (up to the output stack's input). */
  columns(i: number, j0: number, columns: number, run: Dispatch): void;
  /** Row i is given, not drawn (completion): whatever rows below read of it. */
  givenRow(i: number, run: Dispatch): void;
}

/** The output stack and the draw, laid out: where they read and write. */
export function headShape(layout: WorkspaceLayout, pack: WeightPack, stack: OutputStack, head: Head, input: MapRef, image: MapRef): HeadShape {
  const bernoulli = head.config.kind === 'bernoulli';
  const perChannel = bernoulli ? 1 : head.levels;
  return {
    input,
    hidden: stack.hidden ? pack.add(stack.hidden) : null,
    logits: pack.add(stack.logits),
    image,
    logitsAt: layout.block(layout.grid.count * image.features * perChannel),
    levels: head.levels,
    bernoulli,
    scale: Math.fround(2 / (head.levels - 1)),
  };
}
