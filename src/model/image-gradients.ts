/**
 * The hover's gradient maps, one image at a time: the forward pass once per image (taken down to the lowest row
 * hovered so far: row i's outputs depend on rows ≤ i alone), then per hovered output (i, j, c) only a backward
 * pass, cropped to rows ≤ i — |∂ log p(x_ijc | x_<ijc) / ∂x| as `gradientMap` gives it
 * (dependency.ts), equal to `gradientMapsFull` within float32 rounding (image-gradients.test.ts).
 *
 * For the Row LSTM and the Diagonal BiLSTM both passes run here, in plain loops over Float64Arrays, not as TF.js
 * ops: at the shipped examples' sizes (28×28, h = 16) a recurrence step is a few thousand multiply-adds, and the
 * backend's per-op cost — a few dozen ops a step, 55 steps per direction and layer for the Diagonal BiLSTM — was
 * most of a hover. The weights are read once, when the image's forward pass is taken; nothing here holds a tensor.
 * The math is the engine's, written out position by position:
 *
 *   convolutions    y[r, w, o] = b[o] + Σ_{a, b, ci} x[r + a − top, w + b − left, ci] · K[a, b, ci, o]  (the masked
 *                   kernel as applied, `Conv2D.weights()`), and their transpose for the backward pass;
 *   LSTM scans      gates(p) = K^is ⊛ x (p) + Σ_taps K^ss_tap · h(p + tap);  c(p) = f ⊙ c(p + cTap) + i ⊙ g;
 *                   h(p) = o ⊙ tanh(c(p)) — by rows for the Row LSTM (taps: the row above, k wide; c from above);
 *                   by positions in raster order for the Diagonal LSTM, in image coordinates: its skewed map's
 *                   previous column, rows r − 1 and r, is the pixel above and the pixel to the left (taps: above,
 *                   left; c from the left). The right-to-left direction runs on the width-mirrored map. The
 *                   backward pass is layers.ts's lstmBackward, position by position.
 *
 * The kept forward pass is ~136·h bytes a pixel and layer for the Diagonal BiLSTM (7 MB at 28×28, h = 16, 4 layers);
 * past CACHE_LIMIT a model gets the per-hover path instead.
 *
 * Other models (PixelCNN, Gated PixelCNN: a hover is one cropped forward and backward pass of a few ops, well
 * within budget) get `gradientMap` per hover behind the same interface.
 */
import { gradientMap, type PixelChannel } from './dependency';
import { DiagonalBiLSTM, type DiagonalBiLSTMLayer } from './diagonal-bilstm';
import type { Conv2D } from './layers';
import { samePadding } from './masks';
import type { PixelModel } from './model';
import { RowLSTM, type RowLSTMLayer } from './row-lstm';
import { readConv } from './sampling/dense';

/** Gradient maps of one image for any of its outputs. */
export interface ImageGradients {
  /** |∂ log p(x_ijc | x_<ijc) / ∂x| over the image, H·W·C in element order (zero below row i). */
  map(p: PixelChannel): Promise<Float32Array>;
}

/**
 * The gradient maps of `image` under the model's current weights: for the LSTMs, its forward pass taken now and
 * kept (plain arrays, no tensors); later weight changes (a training step) are not seen — take a new one.
 */
export async function imageGradients(model: PixelModel, image: ArrayLike<number>, imageClass?: number): Promise<ImageGradients> {
  const { height: H, width: W, channels: C } = model.config.image;
  if (image.length !== H * W * C) throw new Error(`image has ${image.length} values, the model needs ${H}×${W}×${C} = ${H * W * C}`);
  const copy = Float32Array.from(image);
  // The plain-loop passes carry no class embedding: a class-conditional model answers each hover with gradientMap.
  if (model.classes > 0) return { map: (p) => gradientMap(model, copy, p, imageClass) };
  if ((model instanceof RowLSTM || model instanceof DiagonalBiLSTM) && cacheBytes(model) <= CACHE_LIMIT) {
    const network = await LSTMNetwork.read(model);
    const cached = network.forward(copy);
    return { map: async (p) => cached.map(p) };
  }
  return { map: (p) => gradientMap(model, copy, p) };
}

/** The most a kept forward pass may take; larger models answer each hover with `gradientMap`. */
export const CACHE_LIMIT = 128 * 2 ** 20;

/** The bytes of an LSTM network's kept forward pass: per scan and pixel the four gates, c, tanh(c) and h; per layer
 *  and pixel its states and its output (2h). */
function cacheBytes(model: RowLSTM | DiagonalBiLSTM): number {
  const { height, width } = model.config.image;
  const scans = model instanceof RowLSTM ? 1 : 2;
  return model.layers.length * height * width * (scans * 7 + 3) * model.config.hidden * 8;
}

// ---------------------------------------------------------------------------------------------------------------
// Feature maps and convolutions

/** One image's feature map, [rows, W, ch] row-major; a backward map may hold fewer rows than the forward one. */
interface FMap {
  readonly rows: number;
  readonly width: number;
  readonly ch: number;
  readonly d: Float64Array;
}

const fmap = (rows: number, width: number, ch: number): FMap => ({ rows, width, ch, d: new Float64Array(rows * width * ch) });

/** A convolution's kernel as applied (masked), [kh, kw, cin, cout], its bias and its 'same' padding. */
interface Kernel {
  readonly kh: number;
  readonly kw: number;
  readonly top: number;
  readonly left: number;
  readonly cin: number;
  readonly cout: number;
  readonly w: Float64Array;
  /** The same taps with in and out swapped, [kh, kw, cout, cin]: the backward pass's kernel. */
  readonly wT: Float64Array;
  readonly b: Float64Array | null;
}

async function readKernel(conv: Conv2D): Promise<Kernel> {
  const { geometry, nIn: cin, nOut: cout, kernel: w, bias } = await readConv(conv);
  const { rows: kh, cols: kw } = geometry;
  const p = samePadding(geometry);
  const wT = new Float64Array(w.length);
  for (let tap = 0; tap < kh * kw; tap++) {
    const at = tap * cin * cout;
    for (let ci = 0; ci < cin; ci++) for (let o = 0; o < cout; o++) wT[at + o * cin + ci] = w[at + ci * cout + o];
  }
  return { kh, kw, top: p.top, left: p.left, cin, cout, w, wT, b: conv.bias ? bias : null };
}

/**
 * y[y0 + o] += Σ_{k < n} x[x0 + k] · w[w0 + k·m + o] for o < m: one position's share of a convolution. Eight outputs
 * at a time in locals — three times the speed of updating y in the innermost loop.
 */
function matVecAdd(x: Float64Array, x0: number, n: number, w: Float64Array, w0: number, m: number, y: Float64Array, y0: number): void {
  let o = 0;
  for (; o + 8 <= m; o += 8) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    for (let k = 0, at = w0 + o; k < n; k++, at += m) {
      const v = x[x0 + k];
      s0 += v * w[at];
      s1 += v * w[at + 1];
      s2 += v * w[at + 2];
      s3 += v * w[at + 3];
      s4 += v * w[at + 4];
      s5 += v * w[at + 5];
      s6 += v * w[at + 6];
      s7 += v * w[at + 7];
    }
    y[y0 + o] += s0;
    y[y0 + o + 1] += s1;
    y[y0 + o + 2] += s2;
    y[y0 + o + 3] += s3;
    y[y0 + o + 4] += s4;
    y[y0 + o + 5] += s5;
    y[y0 + o + 6] += s6;
    y[y0 + o + 7] += s7;
  }
  for (; o < m; o++) {
    let s = 0;
    for (let k = 0, at = w0 + o; k < n; k++, at += m) s += x[x0 + k] * w[at];
    y[y0 + o] += s;
  }
}

function conv(x: FMap, k: Kernel): FMap {
  const y = fmap(x.rows, x.width, k.cout);
  convRows(x, k, y, 0, x.rows);
  return y;
}

/**
 * Rows r0 … r1 − 1 of conv(x) into y (those rows zero before). A causal kernel reads no row below its output's, so
 * x needs rows < r1 only.
 */
function convRows(x: FMap, k: Kernel, y: FMap, r0: number, r1: number): void {
  const { rows, width } = x;
  const { kh, kw, top, left, cin, cout, w, b } = k;
  const xd = x.d;
  const yd = y.d;
  for (let r = r0; r < r1; r++) {
    for (let c = 0; c < width; c++) {
      const out = (r * width + c) * cout;
      if (b) for (let o = 0; o < cout; o++) yd[out + o] = b[o];
      for (let a = 0; a < kh; a++) {
        const xr = r + a - top;
        if (xr < 0 || xr >= rows) continue;
        for (let bb = 0; bb < kw; bb++) {
          const xc = c + bb - left;
          if (xc < 0 || xc >= width) continue;
          matVecAdd(xd, (xr * width + xc) * cin, cin, w, (a * kw + bb) * cin * cout, cout, yd, out);
        }
      }
    }
  }
}

/** The gradient of `conv`'s input from its output's gradient dy (no kernel gradient), added into dx. */
function convBackInto(dy: FMap, k: Kernel, dx: FMap): void {
  const { rows, width } = dy;
  const { kh, kw, top, left, cin, cout, wT } = k;
  const gd = dy.d;
  const xd = dx.d;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < width; c++) {
      const at = (r * width + c) * cout;
      let any = false;
      for (let o = 0; o < cout; o++) if (gd[at + o] !== 0) { any = true; break; }
      if (!any) continue;
      for (let a = 0; a < kh; a++) {
        const xr = r + a - top;
        if (xr < 0 || xr >= rows) continue;
        for (let bb = 0; bb < kw; bb++) {
          const xc = c + bb - left;
          if (xc < 0 || xc >= width) continue;
          matVecAdd(gd, at, cout, wT, (a * kw + bb) * cin * cout, cin, xd, (xr * width + xc) * cin);
        }
      }
    }
  }
}

function convBack(dy: FMap, k: Kernel): FMap {
  const dx = fmap(dy.rows, dy.width, k.cin);
  convBackInto(dy, k, dx);
  return dx;
}

/** Mirror left–right. */
function flip(x: FMap): FMap {
  const { rows, width, ch } = x;
  const y = fmap(rows, width, ch);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < width; c++) y.d.set(x.d.subarray((r * width + c) * ch, (r * width + c + 1) * ch), (r * width + width - 1 - c) * ch);
  }
  return y;
}

/** y(r) = x(r + 1), zeros in the last row: the transpose of the Diagonal BiLSTM's shift down a row. */
function shiftUp(x: FMap): FMap {
  const y = fmap(x.rows, x.width, x.ch);
  y.d.set(x.d.subarray(x.width * x.ch));
  return y;
}

function relu(x: FMap): FMap {
  const y = fmap(x.rows, x.width, x.ch);
  for (let e = 0; e < y.d.length; e++) y.d[e] = x.d[e] > 0 ? x.d[e] : 0;
  return y;
}

/** dy ⊙ step(x) in place over dy's rows (x may hold more): the ReLU's backward pass (step(0) = 0, as TF.js). */
function reluBackInPlace(dy: FMap, x: FMap): void {
  for (let e = 0; e < dy.d.length; e++) if (!(x.d[e] > 0)) dy.d[e] = 0;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

// ---------------------------------------------------------------------------------------------------------------
// The LSTM scan

/**
 * How a scan reaches back: the state-to-state kernel's taps as offsets (dr, dc) to the positions whose h they read,
 * and the offset of the position whose c continues. Every offset points earlier in raster order.
 */
interface ScanShape {
  readonly taps: readonly { readonly dr: number; readonly dc: number; readonly at: number }[];
  readonly cFrom: { readonly dr: number; readonly dc: number };
}

/** The Row LSTM: K^ss (1×k) over the row above; c from above. */
function rowScanShape(k: Kernel): ScanShape {
  const taps = Array.from({ length: k.kw }, (_, b) => ({ dr: -1, dc: b - k.left, at: b * k.cin * k.cout }));
  return { taps, cFrom: { dr: -1, dc: 0 } };
}

/** The Diagonal LSTM in image coordinates: K^ss (2×1 over the skewed map's previous column) reads above and left. */
function diagonalScanShape(k: Kernel): ScanShape {
  return {
    taps: [
      { dr: -1, dc: 0, at: 0 },
      { dr: 0, dc: -1, at: k.cin * k.cout },
    ],
    cFrom: { dr: 0, dc: -1 },
  };
}

/** A scan's forward activations: [o, f, i] = σ, g = tanh per position ([N, 4h]), c and tanh(c) ([N, h]), h. */
interface ScanCache {
  readonly act: Float64Array;
  readonly c: Float64Array;
  readonly tanhC: Float64Array;
  readonly h: FMap;
}

function scanCache(rows: number, width: number, h: number): ScanCache {
  return { act: new Float64Array(rows * width * 4 * h), c: new Float64Array(rows * width * h), tanhC: new Float64Array(rows * width * h), h: fmap(rows, width, h) };
}

/** Rows r0 … r1 − 1 of the scan into `cache`, its rows above done: every tap and c reach back in raster order. */
function scanRows(gatesIn: FMap, kss: Kernel, shape: ScanShape, cache: ScanCache, r0: number, r1: number): void {
  const { width } = gatesIn;
  const G = gatesIn.ch;
  const h = G / 4;
  const { act, c, tanhC } = cache;
  const hs = cache.h.d;
  const w = kss.w;
  const pre = new Float64Array(G);
  for (let r = r0; r < r1; r++) {
    for (let col = 0; col < width; col++) {
      const p = r * width + col;
      for (let o = 0; o < G; o++) pre[o] = gatesIn.d[p * G + o];
      for (const tap of shape.taps) {
        const pr = r + tap.dr;
        const pc = col + tap.dc;
        if (pr < 0 || pc < 0 || pc >= width) continue;
        matVecAdd(hs, (pr * width + pc) * h, h, w, tap.at, G, pre, 0);
      }
      const cr = r + shape.cFrom.dr;
      const cc = col + shape.cFrom.dc;
      const cPrev = cr >= 0 && cc >= 0 && cc < width ? (cr * width + cc) * h : -1;
      const a = p * G;
      for (let k = 0; k < h; k++) {
        const o = sigmoid(pre[k]);
        const f = sigmoid(pre[h + k]);
        const i = sigmoid(pre[2 * h + k]);
        const g = Math.tanh(pre[3 * h + k]);
        act[a + k] = o;
        act[a + h + k] = f;
        act[a + 2 * h + k] = i;
        act[a + 3 * h + k] = g;
        const cv = (cPrev >= 0 ? f * c[cPrev + k] : 0) + i * g;
        const t = Math.tanh(cv);
        c[p * h + k] = cv;
        tanhC[p * h + k] = t;
        hs[p * h + k] = o * t;
      }
    }
  }
}

/**
 * Backpropagation through the scan (layers.ts lstmBackward, position by position): dStates → dGatesIn. dStates may
 * hold fewer rows than the forward pass (the hover's crop): positions keep their indices, rows coming first.
 */
function scanBackward(cache: ScanCache, dStates: FMap, kss: Kernel, shape: ScanShape): FMap {
  const { rows, width } = dStates;
  const h = dStates.ch;
  const G = 4 * h;
  const { act, c, tanhC } = cache;
  const wT = kss.wT;
  const dh = Float64Array.from(dStates.d);
  const dc = new Float64Array(rows * width * h);
  const dGates = fmap(rows, width, G);
  const dg = dGates.d;
  for (let r = rows - 1; r >= 0; r--) {
    for (let col = width - 1; col >= 0; col--) {
      const p = r * width + col;
      const cr = r + shape.cFrom.dr;
      const cc = col + shape.cFrom.dc;
      const cPrev = cr >= 0 && cc >= 0 && cc < width ? (cr * width + cc) * h : -1;
      const a = p * G;
      let any = false;
      for (let k = 0; k < h; k++) {
        const dhv = dh[p * h + k];
        const o = act[a + k];
        const f = act[a + h + k];
        const i = act[a + 2 * h + k];
        const g = act[a + 3 * h + k];
        const t = tanhC[p * h + k];
        const dcv = dc[p * h + k] + dhv * o * (1 - t * t);
        dg[a + k] = dhv * t * o * (1 - o);
        dg[a + h + k] = cPrev >= 0 ? dcv * c[cPrev + k] * f * (1 - f) : 0;
        dg[a + 2 * h + k] = dcv * g * i * (1 - i);
        dg[a + 3 * h + k] = dcv * i * (1 - g * g);
        if (cPrev >= 0) dc[cPrev + k] += dcv * f;
        if (dhv !== 0 || dcv !== 0) any = true;
      }
      if (!any) continue;
      for (const tap of shape.taps) {
        const pr = r + tap.dr;
        const pc = col + tap.dc;
        if (pr < 0 || pc < 0 || pc >= width) continue;
        matVecAdd(dg, a, G, wT, tap.at, h, dh, (pr * width + pc) * h);
      }
    }
  }
  return dGates;
}

// ---------------------------------------------------------------------------------------------------------------
// The two LSTM networks

interface Residual {
  readonly up: Kernel | null;
  readonly addInput: boolean;
}

interface RowLayer extends Residual {
  readonly kind: 'row';
  readonly inputToState: Kernel;
  readonly stateToState: Kernel;
  readonly shape: ScanShape;
}

interface DiagonalLayer extends Residual {
  readonly kind: 'diagonal';
  readonly directions: readonly [{ inputToState: Kernel; stateToState: Kernel }, { inputToState: Kernel; stateToState: Kernel }];
  readonly shape: readonly [ScanShape, ScanShape];
}

type Layer = RowLayer | DiagonalLayer;

async function readRowLayer(l: RowLSTMLayer): Promise<RowLayer> {
  const [inputToState, stateToState, up] = await Promise.all([readKernel(l.inputToState), readKernel(l.stateToState), l.up ? readKernel(l.up) : null]);
  return { kind: 'row', inputToState, stateToState, up, addInput: l.addInput, shape: rowScanShape(stateToState) };
}

async function readDiagonalLayer(l: DiagonalBiLSTMLayer): Promise<DiagonalLayer> {
  const [a, b, c, d, up] = await Promise.all([
    readKernel(l.leftToRight.inputToState),
    readKernel(l.leftToRight.stateToState),
    readKernel(l.rightToLeft.inputToState),
    readKernel(l.rightToLeft.stateToState),
    l.up ? readKernel(l.up) : null,
  ]);
  return {
    kind: 'diagonal',
    directions: [
      { inputToState: a, stateToState: b },
      { inputToState: c, stateToState: d },
    ],
    shape: [diagonalScanShape(b), diagonalScanShape(d)],
    up,
    addInput: l.addInput,
  };
}

/** A layer's maps of the forward pass: what its backward pass needs, and what the next layer reads (out). */
type LayerCache =
  | { kind: 'row'; scan: ScanCache; states: FMap; out: FMap }
  | { kind: 'diagonal'; scans: [ScanCache, ScanCache]; states: FMap; out: FMap };

/** The Row LSTM or Diagonal BiLSTM, its weights read out once. */
class LSTMNetwork {
  private constructor(
    private readonly model: PixelModel,
    private readonly input: Kernel | null,
    private readonly reluAfterInput: boolean,
    private readonly layers: Layer[],
    private readonly hidden: Kernel | null,
    private readonly logits: Kernel,
  ) {}

  static async read(model: RowLSTM | DiagonalBiLSTM): Promise<LSTMNetwork> {
    const layers: Promise<Layer>[] =
      model instanceof RowLSTM ? model.layers.map(readRowLayer) : model.layers.map(readDiagonalLayer);
    const [input, hidden, logits, ...read] = await Promise.all([
      model.input ? readKernel(model.input) : null,
      model.output.hidden ? readKernel(model.output.hidden) : null,
      readKernel(model.output.logits),
      ...layers,
    ]);
    return new LSTMNetwork(model, input as Kernel | null, !!model.input && !model.config.residual, read as Layer[], hidden as Kernel | null, logits as Kernel);
  }

  /** One image (pixel values, element order), its forward pass to be taken as far down as hovers need. */
  forward(image: Float32Array): CachedImage {
    return new CachedImage(this, image);
  }

  /** Rows r0 … r1 − 1 of every map of the forward pass, the rows above done. */
  forwardRows(f: CachedImage, r0: number, r1: number): void {
    if (f.firstPre) {
      convRows(f.x, this.input!, f.firstPre, r0, r1);
      if (f.first !== f.firstPre) for (let e = r0 * f.first.width * f.first.ch; e < r1 * f.first.width * f.first.ch; e++) f.first.d[e] = Math.max(0, f.firstPre.d[e]);
    }
    let input = f.first;
    this.layers.forEach((layer, l) => {
      const state = f.layers[l];
      // K^is ⊛ x for the rows at hand (rows above them unused), not kept.
      const gates = () => fmap(r1, input.width, layer.kind === 'row' ? layer.inputToState.cout : layer.directions[0].inputToState.cout);
      if (layer.kind === 'row' && state.kind === 'row') {
        const gatesIn = gates();
        convRows(input, layer.inputToState, gatesIn, r0, r1);
        scanRows(gatesIn, layer.stateToState, layer.shape, state.scan, r0, r1);
      } else if (layer.kind === 'diagonal' && state.kind === 'diagonal') {
        const [l2r, r2l] = layer.directions;
        const ahead = gates();
        convRows(input, l2r.inputToState, ahead, r0, r1);
        scanRows(ahead, l2r.stateToState, layer.shape[0], state.scans[0], r0, r1);
        // The mirrored map's scan: a 1×1 input-to-state commutes with the mirror.
        const behind = gates();
        const mirrored = gates();
        convRows(input, r2l.inputToState, behind, r0, r1);
        flipRows(behind, mirrored, r0, r1);
        scanRows(mirrored, r2l.stateToState, layer.shape[1], state.scans[1], r0, r1);
        // states(r, c) = left-to-right(r, c) + right-to-left(r − 1, c): mirrored back and shifted down a row.
        const { width: W, ch } = state.states;
        const [l2rStates, r2lStates] = [state.scans[0].h.d, state.scans[1].h.d];
        for (let r = r0; r < r1; r++) {
          for (let c = 0; c < W; c++) {
            const at = (r * W + c) * ch;
            const from = ((r - 1) * W + W - 1 - c) * ch;
            for (let k = 0; k < ch; k++) state.states.d[at + k] = l2rStates[at + k] + (r > 0 ? r2lStates[from + k] : 0);
          }
        }
      }
      if (layer.up) {
        convRows(state.states, layer.up, state.out, r0, r1);
        if (layer.addInput) for (let e = r0 * input.width * input.ch; e < r1 * input.width * input.ch; e++) state.out.d[e] += input.d[e];
      }
      input = state.out;
    });
  }

  /** A new image's maps, nothing computed yet. */
  allocate(image: Float32Array): Pick<CachedImage, 'x' | 'firstPre' | 'first' | 'layers' | 'top'> {
    const { height: H, width: W, channels: C } = this.model.config.image;
    const head = this.model.head;
    const x = fmap(H, W, C);
    const scale = head.config.kind === 'categorical' ? 2 / (head.levels - 1) : 1;
    for (let e = 0; e < x.d.length; e++) x.d[e] = scale === 1 ? image[e] : image[e] * scale - 1;
    const firstPre = this.input ? fmap(H, W, this.input.cout) : null;
    const first = firstPre ? (this.reluAfterInput ? fmap(H, W, firstPre.ch) : firstPre) : x;
    const layers = this.layers.map((layer): LayerCache => {
      if (layer.kind === 'row') {
        const { cout } = layer.inputToState;
        const scan = scanCache(H, W, cout / 4);
        return { kind: 'row', scan, states: scan.h, out: layer.up ? fmap(H, W, layer.up.cout) : scan.h };
      }
      const { cout } = layer.directions[0].inputToState;
      const both = fmap(H, W, cout / 4);
      return {
        kind: 'diagonal',
        scans: [scanCache(H, W, cout / 4), scanCache(H, W, cout / 4)],
        states: both,
        out: layer.up ? fmap(H, W, layer.up.cout) : both,
      };
    });
    return { x, firstPre, first, layers, top: layers.length ? layers[layers.length - 1].out : first };
  }

  /**
   * The backward pass from one output's log-probability to the image, rows ≤ i: |∂ log p / ∂x| in element order.
   * The forward pass must be done down to row i.
   */
  backward(cached: CachedImage, p: PixelChannel): Float32Array {
    const { height: H, width: W, channels: C } = this.model.config.image;
    const rows = p.i + 1;
    // The output stack at the one position: ReLU → 1×1 → ReLU → 1×1, its gradient non-zero there alone.
    const at = (p.i * W + p.j) * cached.top.ch;
    const one = (values: Float64Array): FMap => ({ rows: 1, width: 1, ch: values.length, d: values });
    const y0 = relu(one(cached.top.d.slice(at, at + cached.top.ch)));
    const z = this.hidden ? conv(y0, this.hidden) : null;
    const y1 = z ? relu(z) : y0;
    const logits = conv(y1, this.logits).d;
    const head = this.model.head;
    const value = cached.image[(p.i * W + p.j) * C + p.c];
    const dLogits = fmap(1, 1, logits.length);
    if (head.config.kind === 'bernoulli') {
      dLogits.d[p.c] = value - sigmoid(logits[p.c]);
    } else {
      const L = head.levels;
      const from = p.c * L;
      let max = -Infinity;
      for (let l = 0; l < L; l++) max = Math.max(max, logits[from + l]);
      let total = 0;
      for (let l = 0; l < L; l++) total += Math.exp(logits[from + l] - max);
      for (let l = 0; l < L; l++) dLogits.d[from + l] = (l === value ? 1 : 0) - Math.exp(logits[from + l] - max) / total;
    }
    const dy1 = convBack(dLogits, this.logits);
    let dy0 = dy1;
    if (z) {
      reluBackInPlace(dy1, z);
      dy0 = convBack(dy1, this.hidden!);
    }
    reluBackInPlace(dy0, one(cached.top.d.slice(at, at + cached.top.ch)));
    let d = fmap(rows, W, cached.top.ch);
    d.d.set(dy0.d, at);
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const layer = this.layers[l];
      const cache = cached.layers[l];
      const dStates = layer.up ? convBack(d, layer.up) : d;
      const dIn = layer.addInput ? d : fmap(rows, W, layer.kind === 'row' ? layer.inputToState.cin : layer.directions[0].inputToState.cin);
      if (layer.kind === 'row' && cache.kind === 'row') {
        convBackInto(scanBackward(cache.scan, dStates, layer.stateToState, layer.shape), layer.inputToState, dIn);
      } else if (layer.kind === 'diagonal' && cache.kind === 'diagonal') {
        const [l2r, r2l] = layer.directions;
        convBackInto(scanBackward(cache.scans[0], dStates, l2r.stateToState, layer.shape[0]), l2r.inputToState, dIn);
        const dMirrored = scanBackward(cache.scans[1], flip(shiftUp(dStates)), r2l.stateToState, layer.shape[1]);
        convBackInto(flip(dMirrored), r2l.inputToState, dIn);
      }
      d = dIn;
    }
    if (this.input) {
      if (this.reluAfterInput) reluBackInPlace(d, cached.firstPre!);
      d = convBack(d, this.input);
    }
    const scale = head.config.kind === 'categorical' ? 2 / (head.levels - 1) : 1;
    const map = new Float32Array(H * W * C);
    for (let e = 0; e < d.d.length; e++) map[e] = Math.abs(d.d[e] * scale);
    return map;
  }
}

/**
 * One image's forward pass through an LSTM network, kept for the backward passes of its hovers. It is taken down to
 * the lowest row hovered so far (row i's outputs depend on rows ≤ i alone) and extended when a lower row is hovered.
 */
class CachedImage {
  readonly x: FMap;
  /** The input convolution's output before its ReLU (when there is one). */
  readonly firstPre: FMap | null;
  /** The first LSTM layer's input. */
  readonly first: FMap;
  readonly layers: LayerCache[];
  /** The last LSTM layer's output (the output stack's input). */
  readonly top: FMap;
  /** Rows of every map computed so far. */
  private rows = 0;

  constructor(
    private readonly network: LSTMNetwork,
    readonly image: Float32Array,
  ) {
    ({ x: this.x, firstPre: this.firstPre, first: this.first, layers: this.layers, top: this.top } = network.allocate(image));
  }

  map(p: PixelChannel): Float32Array {
    const { rows: H, width: W, ch: C } = this.x;
    if (!(p.i >= 0 && p.i < H && p.j >= 0 && p.j < W && p.c >= 0 && p.c < C)) throw new Error(`output (${p.i}, ${p.j}, ${p.c}) is outside the ${H}×${W}×${C} image`);
    if (p.i >= this.rows) {
      this.network.forwardRows(this, this.rows, p.i + 1);
      this.rows = p.i + 1;
    }
    return this.network.backward(this, p);
  }
}

/** Mirror rows r0 … r1 − 1 of x left–right into y. */
function flipRows(x: FMap, y: FMap, r0: number, r1: number): void {
  const { width, ch } = x;
  for (let r = r0; r < r1; r++) {
    for (let c = 0; c < width; c++) y.d.set(x.d.subarray((r * width + c) * ch, (r * width + c + 1) * ch), (r * width + width - 1 - c) * ch);
  }
}
