import * as tf from '@tensorflow/tfjs-core';
import type { KernelGeometry } from './masks';

let instances = 0;

export interface LayerDescription {
  readonly name: string;
  readonly geometry: KernelGeometry;
  /** Colour group of each input / output feature. */
  readonly inGroups: Int32Array;
  readonly outGroups: Int32Array;
}

/**
 * The trainable variables of one model, by name. Initial values are drawn from a seed and the variable's name,
 * so the same configuration gives the same weights on every backend and in any creation order.
 */
export class ParamStore {
  private readonly byName = new Map<string, tf.Variable>();
  /** Fixed tensors (masks) that live and die with the model. */
  private readonly fixed: tf.Tensor[] = [];
  /** Every convolution of the model, in creation order: what the panel's kernel-mask view draws. */
  readonly layers: LayerDescription[] = [];
  /** TF.js variable names are global to the engine; a per-instance prefix lets two models coexist. */
  private readonly prefix = `pixel-lab-${instances++}/`;

  constructor(private readonly seed: number) {}

  /** Glorot-uniform initialisation (fan-in / fan-out counted over the whole, unmasked kernel). */
  glorot(name: string, shape: number[], fanIn: number, fanOut: number): tf.Variable {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return this.add(name, tf.randomUniform(shape, -limit, limit, 'float32', `${this.seed}/${name}`));
  }

  constant(name: string, shape: number[], value: number): tf.Variable {
    return this.add(name, tf.fill(shape, value));
  }

  /** Keep a fixed tensor (such as a mask) until the model is disposed. */
  own<T extends tf.Tensor>(t: T): T {
    this.fixed.push(t);
    return t;
  }

  private add(name: string, init: tf.Tensor): tf.Variable {
    if (this.byName.has(name)) throw new Error(`parameter ${name} defined twice`);
    const v = tf.variable(init, true, this.prefix + name);
    init.dispose();
    this.byName.set(name, v);
    return v;
  }

  get variables(): tf.Variable[] {
    return [...this.byName.values()];
  }

  /** Variables by their name inside the model (no instance prefix), in creation order. */
  named(): [string, tf.Variable][] {
    return [...this.byName.entries()];
  }

  get count(): number {
    return this.variables.reduce((n, v) => n + v.size, 0);
  }

  /** Replace every value; names and shapes must match exactly. */
  assign(values: Map<string, tf.Tensor>): void {
    const missing = [...this.byName.keys()].filter((k) => !values.has(k));
    const extra = [...values.keys()].filter((k) => !this.byName.has(k));
    if (missing.length || extra.length) {
      throw new Error(`weights do not fit this architecture: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`);
    }
    for (const [name, v] of this.byName) {
      const value = values.get(name)!;
      if (!tf.util.arraysEqual(value.shape, v.shape)) {
        throw new Error(`weight ${name} has shape [${value.shape}], the architecture needs [${v.shape}]`);
      }
      v.assign(value);
    }
  }

  dispose(): void {
    for (const v of this.byName.values()) v.dispose();
    this.byName.clear();
    tf.dispose(this.fixed.splice(0));
  }
}
