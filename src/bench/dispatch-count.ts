/**
 * Counting GPU work: every compute dispatch and every queue submit, by wrapping
 * `GPUComputePassEncoder.prototype.dispatchWorkgroups` and `GPUQueue.prototype.submit` (the WebGPU globals; in
 * Node, Dawn's). On a real GPU a step of hundreds of tiny ops is bound by TF.js's per-op CPU work, so the number
 * of dispatches is the figure to hold down; it means the same on a software adapter as on a GPU.
 */

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
