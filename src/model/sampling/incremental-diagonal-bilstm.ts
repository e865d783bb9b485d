/**
 * Incremental sampling for the Diagonal BiLSTM: both directions' states are carried, and a new pixel costs one
 * position of every layer plus, once per row, the right-to-left scan of the row above.
 *
 * In image coordinates (the skewed scan unrolled; see diagonal-bilstm.ts), per layer:
 *   left to right   gates(i, j) = K^is x(i, j) + K^ss_above h(i − 1, j) + K^ss_left h(i, j − 1),
 *                   c(i, j) = f ⊙ c(i, j − 1) + i ⊙ g    — the cell state runs along the row;
 *   right to left   the same on the mirrored row: it reads h(i, j + 1), c(i, j + 1), and every input of its row;
 *   output          state(i, j) = h→(i, j) + h←(i − 1, j)  (the right-to-left map shifted down a row).
 * Outside the image the states are zero (the skewed map's padding gives exactly zero states), so the left-to-right
 * state at (i, j) needs only final values, and the right-to-left row i − 1 is computed once, when row i starts —
 * the whole row i − 1 of the layer's input is final by then.
 */
import type { DiagonalBiLSTM } from '../diagonal-bilstm';
import { CpuIncrementalStepper, encoder } from './cpu-stepper';
import { addProduct, type DenseConv, DenseOutputStack, imageRow, lstmCellInto, pointwise, readConv, relu, RowByRowConv, setBias } from './dense';
import type { SampleImages } from './stepper';

interface Direction {
  readonly inputToState: DenseConv;
  /** [2][1][h][4h]: tap 0 reads the state above, tap 1 the previous state along the scan. */
  readonly stateToState: DenseConv;
}

interface LayerWeights {
  readonly forward: Direction;
  readonly backward: Direction;
  readonly up: DenseConv | null;
  readonly addInput: boolean;
}

interface LayerState {
  /** The layer's input on the current row, [W][N][in]; when a row starts it still holds the row above. */
  readonly input: Float64Array;
  /** Left-to-right h of the row above (null on the first row) and h, c of the current row, [W][N][h]. */
  hAbove: Float64Array | null;
  h: Float64Array;
  readonly c: Float64Array;
  /** Right-to-left h of the row above (null on the first row), [W][N][h]. */
  backAbove: Float64Array | null;
}

export class IncrementalDiagonalBiLSTM extends CpuIncrementalStepper {
  private readonly input: RowByRowConv;
  private readonly states: LayerState[];
  private readonly encode: (v: number) => number;

  private constructor(
    private readonly model: DiagonalBiLSTM,
    images: SampleImages,
    input: DenseConv,
    private readonly layers: LayerWeights[],
    private readonly output: DenseOutputStack,
  ) {
    super(images);
    const { count: N, width: W } = images;
    const h = model.config.hidden;
    this.encode = encoder(model.head);
    this.input = new RowByRowConv(input, W, N);
    this.states = layers.map((layer) => ({
      input: new Float64Array(W * N * layer.forward.inputToState.nIn),
      hAbove: null,
      h: new Float64Array(W * N * h),
      c: new Float64Array(W * N * h),
      backAbove: null,
    }));
  }

  static async create(model: DiagonalBiLSTM, images: SampleImages): Promise<IncrementalDiagonalBiLSTM> {
    if (!model.input) throw new Error('the Diagonal BiLSTM always has an input convolution');
    const direction = async (d: DiagonalBiLSTM['layers'][number]['leftToRight']): Promise<Direction> => ({
      inputToState: await readConv(d.inputToState),
      stateToState: await readConv(d.stateToState),
    });
    const layers = await Promise.all(
      model.layers.map(async (layer) => ({
        forward: await direction(layer.leftToRight),
        backward: await direction(layer.rightToLeft),
        up: layer.up ? await readConv(layer.up) : null,
        addInput: model.config.residual,
      })),
    );
    return new IncrementalDiagonalBiLSTM(model, images, await readConv(model.input), layers, await DenseOutputStack.read(model.output));
  }

  protected beginRow(i: number): void {
    const { count: N, width: W } = this.images;
    const units = this.model.config.hidden;
    this.input.nextRow(i > 0 ? imageRow(this.images.data, i - 1, this.images, this.encode) : null);
    if (i === 0) return;
    this.states.forEach((s, l) => {
      // The right-to-left scan of row i − 1, from its last column to its first, below row i − 2's states.
      const back = new Float64Array(W * N * units);
      const c = new Float64Array(W * N * units);
      for (let j = W - 1; j >= 0; j--) {
        const next = j + 1 < W ? (j + 1) * N * units : -1;
        const gates = this.gates(this.layers[l].backward, s.input, j, s.backAbove, back, next);
        lstmCellInto(gates, next >= 0 ? c : null, next, back, c, j * N * units, N, units);
      }
      s.backAbove = back;
      s.hAbove = s.h;
      s.h = new Float64Array(s.h.length);
    });
  }

  protected pixel(i: number, j: number): Float32Array {
    const { count: N } = this.images;
    const units = this.model.config.hidden;
    let x = this.input.at(imageRow(this.images.data, i, this.images, this.encode), j);
    if (!this.model.config.residual) relu(x);
    this.layers.forEach((layer, l) => {
      const s = this.states[l];
      const at = j * N * units;
      s.input.set(x, j * N * layer.forward.inputToState.nIn);
      const left = j > 0 ? at - N * units : -1;
      const gates = this.gates(layer.forward, s.input, j, s.hAbove, s.h, left);
      lstmCellInto(gates, left >= 0 ? s.c : null, left, s.h, s.c, at, N, units);
      const state = Float64Array.from(s.h.subarray(at, at + N * units));
      if (s.backAbove) for (let k = 0; k < state.length; k++) state[k] += s.backAbove[at + k];
      if (!layer.up) {
        x = state;
        return;
      }
      const out = pointwise(layer.up, state, N);
      if (layer.addInput) for (let k = 0; k < out.length; k++) out[k] += x[k];
      x = out;
    });
    return this.output.apply(x, N);
  }

  /**
   * The gates [N][4h] of one direction at column j: K^is on the layer's input there, K^ss on the state above
   * (`above`, a [W][N][h] row or null) and on the previous state along the scan (`along` at offset `alongAt`,
   * −1: none).
   */
  private gates(d: Direction, input: Float64Array, j: number, above: Float64Array | null, along: Float64Array, alongAt: number): Float64Array {
    const { count: N } = this.images;
    const units = this.model.config.hidden;
    const nIn = d.inputToState.nIn;
    const gates = new Float64Array(N * 4 * units);
    setBias(gates, 0, N, d.inputToState.bias);
    addProduct(gates, 0, input, j * N * nIn, N, d.inputToState.kernel, 0, nIn, 4 * units);
    const k = d.stateToState.kernel;
    if (above) addProduct(gates, 0, above, j * N * units, N, k, 0, units, 4 * units);
    if (alongAt >= 0) addProduct(gates, 0, along, alongAt, N, k, units * 4 * units, units, 4 * units);
    return gates;
  }
}
