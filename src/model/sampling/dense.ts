/**
 * Plain-JavaScript arithmetic for the incremental samplers of the recurrent models: a new pixel changes a few
 * hundred numbers per layer, far too little for a TF.js op (each costs more to launch than the arithmetic), so
 * the weights are read once and the per-pixel work is done in loops over Float64Arrays.
 *
 * Vectors of one position for the N images being sampled are stored together, [N][F], and a row of such
 * positions as [W][N][F].
 */
import type { Conv2D, OutputStack } from '../layers';
import type { KernelGeometry } from '../masks';

/** A convolution's kernel as applied (masked), [rows][cols][in][out], and its bias. */
export interface DenseConv {
  readonly geometry: KernelGeometry;
  readonly nIn: number;
  readonly nOut: number;
  readonly kernel: Float64Array;
  readonly bias: Float64Array;
}

export async function readConv(conv: Conv2D): Promise<DenseConv> {
  const [, , nIn, nOut] = conv.kernel.shape as number[];
  const w = conv.weights();
  const kernel = Float64Array.from(await w.data());
  // An unmasked convolution's weights are its kernel variable itself.
  if (w !== conv.kernel) w.dispose();
  const bias = conv.bias ? Float64Array.from(await conv.bias.data()) : new Float64Array(nOut);
  return { geometry: conv.geometry, nIn, nOut, kernel, bias };
}

/** out[n][·] += x[n][·] · W for the N vectors of x (at xAt, stride nIn) into out (at outAt, stride nOut). */
export function addProduct(
  out: Float64Array,
  outAt: number,
  x: Float64Array,
  xAt: number,
  count: number,
  w: Float64Array,
  wAt: number,
  nIn: number,
  nOut: number,
): void {
  for (let n = 0; n < count; n++) {
    const o0 = outAt + n * nOut;
    const x0 = xAt + n * nIn;
    for (let k = 0; k < nIn; k++) {
      const v = x[x0 + k];
      if (v === 0) continue;
      const w0 = wAt + k * nOut;
      for (let o = 0; o < nOut; o++) out[o0 + o] += v * w[w0 + o];
    }
  }
}

/** out[n][·] = bias for the N vectors at outAt. */
export function setBias(out: Float64Array, outAt: number, count: number, bias: Float64Array): void {
  for (let n = 0; n < count; n++) out.set(bias, outAt + n * bias.length);
}

export function relu(x: Float64Array): Float64Array {
  for (let k = 0; k < x.length; k++) if (x[k] < 0) x[k] = 0;
  return x;
}

/** The 1×1 convolution `conv` of N vectors: [N][in] → [N][out]. */
export function pointwise(conv: DenseConv, x: Float64Array, count: number): Float64Array {
  const out = new Float64Array(count * conv.nOut);
  setBias(out, 0, count, conv.bias);
  addProduct(out, 0, x, 0, count, conv.kernel, 0, conv.nIn, conv.nOut);
  return out;
}

/**
 * The taps of a causal convolution on the image row being generated: columns j − cx … j at kernel row cy, read
 * from `row` ([W][N][in]; columns outside the image are zero). Added to out ([N][out]).
 */
export function addCentreRow(out: Float64Array, conv: DenseConv, row: Float64Array, j: number, width: number, count: number): void {
  const { cy, cx, cols } = conv.geometry;
  const { nIn, nOut } = conv;
  for (let x = 0; x <= cx; x++) {
    const col = j - cx + x;
    if (col < 0 || col >= width) continue;
    addProduct(out, 0, row, col * count * nIn, count, conv.kernel, (cy * cols + x) * nIn * nOut, nIn, nOut);
  }
}

/**
 * The taps of a convolution on the rows above the output row, for a whole row at once ([W][N][out], bias
 * included): kernel row y reads `above[y]` ([W][N][in], null: above the image, zero).
 */
export function rowsAboveTaps(conv: DenseConv, above: (Float64Array | null)[], width: number, count: number): Float64Array {
  const { cx, cols } = conv.geometry;
  const { nIn, nOut } = conv;
  const out = new Float64Array(width * count * nOut);
  for (let j = 0; j < width; j++) setBias(out, j * count * nOut, count, conv.bias);
  above.forEach((row, y) => {
    if (!row) return;
    for (let j = 0; j < width; j++) {
      for (let x = 0; x < cols; x++) {
        const col = j - cx + x;
        if (col < 0 || col >= width) continue;
        addProduct(out, j * count * nOut, row, col * count * nIn, count, conv.kernel, (y * cols + x) * nIn * nOut, nIn, nOut);
      }
    }
  });
  return out;
}

const sigmoid = (a: number) => 1 / (1 + Math.exp(-a));

/**
 * The LSTM cell of §3.1 for N positions: gates [N][4h] (o, f, i, g blocks), previous cell state [N][h] (null:
 * zero); writes h and c ([N][h]) at hAt / cAt.
 */
export function lstmCellInto(
  gates: Float64Array,
  cPrev: Float64Array | null,
  cPrevAt: number,
  h: Float64Array,
  c: Float64Array,
  at: number,
  count: number,
  units: number,
): void {
  for (let n = 0; n < count; n++) {
    const g0 = n * 4 * units;
    for (let u = 0; u < units; u++) {
      const o = sigmoid(gates[g0 + u]);
      const f = sigmoid(gates[g0 + units + u]);
      const i = sigmoid(gates[g0 + 2 * units + u]);
      const g = Math.tanh(gates[g0 + 3 * units + u]);
      const k = n * units + u;
      const cNew = (cPrev ? f * cPrev[cPrevAt + k] : 0) + i * g;
      c[at + k] = cNew;
      h[at + k] = o * Math.tanh(cNew);
    }
  }
}

/** ReLU → 1×1 → ReLU → 1×1 of N vectors: the output stack of every model, [N][F] → [N][logits]. */
export class DenseOutputStack {
  private constructor(
    private readonly hidden: DenseConv | null,
    private readonly logits: DenseConv,
  ) {}

  static async read(stack: OutputStack): Promise<DenseOutputStack> {
    return new DenseOutputStack(stack.hidden ? await readConv(stack.hidden) : null, await readConv(stack.logits));
  }

  apply(x: Float64Array, count: number): Float32Array {
    let y = relu(Float64Array.from(x));
    if (this.hidden) y = relu(pointwise(this.hidden, y, count));
    return Float32Array.from(pointwise(this.logits, y, count));
  }
}

/**
 * The encoded network input of row i, [W][N][C], from the images ([N][H][W][C] pixel values); `encode` maps a
 * pixel value to the network's input (the head's encoding).
 */
export function imageRow(
  data: ArrayLike<number>,
  i: number,
  shape: { count: number; height: number; width: number; channels: number },
  encode: (v: number) => number,
): Float64Array {
  const { count: N, height: H, width: W, channels: C } = shape;
  const row = new Float64Array(W * N * C);
  for (let j = 0; j < W; j++) {
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) row[(j * N + n) * C + c] = encode(data[((n * H + i) * W + j) * C + c]);
    }
  }
  return row;
}

/**
 * A causal convolution evaluated a pixel at a time: its taps on the rows above are computed once per row, when
 * the row starts; only the taps on the output's own row are computed per pixel.
 */
export class RowByRowConv {
  /** The last cy complete input rows, oldest first (null above the image). */
  private readonly kept: (Float64Array | null)[];
  private above: Float64Array;

  constructor(
    readonly conv: DenseConv,
    private readonly width: number,
    private readonly count: number,
  ) {
    this.kept = new Array(conv.geometry.cy).fill(null);
    this.above = rowsAboveTaps(conv, this.kept, width, count);
  }

  /** The next row starts; `completed` is the input row that just ended (null when there is none). */
  nextRow(completed: Float64Array | null): void {
    if (this.kept.length > 0) {
      this.kept.shift();
      this.kept.push(completed);
    }
    this.above = rowsAboveTaps(this.conv, this.kept, this.width, this.count);
  }

  /** The output at column j of the current row ([N][out]), from the current input row ([W][N][in]). */
  at(row: Float64Array, j: number): Float64Array {
    const size = this.count * this.conv.nOut;
    const out = this.above.slice(j * size, (j + 1) * size);
    addCentreRow(out, this.conv, row, j, this.width, this.count);
    return out;
  }
}
