/**
 * Counting GPU work: every compute dispatch and every queue submit, by wrapping
 * `GPUComputePassEncoder.prototype.dispatchWorkgroups` and `GPUQueue.prototype.submit` (the WebGPU globals; in
 * Node, Dawn's). On a real GPU a step of hundreds of tiny ops is bound by TF.js's per-op CPU work, so the number
 * of dispatches is the figure to hold down; it means the same on a software adapter as on a GPU.
 */

import { getKernelsForBackend, type KernelFunc } from '@tensorflow/tfjs-core';

export interface DispatchCount {
  readonly dispatches: number;
  readonly submits: number;
}

const counted = { dispatches: 0, submits: 0 };
let wrapped = false;

/** Wrap the two WebGPU entry points once (idempotent). Throws when this environment has no WebGPU globals. */
export function installDispatchCounter(): void {
  if (wrapped) return;
  const g = globalThis as unknown as {
    GPUComputePassEncoder?: { prototype: GPUComputePassEncoder };
    GPUQueue?: { prototype: GPUQueue };
  };
  if (!g.GPUComputePassEncoder || !g.GPUQueue) throw new Error('no WebGPU globals (GPUComputePassEncoder, GPUQueue) to count on');
  const pass = g.GPUComputePassEncoder.prototype;
  const dispatch = pass.dispatchWorkgroups;
  pass.dispatchWorkgroups = function (this: GPUComputePassEncoder, ...args: Parameters<GPUComputePassEncoder['dispatchWorkgroups']>) {
    counted.dispatches++;
    return dispatch.apply(this, args);
  };
  const queue = g.GPUQueue.prototype;
  const submit = queue.submit;
  queue.submit = function (this: GPUQueue, ...args: Parameters<GPUQueue['submit']>) {
    counted.submits++;
    return submit.apply(this, args);
  };
  wrapped = true;
}

/** The dispatches and submits made while `work` runs (its promise included). */
export async function countDispatches<T>(work: () => Promise<T> | T): Promise<{ result: T } & DispatchCount> {
  installDispatchCounter();
  const before = { ...counted };
  const result = await work();
  return { result, dispatches: counted.dispatches - before.dispatches, submits: counted.submits - before.submits };
}

/**
 * The dispatches of `work` by the TF.js kernel that made them (the outermost one: a kernel that runs others
 * counts theirs), most first: where a step's dispatches come from. Wraps every kernel registered for `backend`
 * while `work` runs.
 */
export async function dispatchesByKernel<T>(backend: string, work: () => Promise<T> | T): Promise<{ result: T; byKernel: [string, number][] }> {
  installDispatchCounter();
  const byKernel = new Map<string, number>();
  const configs = getKernelsForBackend(backend);
  const originals = configs.map((config) => config.kernelFunc);
  const start = counted.dispatches;
  let depth = 0;
  configs.forEach((config, i) => {
    const original = originals[i];
    (config as { kernelFunc: KernelFunc }).kernelFunc = (args) => {
      if (depth > 0) return original(args);
      depth++;
      const before = counted.dispatches;
      try {
        return original(args);
      } finally {
        depth--;
        byKernel.set(config.kernelName, (byKernel.get(config.kernelName) ?? 0) + counted.dispatches - before);
      }
    };
  });
  try {
    const result = await work();
    // Programs run outside any kernel: the fused optimisers, and the gradients of fused kernels (gradient
    // functions call the backend directly).
    const outside = counted.dispatches - start - [...byKernel.values()].reduce((a, b) => a + b, 0);
    byKernel.set('(no kernel)', outside);
    return { result, byKernel: [...byKernel].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]) };
  } finally {
    configs.forEach((config, i) => ((config as { kernelFunc: KernelFunc }).kernelFunc = originals[i]));
  }
}
