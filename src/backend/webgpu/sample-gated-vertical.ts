/**
 * Gated PixelCNN's vertical stack for cached sampling on WebGPU: layer l on a whole completed row r, in one
 * dispatch (gated-pixelcnn.ts's GatedLayer, vertical half):
 *   v̂ = W_v ∗ vˡ⁻¹ (rows r − k//2 … r, unmasked; v⁻¹ is the image),   vˡ = tanh(v̂_f) ⊙ σ(v̂_g),
 *   link = W_{v→h} v̂   — what the horizontal stack of row r + 1 adds (shift↓).
 */
import { convFunction, convKey, type Grid, type MapRef, type PackedConv, pointwiseFunction, preamble, SampleProgram } from './sample-program';

export interface VerticalStep {
  readonly vertical: PackedConv;
  readonly link: PackedConv;
  /** vˡ⁻¹ (the image for the first layer), vˡ, and the link map. */
  readonly input: MapRef;
  readonly v: MapRef;
  readonly linkOut: MapRef;
}

export class GatedVerticalProgram extends SampleProgram {
  constructor(
    workspaceSize: number,
    private readonly grid: Grid,
    private readonly step: VerticalStep,
  ) {
    super(workspaceSize, grid.width * grid.count, `gatedV_${verticalKey(grid, step)}`, ['i']);
  }

  getUserCode(): string {
    const s = this.step;
    const units = s.v.features;
    return `
      ${preamble(this.grid)}
      var<workgroup> pre : array<f32, ${2 * units}>;
      ${convFunction('vertical', s.vertical, s.input)}
      ${pointwiseFunction('link', s.link, 'pre')}
      fn main(index : i32) {
        let p = min(workgroupIndex(), WIDTH * COUNT - 1);
        let i = uniforms.i;
        let j = p / COUNT;
        let n = p % COUNT;
        for (var o = lane(); o < ${2 * units}; o += THREADS) { pre[o] = vertical(i, j, n, o); }
        workgroupBarrier();
        for (var o = lane(); o < ${units}; o += THREADS) {
          result[mapIndex(${s.v.at}, ${units}, i, j, n, o)] = pxTanh(pre[o]) * pxSigmoid(pre[o + ${units}]);
        }
        for (var o = lane(); o < ${2 * units}; o += THREADS) {
          result[mapIndex(${s.linkOut.at}, ${2 * units}, i, j, n, o)] = link(o);
        }
      }
    `;
  }
}

function verticalKey(grid: Grid, s: VerticalStep): string {
  const maps = [s.input, s.v, s.linkOut].map((m) => `${m.at}.${m.features}`).join('_');
  return [grid.count, grid.height, grid.width, convKey(s.vertical), convKey(s.link), maps].join('_');
}
