/**
 * Adam and RMSProp with their per-variable update fused on WebGPU: three dispatches a variable (the moments,
 * then the step) instead of TF.js's fourteen. Same state, same names, same checkpoints as TF.js's optimisers —
 * these are subclasses that take the fused path only while the backend is webgpu (and non-centred RMSProp).
 *
 * Hook: create the optimiser with `createOptimizer` (src/train/checkpoint.ts makes `tf.train.adam` /
 * `tf.train.rmsprop(lr, 0.9)` today).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu/dist/webgpu_program';
import { AdamUpdateProgram } from './adam-update';
import { MomentProgram } from './moment';
import { floatUniforms, fusedEnabled } from './program';
import { RMSPropMomentumProgram } from './rmsprop-momentum';

type Slot = { originalName: string; variable: tf.Variable };
type Gradients = Parameters<tf.Optimizer['applyGradients']>[0];

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

export class WebGPUAdam extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Gradients): void {
    if (tf.getBackend() !== 'webgpu' || !fusedEnabled()) return super.applyGradients(variableGradients as never);
    const self = this as unknown as { accumulatedFirstMoment: Slot[]; accumulatedSecondMoment: Slot[]; accBeta1: tf.Variable; accBeta2: tf.Variable; epsilon: number };
    const t = this.iterations + 1;
    const c1 = 1 - this.beta1 ** t;
    const c2 = 1 - this.beta2 ** t;
    tf.tidy(() => {
      entries(variableGradients).forEach(([name, gradient], i) => {
        const value = tf.engine().registeredVariables[name];
        const m = slot(self.accumulatedFirstMoment, i, value, 'm');
        const v = slot(self.accumulatedSecondMoment, i, value, 'v');
        if (!gradient) return;
        const n = value.size;
        const newM = run(new MomentProgram(value.shape, 1), [m, gradient], floatUniforms(n, [this.beta1]));
        const newV = run(new MomentProgram(value.shape, 2), [v, gradient], floatUniforms(n, [this.beta2]));
        m.assign(newM);
        v.assign(newV);
        value.assign(run(new AdamUpdateProgram(value.shape), [value, newM, newV], floatUniforms(n, [this.learningRate, c1, c2, self.epsilon])));
      });
      // TF.js keeps β^t as variables; they stay right for a later unfused step or a checkpoint.
      self.accBeta1.assign(tf.scalar(this.beta1 ** (t + 1)));
      self.accBeta2.assign(tf.scalar(this.beta2 ** (t + 1)));
    });
    this.incrementIterations();
  }
}

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
