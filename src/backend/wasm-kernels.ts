/**
 * Kernels the TF.js wasm backend (4.22) lacks or runs slowly, registered over its own:
 *
 *   Conv2DBackpropFilter  missing: no convolution can train on wasm without it.
 *   Conv2DBackpropInput   exists but is a naive loop; here it is a forward convolution (XNNPACK) of the output
 *                         gradient with the kernel flipped 180° and its in/out channels swapped.
 *   Slice, Unpack, SplitV copy the whole input out of the wasm heap on every call (readSync); here they read the
 *                         heap in place and copy only what they return.
 *   Reverse, Concat       an index computation per element / a TypedArray.set per run; here runs are copied by
 *                         hand, which is what the LSTMs' many small gate blocks need.
 *   Sum                   over leading axes, transposes them to the end first; here one pass down the rows.
 *   Tanh                  a scalar libm call per element (~30 ns); here 2σ(2x) − 1 on the vectorised sigmoid,
 *                         about ten times faster, absolute error ~1e-7.
 *   Identity, Cast        copy the buffer; TF.js clones every tensor it saves for the backward pass, so training
 *                         paid a full copy per saved tensor. Tensors are immutable: here they share the buffer
 *                         (reference-counted, as Reshape already does), as on the cpu and WebGL backends.
 *
 * Only the stride-1, dilation-1, channels-last convolutions the engine uses are handled; anything else is
 * refused with an error rather than computed wrongly.
 */
import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropFilterInputs,
  Cast,
  type CastAttrs,
  Concat,
  type ConcatAttrs,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type Conv2DBackpropInputInputs,
  getKernel,
  Identity,
  Tanh,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  registerKernel,
  Reverse,
  type ReverseAttrs,
  Slice,
  type SliceAttrs,
  slice_util,
  SplitV,
  type SplitVAttrs,
  Sum,
  type SumAttrs,
  type TensorInfo,
  unregisterKernel,
  Unpack,
  type UnpackAttrs,
  util,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const BACKEND = 'wasm';

/** Run another wasm kernel from inside a kernel. */
function run(name: string, backend: BackendWasm, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
  const kernel = getKernel(name, BACKEND);
  if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
  return kernel.kernelFunc({ inputs, attrs, backend }) as TensorInfo;
}

function release(backend: BackendWasm, ...tensors: TensorInfo[]): void {
  for (const t of tensors) backend.disposeData(t.dataId);
}

// ---------------------------------------------------------------------------------------------------------------
// Slicing that reads the heap in place

type Heap = Float32Array | Int32Array | Uint8Array;

/** The whole wasm heap as elements of the tensor's type (taken after any allocation: growing detaches views). */
function heapOf(backend: BackendWasm, dtype: string): Heap {
  const buffer = (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer;
  if (dtype === 'float32') return new Float32Array(buffer);
  if (dtype === 'int32') return new Int32Array(buffer);
  return new Uint8Array(buffer);
}

/** Where a tensor starts in `heapOf`, in elements. */
function startOf(backend: BackendWasm, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset / util.bytesPerElement(t.dtype as 'float32');
}

function rowMajorStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let a = shape.length - 1; a >= 0; a--) {
    strides[a] = s;
    s *= shape[a];
  }
  return strides;
}

/**
 * Copy `length` elements within the heap. copyWithin is a memmove but costs ~1 µs a call; below a few dozen
 * elements a plain loop is faster. (TypedArray.set with a subarray is slower than both.)
 */
function copyRun(heap: Heap, from: number, to: number, length: number): void {
  if (length >= 32) {
    heap.copyWithin(to, from, from + length);
  } else {
    for (let e = 0; e < length; e++) heap[to + e] = heap[from + e];
  }
}

/** Copy the box [begin, begin + size) of a row-major array of `shape` at `src` to `dst`, in contiguous runs. */
export function copyBox(heap: Heap, src: number, shape: readonly number[], begin: readonly number[], size: readonly number[], dst: number): void {
  const strides = rowMajorStrides(shape);
  // The innermost axes the box spans fully are read as one run together with the last partial axis.
  let k = shape.length - 1;
  while (k > 0 && size[k] === shape[k]) k--;
  const run = size[k] * strides[k];
  let count = 1;
  for (let a = 0; a < k; a++) count *= size[a];
  const index = new Array<number>(k).fill(0);
  let from = src;
  for (let a = 0; a <= k; a++) from += begin[a] * strides[a];
  for (let n = 0, to = dst; n < count; n++, to += run) {
    copyRun(heap, from, to, run);
    for (let a = k - 1; a >= 0; a--) {
      from += strides[a];
      if (++index[a] < size[a]) break;
      from -= index[a] * strides[a];
      index[a] = 0;
    }
  }
}

/** Reverse an array of `shape` along `axes`: contiguous runs below the innermost reversed axis are kept whole. */
export function reverseInto(heap: Heap, src: number, shape: readonly number[], axes: readonly number[], dst: number): void {
  const strides = rowMajorStrides(shape);
  const last = Math.max(...axes);
  const run = strides[last];
  const flipped = shape.map((_, a) => axes.includes(a));
  const index = new Array<number>(last + 1).fill(0);
  let count = 1;
  for (let a = 0; a <= last; a++) count *= shape[a];
  for (let n = 0, to = dst; n < count; n++, to += run) {
    let from = src;
    for (let a = 0; a <= last; a++) from += (flipped[a] ? shape[a] - 1 - index[a] : index[a]) * strides[a];
    copyRun(heap, from, to, run);
    for (let a = last; a >= 0; a--) {
      if (++index[a] < shape[a]) break;
      index[a] = 0;
    }
  }
}

function sliceInPlace(backend: BackendWasm, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  if (util.sizeFromShape(size) === 0) return out;
  copyBox(heapOf(backend, x.dtype), startOf(backend, x), x.shape, begin, size, startOf(backend, out));
  return out;
}

function makeSlice(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string') return stock(args);
    const { begin, size } = args.attrs as unknown as SliceAttrs;
    const [b, s] = slice_util.parseSliceParams(x as never, begin, size);
    return sliceInPlace(args.backend as BackendWasm, x, b, s);
  };
}

function makeUnpack(stock: KernelFunc): KernelFunc {
  return (args) => {
    const value = args.inputs.value as TensorInfo;
    if (value.dtype === 'string') return stock(args);
    const backend = args.backend as BackendWasm;
    const rank = value.shape.length;
    let { axis } = args.attrs as unknown as UnpackAttrs;
    if (axis < 0) axis += rank;
    const outShape = value.shape.filter((_, a) => a !== axis);
    const begin = new Array<number>(rank).fill(0);
    const size = value.shape.slice();
    size[axis] = 1;
    return Array.from({ length: value.shape[axis] }, (_, i) => {
      begin[axis] = i;
      const { dataId, dtype } = sliceInPlace(backend, value, begin, size);
      return { dataId, dtype, shape: outShape };
    });
  };
}

function makeSplitV(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string') return stock(args);
    const backend = args.backend as BackendWasm;
    const { numOrSizeSplits, axis } = args.attrs as unknown as SplitVAttrs;
    const a = util.parseAxisParam(axis, x.shape)[0];
    const sizes = backend_util.prepareSplitSize(x as never, numOrSizeSplits, a);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = x.shape.slice();
      size[a] = s;
      const out = sliceInPlace(backend, x, begin, size);
      begin[a] += s;
      return out;
    });
  };
}

function makeReverse(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const axes = util.parseAxisParam((args.attrs as unknown as ReverseAttrs).dims, x.shape);
    if (x.dtype === 'string' || x.shape.length === 0 || axes.length === 0) return stock(args);
    const backend = args.backend as BackendWasm;
    const out = backend.makeOutput(x.shape, x.dtype);
    reverseInto(heapOf(backend, x.dtype), startOf(backend, x), x.shape, axes, startOf(backend, out));
    return out;
  };
}

/** Concatenation with the same run-length copying (the stock kernel calls TypedArray.set per run). */
function makeConcat(stock: KernelFunc): KernelFunc {
  return (args) => {
    const inputs = (args.inputs as unknown as TensorInfo[]).filter((t) => util.sizeFromShape(t.shape) > 0);
    if (inputs.length < 2 || inputs[0].dtype === 'string') return stock(args);
    const backend = args.backend as BackendWasm;
    const axis = util.parseAxisParam((args.attrs as unknown as ConcatAttrs).axis, inputs[0].shape)[0];
    const outShape = backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
    const out = backend.makeOutput(outShape, inputs[0].dtype);
    const heap = heapOf(backend, inputs[0].dtype);
    const outer = util.sizeFromShape(outShape.slice(0, axis));
    const runs = inputs.map((t) => util.sizeFromShape(t.shape.slice(axis)));
    const total = runs.reduce((a, b) => a + b, 0);
    let offset = startOf(backend, out);
    inputs.forEach((t, i) => {
      const from = startOf(backend, t);
      for (let b = 0; b < outer; b++) copyRun(heap, from + b * runs[i], offset + b * total, runs[i]);
      offset += runs[i];
    });
    return out;
  };
}

function makeTanh(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype !== 'float32') return stock(args);
    const backend = args.backend as BackendWasm;
    const n = util.sizeFromShape(x.shape);
    const doubled = backend.makeOutput(x.shape, 'float32');
    let heap = heapOf(backend, 'float32');
    for (let k = 0, from = startOf(backend, x), to = startOf(backend, doubled); k < n; k++) heap[to + k] = 2 * heap[from + k];
    const out = run('Sigmoid', backend, { x: doubled });
    release(backend, doubled);
    heap = heapOf(backend, 'float32');
    for (let k = 0, at = startOf(backend, out); k < n; k++) heap[at + k] = 2 * heap[at + k] - 1;
    return out;
  };
}

/**
 * A sum over the leading axes (every bias gradient: [B, H, W, C] → [C]) as one pass down the rows. The stock
 * kernel first transposes the reduced axes to the end, which costs far more than the sum; a product with ones
 * would make XNNPACK repack the whole input first, which costs more still.
 */
function makeSum(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, k) => a === k);
    if (x.dtype !== 'float32' || !leading) return stock(args);
    const backend = args.backend as BackendWasm;
    const rows = util.sizeFromShape(x.shape.slice(0, axes.length));
    const kept = x.shape.slice(axes.length);
    const width = util.sizeFromShape(kept);
    const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...kept] : kept, 'float32');
    const heap = heapOf(backend, 'float32');
    const totals = new Float64Array(width);
    // Four rows a pass: a quarter of the accumulator traffic.
    let r = 0;
    let from = startOf(backend, x);
    for (; r + 4 <= rows; r += 4, from += 4 * width) {
      for (let c = 0, a = from; c < width; c++, a++) totals[c] += heap[a] + heap[a + width] + heap[a + 2 * width] + heap[a + 3 * width];
    }
    for (; r < rows; r++, from += width) {
      for (let c = 0; c < width; c++) totals[c] += heap[from + c];
    }
    heap.set(totals, startOf(backend, out));
    return out;
  };
}

/** A new tensor on the same buffer: the backend frees the buffer when its last tensor is disposed. */
function share(backend: BackendWasm, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

function makeIdentity(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    return x.dtype === 'string' ? stock(args) : share(args.backend as BackendWasm, x);
  };
}

function makeCast(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    return x.dtype === (args.attrs as unknown as CastAttrs).dtype ? share(args.backend as BackendWasm, x) : stock(args);
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Convolution gradients as forward convolutions

interface StridelessConv {
  info: backend_util.Conv2DInfo;
  pads: { top: number; bottom: number; left: number; right: number };
}

function convInfo(xShape: number[], filterShape: number[], attrs: { strides: number | [number, number]; pad: unknown; dataFormat?: string; dimRoundingMode?: string }, kernel: string): StridelessConv {
  const info = backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad as never,
    attrs.dimRoundingMode as never,
    false,
    backend_util.convertConv2DDataFormat((attrs.dataFormat ?? 'NHWC') as 'NHWC' | 'NCHW'),
  );
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dataFormat !== 'channelsLast') {
    throw new Error(`${kernel} on wasm is provided for stride-1 NHWC convolutions only`);
  }
  const { top, bottom, left, right } = info.padInfo;
  return { info, pads: { top, bottom, left, right } };
}

/**
 * dx = conv(dy, rot180(W) with in/out swapped), padded by (k − 1 − pad) on each side: each input position
 * collects the output gradients of every output position whose window covered it.
 */
function conv2DBackpropInput(args: { inputs: Conv2DBackpropInputInputs; attrs: Conv2DBackpropInputAttrs; backend: BackendWasm }): TensorInfo {
  const { inputs, attrs, backend } = args;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const { info, pads } = convInfo(attrs.inputShape, filter.shape, attrs, Conv2DBackpropInput);
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const padding = [
    [0, 0],
    [kh - 1 - pads.top, kh - 1 - pads.bottom],
    [kw - 1 - pads.left, kw - 1 - pads.right],
    [0, 0],
  ];
  if (padding.some(([a, b]) => a < 0 || b < 0)) throw new Error('Conv2DBackpropInput on wasm: padding larger than the kernel');
  const flipped = run('Reverse', backend, { x: filter }, { dims: [0, 1] });
  const swapped = run('Transpose', backend, { x: flipped }, { perm: [0, 1, 3, 2] });
  const dx = run('Conv2D', backend, { x: dy, filter: swapped }, { strides: 1, pad: padding, dilations: 1, dataFormat: 'NHWC', dimRoundingMode: undefined } as never);
  release(backend, flipped, swapped);
  return dx;
}

/**
 * dW[y, x, ci, co] = Σ_{b,u,v} x_pad[b, u + y, v + x, ci] · dy[b, u, v, co], a contraction over every output
 * position. Two ways to hand it to XNNPACK, each faster where the other is slow (measured on the models' shapes):
 *   - few taps (1×1, 1×2, 2×1, 1×3): one matrix product per tap, dyᵀ [co, N] · x_tap [N, ci]
 *     (dy stays the left operand, transposed: XNNPACK repacks the right operand on every call, ~30 ns an element,
 *     so im2colᵀ · dy, with no transposition, measured two to three times slower on the Row LSTM's shapes);
 *   - more taps: one convolution in which the channels become the batch, the batch becomes the channels and
 *     dy is the (large) kernel.
 */
function conv2DBackpropFilter(args: { inputs: Conv2DBackpropFilterInputs; attrs: Conv2DBackpropFilterAttrs; backend: BackendWasm }): TensorInfo {
  const { inputs, attrs, backend } = args;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const { info, pads } = convInfo(x.shape, attrs.filterShape, attrs, Conv2DBackpropFilter);
  const padding = [[0, 0], [pads.top, pads.bottom], [pads.left, pads.right], [0, 0]];
  return info.filterHeight * info.filterWidth <= 3 ? filterGradByTaps(backend, x, dy, info, padding) : filterGradByConv(backend, x, dy, padding);
}

function filterGradByTaps(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo, padding: number[][]): TensorInfo {
  const [b, oh, ow, co] = dy.shape;
  const ci = x.shape[3];
  const n = b * oh * ow;
  const dyT = run('Transpose', backend, { x: dy }, { perm: [3, 0, 1, 2] });
  const dyFlat = run('Reshape', backend, { x: dyT }, { shape: [co, n] });
  const padded = run('PadV2', backend, { x }, { paddings: padding, constantValue: 0 });
  const perTap: TensorInfo[] = [];
  for (let y = 0; y < info.filterHeight; y++) {
    for (let z = 0; z < info.filterWidth; z++) {
      const tap = sliceInPlace(backend, padded, [0, y, z, 0], [b, oh, ow, ci]);
      const tapFlat = run('Reshape', backend, { x: tap }, { shape: [n, ci] });
      perTap.push(run('BatchMatMul', backend, { a: dyFlat, b: tapFlat }, { transposeA: false, transposeB: false }));
      release(backend, tap, tapFlat);
    }
  }
  const stacked = perTap.length === 1 ? perTap[0] : run('Concat', backend, perTap as unknown as Record<string, TensorInfo>, { axis: 0 });
  const asTaps = run('Reshape', backend, { x: stacked }, { shape: [perTap.length, co, ci] });
  const swapped = run('Transpose', backend, { x: asTaps }, { perm: [0, 2, 1] });
  const dW = run('Reshape', backend, { x: swapped }, { shape: [info.filterHeight, info.filterWidth, ci, co] });
  release(backend, dyT, dyFlat, padded, ...perTap, asTaps, swapped);
  if (perTap.length > 1) release(backend, stacked);
  return dW;
}

function filterGradByConv(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, padding: number[][]): TensorInfo {
  const xT = run('Transpose', backend, { x }, { perm: [3, 1, 2, 0] }); // [ci, H, W, B]
  const dyT = run('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] }); // [oh, ow, B, co]
  const grad = run('Conv2D', backend, { x: xT, filter: dyT }, { strides: 1, pad: padding, dilations: 1, dataFormat: 'NHWC', dimRoundingMode: undefined } as never); // [ci, kh, kw, co]
  const dW = run('Transpose', backend, { x: grad }, { perm: [1, 2, 0, 3] });
  release(backend, xT, dyT, grad);
  return dW;
}

let installed = false;

/** Register the kernels above for the wasm backend (idempotent). */
export function installWasmKernels(): void {
  if (installed) return;
  installed = true;
  const replace = (name: string, make: (stock: KernelFunc) => KernelFunc) => {
    const stock = getKernel(name, BACKEND);
    if (stock) unregisterKernel(name, BACKEND);
    const config: KernelConfig = { kernelName: name, backendName: BACKEND, kernelFunc: make(stock?.kernelFunc as KernelFunc) };
    if (stock?.setupFunc) config.setupFunc = stock.setupFunc;
    registerKernel(config);
  };
  replace(Identity, makeIdentity);
  replace(Cast, makeCast);
  replace(Slice, makeSlice);
  replace(Reverse, makeReverse);
  replace(Tanh, makeTanh);
  replace(Sum, makeSum);
  replace(Concat, makeConcat);
  replace(Unpack, makeUnpack);
  replace(SplitV, makeSplitV);
  replace(Conv2DBackpropInput, () => conv2DBackpropInput as unknown as KernelFunc);
  replace(Conv2DBackpropFilter, () => conv2DBackpropFilter as unknown as KernelFunc);
}
