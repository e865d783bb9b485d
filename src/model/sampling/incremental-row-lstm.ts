/**
 * Incremental sampling for the Row LSTM: the recurrent state is carried row by row, and a new pixel costs one
 * position of every layer.
 *
 * Row i's gates are K^ss ⊛ h_{i−1} + K^is ⊛ x_i. The first term reads only the finished row above, so it is
 * computed for the whole row when the row starts; K^is is masked (it reads columns j − k//2 … j of the layer's
 * input, the centre under the colour rule), so at pixel (i, j) only columns up to j of row i are needed, and
 * those are final. The cell then needs c_{i−1} at column j: a pixel changes nothing but its own column.
 */
import type { RowLSTM } from '../row-lstm';
import { CpuIncrementalStepper, encoder } from './cpu-stepper';
import {
  addCentreRow,
  type DenseConv,
  DenseOutputStack,
  imageRow,
  lstmCellInto,
  pointwise,
  readConv,
  relu,
  RowByRowConv,
  rowsAboveTaps,
  setBias,
} from './dense';
import type { SampleImages } from './stepper';

interface LayerWeights {
  readonly inputToState: DenseConv;
  readonly stateToState: DenseConv;
  readonly up: DenseConv | null;
  readonly addInput: boolean;
}

interface LayerState {
  /** The layer's input on the current row, [W][N][in] (the first layer that reads the image: unused). */
  readonly input: Float64Array;
  /** h and c of the row above (null on the first row) and of the current row, [W][N][h]. */
  hAbove: Float64Array | null;
  cAbove: Float64Array | null;
  h: Float64Array;
  c: Float64Array;
  /** K^ss ⊛ h_{i−1} for the current row, [W][N][4h]. */
  fromAbove: Float64Array;
}

export class IncrementalRowLSTM extends CpuIncrementalStepper {
  private readonly input: RowByRowConv | null;
  private readonly states: LayerState[];
  private readonly encode: (v: number) => number;

  private constructor(
    private readonly model: RowLSTM,
    images: SampleImages,
    input: DenseConv | null,
    private readonly layers: LayerWeights[],
    private readonly output: DenseOutputStack,
  ) {
    super(images);
    const { count: N, width: W } = images;
    this.encode = encoder(model.head);
    this.input = input ? new RowByRowConv(input, W, N) : null;
    const h = model.config.hidden;
    this.states = layers.map((layer) => ({
      input: new Float64Array(W * N * layer.inputToState.nIn),
      hAbove: null,
      cAbove: null,
      h: new Float64Array(W * N * h),
      c: new Float64Array(W * N * h),
      fromAbove: new Float64Array(W * N * 4 * h),
    }));
  }

  static async create(model: RowLSTM, images: SampleImages): Promise<IncrementalRowLSTM> {
    const layers = await Promise.all(
      model.layers.map(async (layer, l) => ({
        inputToState: await readConv(layer.inputToState),
        stateToState: await readConv(layer.stateToState),
        up: layer.up ? await readConv(layer.up) : null,
        addInput: model.config.residual && !(l === 0 && !model.input),
      })),
    );
    const input = model.input ? await readConv(model.input) : null;
    return new IncrementalRowLSTM(model, images, input, layers, await DenseOutputStack.read(model.output));
  }

  protected beginRow(i: number): void {
    const { count: N, width: W } = this.images;
    if (this.input) this.input.nextRow(i > 0 ? this.imageRow(i - 1) : null);
    this.states.forEach((s, l) => {
      if (i > 0) {
        [s.hAbove, s.cAbove] = [s.h, s.c];
        s.h = new Float64Array(s.h.length);
        s.c = new Float64Array(s.c.length);
      }
      s.fromAbove = rowsAboveTaps(this.layers[l].stateToState, [s.hAbove], W, N);
    });
  }

  protected pixel(i: number, j: number): Float32Array {
    const { count: N, width: W } = this.images;
    const units = this.model.config.hidden;
    const image = this.imageRow(i);
    let x: Float64Array | null = null;
    if (this.input) {
      x = this.input.at(image, j);
      if (!this.model.config.residual) relu(x);
    }
    this.layers.forEach((layer, l) => {
      const s = this.states[l];
      // The layer's input row: the image itself for a first layer without an input convolution.
      const row = x ? s.input : image;
      if (x) row.set(x, j * N * layer.inputToState.nIn);
      const gates = new Float64Array(N * 4 * units);
      setBias(gates, 0, N, layer.inputToState.bias);
      addCentreRow(gates, layer.inputToState, row, j, W, N);
      for (let k = 0; k < gates.length; k++) gates[k] += s.fromAbove[j * N * 4 * units + k];
      lstmCellInto(gates, s.cAbove, j * N * units, s.h, s.c, j * N * units, N, units);
      const h = s.h.subarray(j * N * units, (j + 1) * N * units);
      if (!layer.up) {
        x = Float64Array.from(h);
        return;
      }
      const out = pointwise(layer.up, h, N);
      if (layer.addInput && x) for (let k = 0; k < out.length; k++) out[k] += x[k];
      x = out;
    });
    return this.output.apply(x!, N);
  }

  private imageRow(i: number): Float64Array {
    return imageRow(this.images.data, i, this.images, this.encode);
  }
}
