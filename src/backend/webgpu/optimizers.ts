/**
 * Adam and RMSProp with their update fused on WebGPU: about 1⅙ dispatches a variable for Adam (the moments of
 * six variables at once, then a step each), three for RMSProp, instead of TF.js's fourteen. Same state, same
 * names, same checkpoints as TF.js's optimisers: these are subclasses that take the fused path only while the
 * backend is webgpu (and, for RMSProp, not centred).
 *
 * Hook: create the optimiser with `createOptimizer` (src/train/checkpoint.ts makes `tf.train.adam` /
 * `tf.train.rmsprop(lr, 0.9)` today).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu/dist/webgpu_program';
import { ADAM_MOMENTS_INPUTS, AdamMomentsProgram } from './adam-moments';
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
 * Adam in about 1⅙ dispatches a variable: the moments of up to six variables at once, written in place into one
 * state buffer holding every variable's m and v, then one step a variable. TF.js's own slots (`name/m`,
 * `name/v`) are brought up to date whenever the state is read (`getWeights`, a checkpoint), and are where a
 * restored state (`setWeights`) or an unfused step starts from.
 */
export class WebGPUAdam extends tf.AdamOptimizer {
  /** Every variable's m and v, packed, while the fused path owns the state; `key` names the variables in order. */
  private state: { key: string; mv: tf.Variable; offsets: number[] } | null = null;

  override applyGradients(variableGradients: Gradients): void {
    const self = this as unknown as AdamState;
    if (tf.getBackend() !== 'webgpu' || !fusedEnabled()) {
      this.unpack();
      return super.applyGradients(variableGradients as never);
    }
    const list = entries(variableGradients);
    const values = list.map(([name]) => tf.engine().registeredVariables[name]);
    const key = list.map(([name]) => name).join('\n');
    if (this.state && this.state.key !== key) this.unpack();
    const t = this.iterations + 1;
    const c1 = 1 - this.beta1 ** t;
    const c2 = 1 - this.beta2 ** t;
    tf.tidy(() => {
      const state = (this.state ??= this.pack(key, values));
      const backend = tf.backend() as unknown as WebGPUBackend;
      const withGradient = list.map(([, g], i) => ({ g, i })).filter((x): x is { g: tf.Tensor; i: number } => !!x.g);
      for (let first = 0; first < withGradient.length; first += ADAM_MOMENTS_INPUTS) {
        const chunk = withGradient.slice(first, first + ADAM_MOMENTS_INPUTS);
        const uniforms: { type: 'int32' | 'float32'; data: number[] }[] = [
          { type: 'float32', data: [this.beta1] },
          { type: 'float32', data: [this.beta2] },
        ];
        let count = 0;
        for (const { i } of chunk) {
          uniforms.push({ type: 'int32', data: [count] }, { type: 'int32', data: [state.offsets[i]] }, { type: 'int32', data: [values[i].size] });
          count += values[i].size;
        }
        const program = new AdamMomentsProgram(state.mv.shape, count, chunk.length);
        backend.runWebGPUProgram(program, chunk.map((c) => c.g), 'float32', [{ type: 'int32', data: [count] }, ...uniforms] as never, state.mv as never);
      }
      for (const { i } of withGradient) {
        const value = values[i];
        const uniforms = [
          { type: 'int32' as const, data: [value.size] },
          { type: 'int32' as const, data: [state.offsets[i]] },
          ...[this.learningRate, c1, c2, self.epsilon].map((v) => ({ type: 'float32' as const, data: [v] })),
        ];
        value.assign(run(new AdamUpdateProgram(value.shape), [value, state.mv], uniforms));
      }
      // TF.js keeps β^t as variables; they stay right for a later unfused step or a checkpoint.
      self.accBeta1.assign(tf.scalar(this.beta1 ** (t + 1)));
      self.accBeta2.assign(tf.scalar(this.beta2 ** (t + 1)));
    });
    this.incrementIterations();
  }

  /** The packed state, from TF.js's slots (zeros where there are none yet). */
  private pack(key: string, values: tf.Variable[]): { key: string; mv: tf.Variable; offsets: number[] } {
    const self = this as unknown as AdamState;
    const offsets: number[] = [];
    let at = 0;
    const parts = values.flatMap((value, i) => {
      offsets.push(at);
      at += 2 * value.size;
      const m = slot(self.accumulatedFirstMoment, i, value, 'm');
      const v = slot(self.accumulatedSecondMoment, i, value, 'v');
      return [tf.reshape(m, [-1]), tf.reshape(v, [-1])];
    });
    return { key, mv: tf.tidy(() => tf.concat(parts).variable(false)), offsets };
  }

  /** TF.js's slots brought up to date from the packed state (which stays in use). */
  private syncSlots(): void {
    const self = this as unknown as AdamState;
    const state = this.state;
    if (!state) return;
    tf.tidy(() => {
      state.offsets.forEach((at, i) => {
        const m = self.accumulatedFirstMoment[i].variable;
        m.assign(tf.reshape(tf.slice(state.mv, at, m.size), m.shape));
        self.accumulatedSecondMoment[i].variable.assign(tf.reshape(tf.slice(state.mv, at + m.size, m.size), m.shape));
      });
    });
  }

  /** Hand the state back to TF.js's slots and drop the packed one. */
  private unpack(): void {
    this.syncSlots();
    this.state?.mv.dispose();
    this.state = null;
  }

  override async getWeights(): Promise<NamedTensors> {
    this.syncSlots();
    return super.getWeights();
  }

  override async setWeights(weightValues: NamedTensors): Promise<void> {
    this.state?.mv.dispose();
    this.state = null;
    return super.setWeights(weightValues);
  }

  override dispose(): void {
    this.state?.mv.dispose();
    this.state = null;
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
