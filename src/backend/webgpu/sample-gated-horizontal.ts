/**
 * Gated PixelCNN's horizontal stack for cached sampling on WebGPU: layer l at one position of row i (or a row
 * of them), in one dispatch (gated-pixelcnn.ts's GatedLayer, horizontal half):
 *   ĥ = W_h ∗ hˡ⁻¹ (columns j − k//2 … j, masked) + link(i − 1, j)   (row 0: W_{v→h}'s bias, the link of zeros)
 *   hˡ = [hˡ⁻¹ +] W_o (tanh(ĥ_f) ⊙ σ(ĥ_g))
 * The link map is written by the vertical stack (sample-gated-vertical.ts) when row i − 1 completes.
 */
import { convFunction, convKey, type Grid, type MapRef, type PackedConv, pointwiseFunction, preamble, SampleProgram } from './sample-program';

export interface HorizontalStep {
  readonly horizontal: PackedConv;
  readonly out: PackedConv;
  /** W_{v→h}'s bias, at row 0. */
  readonly linkBiasAt: number;
  /** hˡ⁻¹ (the image for the first layer), the link map, hˡ. */
  readonly input: MapRef;
  readonly link: MapRef;
  readonly h: MapRef;
  readonly addsInput: boolean;
}

export class GatedHorizontalProgram extends SampleProgram {
  constructor(
    workspaceSize: number,
    positions: number,
    private readonly grid: Grid,
    private readonly step: HorizontalStep,
  ) {
    super(workspaceSize, positions, `gatedH_${horizontalKey(grid, step)}`, ['i', 'j0', 'positions']);
  }

  getUserCode(): string {
    const s = this.step;
    const units = s.h.features;
    const residual = s.addsInput ? `result[mapIndex(${s.input.at}, ${s.input.features}, i, j, n, o)] + ` : '';
    return `
      ${preamble(this.grid)}
      var<workgroup> pre : array<f32, ${2 * units}>;
      var<workgroup> gated : array<f32, ${units}>;
      ${convFunction('horizontal', s.horizontal, s.input)}
      ${pointwiseFunction('outOf', s.out, 'gated')}
      fn main(index : i32) {
        let p = workgroupIndex();
        let writes = p < uniforms.positions;
        let i = uniforms.i;
        let j = min(uniforms.j0 + p / COUNT, WIDTH - 1);
        let n = p % COUNT;
        for (var o = lane(); o < ${2 * units}; o += THREADS) {
          var link = W[${s.linkBiasAt} + o];
          if (i > 0) { link = result[mapIndex(${s.link.at}, ${2 * units}, i - 1, j, n, o)]; }
          pre[o] = horizontal(i, j, n, o) + link;
        }
        workgroupBarrier();
        for (var o = lane(); o < ${units}; o += THREADS) { gated[o] = pxTanh(pre[o]) * pxSigmoid(pre[o + ${units}]); }
        workgroupBarrier();
        for (var o = lane(); o < ${units}; o += THREADS) {
          let v = ${residual}outOf(o);
          if (writes) { result[mapIndex(${s.h.at}, ${units}, i, j, n, o)] = v; }
        }
      }
    `;
  }
}

function horizontalKey(grid: Grid, s: HorizontalStep): string {
  const maps = [s.input, s.link, s.h].map((m) => `${m.at}.${m.features}`).join('_');
  return [grid.count, grid.height, grid.width, convKey(s.horizontal), convKey(s.out), s.linkBiasAt, maps, s.addsInput ? 1 : 0].join('_');
}
