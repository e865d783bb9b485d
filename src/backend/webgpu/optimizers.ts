/**
 * Adam and RMSProp with their per-variable update fused on WebGPU: two dispatches a variable for Adam (both
 * moments, then the step), three for RMSProp, instead of TF.js's fourteen. Same state, same names, same checkpoints as TF.js's optimisers —
 * these are subclasses that take the fused path only while the backend is webgpu (and non-centred RMSProp).
 *
 * Hook: create the optimiser with `createOptimizer` (src/train/checkpoint.ts makes `tf.train.adam` /
 * `tf.train.rmsprop(lr, 0.9)` today).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu/dist/webgpu_program';
import { AdamMomentsProgram } from './adam-moments';
import { AdamUpdateProgram } from './adam-update';
import { MomentProgram } from './moment';
import { floatUniforms, fusedEnabled } from './program';
import { RMSPropMomentumProgram } from './rmsprop-momentum';

type Slot = { originalName: string; variable: tf.Variable };
type Gradients = Parameters<tf.Optimizer['applyGradients']>[0];
type NamedTensors = Awaited<ReturnType<tf.Optimizer['getWeights']>>;

function entries(variableGradients: Gradients): [string, tf.Tensor | undefined][] {
  return Array.isArray(variableGradients) ? variableGradients.map((v) => [v.name, v.tensor] as [string, tf.Tensor]) : Object.entries(variableGradients);
}

/** The slot of variable i, made as zeros the first time (as TF.js's optimisers do). */
function slot(slots: Slot[], i: number, value: tf.Variable, suffix: string): tf.Variable {
  slots[i] ??= { originalName: `${value.name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
  return slots[i].variable;
}

/** Run a program and give its output as a tensor of the current scope. */
function run(program: WebGPUProgram, inputs: tf.Tensor[], uniforms: { type: 'int32' | 'float32'; data: number[] }[]): tf.Tensor {
  const backend = tf.backend() as unknown as WebGPUBackend;
  const info = backend.runWebGPUProgram(program, inputs, 'float32', uniforms as never);
  return tf.engine().makeTensorFromTensorInfo(info);
}

/**
 * Adam in two dispatches a variable: both moments at once (kept packed, m then v, in one slot of 2n values),
 * then the step. TF.js's own slots (`name/m`, `name/v`) are kept in step whenever the state is read
 * (`getWeights`, a checkpoint), and are where a restored state (`setWeights`) or an unfused step starts from.
 */
export class WebGPUAdam extends tf.AdamOptimizer {
  /** Per variable index: m and v packed, while the fused path owns the state. */
  private packed: (tf.Variable | undefined)[] = [];

  override applyGradients(variableGradients: Gradients): void {
    const self = this as unknown as AdamState;
    if (tf.getBackend() !== 'webgpu' || !fusedEnabled()) {
      this.unpack();
      return super.applyGradients(variableGradients as never);
    }
    const t = this.iterations + 1;
    const c1 = 1 - this.beta1 ** t;
    const c2 = 1 - this.beta2 ** t;
    tf.tidy(() => {
      entries(variableGradients).forEach(([name, gradient], i) => {
        const value = tf.engine().registeredVariables[name];
        const m = slot(self.accumulatedFirstMoment, i, value, 'm');
        const v = slot(self.accumulatedSecondMoment, i, value, 'v');
        this.packed[i] ??= tf.concat([tf.reshape(m, [-1]), tf.reshape(v, [-1])]).variable(false);
        if (!gradient) return;
        const n = value.size;
        const moments = run(new AdamMomentsProgram(n), [this.packed[i]!, gradient], [
          { type: 'int32', data: [2 * n] },
          { type: 'int32', data: [n] },
          { type: 'float32', data: [this.beta1] },
          { type: 'float32', data: [this.beta2] },
        ]);
        this.packed[i]!.assign(moments);
        value.assign(run(new AdamUpdateProgram(value.shape), [value, moments], floatUniforms(n, [this.learningRate, c1, c2, self.epsilon])));
      });
      // TF.js keeps β^t as variables; they stay right for a later unfused step or a checkpoint.
      self.accBeta1.assign(tf.scalar(this.beta1 ** (t + 1)));
      self.accBeta2.assign(tf.scalar(this.beta2 ** (t + 1)));
    });
    this.incrementIterations();
  }

  /** TF.js's slots brought up to date from the packed ones (which stay in use). */
  private syncSlots(): void {
    const self = this as unknown as AdamState;
    tf.tidy(() => {
      this.packed.forEach((mv, i) => {
        if (!mv) return;
        const m = self.accumulatedFirstMoment[i].variable;
        const [mNew, vNew] = tf.split(mv, 2);
        m.assign(tf.reshape(mNew, m.shape));
        self.accumulatedSecondMoment[i].variable.assign(tf.reshape(vNew, m.shape));
      });
    });
  }

  /** Hand the state back to TF.js's slots and drop the packed ones. */
  private unpack(): void {
    this.syncSlots();
    tf.dispose(this.packed.filter((p): p is tf.Variable => !!p));
    this.packed = [];
  }

  override async getWeights(): Promise<NamedTensors> {
    this.syncSlots();
    return super.getWeights();
  }

  override async setWeights(weightValues: NamedTensors): Promise<void> {
    tf.dispose(this.packed.filter((p): p is tf.Variable => !!p));
    this.packed = [];
    return super.setWeights(weightValues);
  }

  override dispose(): void {
    tf.dispose(this.packed.filter((p): p is tf.Variable => !!p));
    this.packed = [];
    super.dispose();
  }
}

type AdamState = { accumulatedFirstMoment: Slot[]; accumulatedSecondMoment: Slot[]; accBeta1: tf.Variable; accBeta2: tf.Variable; epsilon: number };

export class WebGPURMSProp extends tf.RMSPropOptimizer {
  override applyGradients(variableGradients: Gradients): void {
    const self = this as unknown as { accumulatedMeanSquares: Slot[]; accumulatedMoments: Slot[]; centered: boolean; decay: number; momentum: number; epsilon: number };
    if (tf.getBackend() !== 'webgpu' || self.centered || !fusedEnabled()) return super.applyGradients(variableGradients as never);
    tf.tidy(() => {
      entries(variableGradients).forEach(([name, gradient], i) => {
        const value = tf.engine().registeredVariables[name];
        const ms = slot(self.accumulatedMeanSquares, i, value, 'rms');
        const mom = slot(self.accumulatedMoments, i, value, 'momentum');
        if (!gradient) return;
        const n = value.size;
        const newMs = run(new MomentProgram(value.shape, 2), [ms, gradient], floatUniforms(n, [self.decay]));
        const newMom = run(new RMSPropMomentumProgram(value.shape), [mom, gradient, newMs], floatUniforms(n, [self.momentum, this.learningRate, self.epsilon]));
        ms.assign(newMs);
        mom.assign(newMom);
        value.assign(tf.sub(value, newMom));
      });
    });
    this.incrementIterations();
  }
}

/** The optimisers of an experiment: TF.js's own on every backend, fused on webgpu. */
export function createOptimizer(name: 'adam' | 'rmsprop', learningRate: number): tf.Optimizer {
  return name === 'adam' ? new WebGPUAdam(learningRate, 0.9, 0.999) : new WebGPURMSProp(learningRate, 0.9);
}
