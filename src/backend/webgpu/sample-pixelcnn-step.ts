/**
 * One step of cached PixelCNN sampling on WebGPU: a layer of the network at one position (or a row of them), in
 * one dispatch. The steps are cut so that every convolution reads only maps written by earlier dispatches:
 *
 *   input   h⁰ = Conv_A(x)  (ReLU without residuals);   then block 0's  a⁰ = ReLU(down(ReLU(h⁰)))
 *   block l b = ReLU(Conv_B^{k×k}(aˡ));  hˡ⁺¹ = hˡ + up(b);  then block l+1's  aˡ⁺¹ = ReLU(down(ReLU(hˡ⁺¹)))
 *   plain l hˡ⁺¹ = ReLU(Conv_B^{k×k}(hˡ))
 *
 * — the same arithmetic as pixelcnn.ts, in the workspace layout of sample-program.ts.
 */
import { convFunction, convKey, type Grid, type MapRef, type PackedConv, pointwiseFunction, preamble, SampleProgram } from './sample-program';

export type PixelCNNStep =
  /** conv: the input convolution (reads the image map), out: h⁰; with `next`, block 0's down into `nextA`. */
  | { kind: 'input'; conv: PackedConv; input: MapRef; out: MapRef; relu: boolean; next: { down: PackedConv; a: MapRef } | null }
  /** conv reads aˡ; h and out are hˡ and hˡ⁺¹. */
  | { kind: 'block'; conv: PackedConv; input: MapRef; up: PackedConv; h: MapRef; out: MapRef; next: { down: PackedConv; a: MapRef } | null }
  | { kind: 'plain'; conv: PackedConv; input: MapRef; out: MapRef };

export class PixelCNNStepProgram extends SampleProgram {
  constructor(
    workspaceSize: number,
    positions: number,
    private readonly grid: Grid,
    private readonly step: PixelCNNStep,
  ) {
    super(workspaceSize, positions, `pixelcnn_${stepKey(grid, step)}`, ['i', 'j0', 'positions']);
  }

  getUserCode(): string {
    const s = this.step;
    const conv = convFunction('conv', s.conv, s.input);
    const width = s.kind === 'block' ? s.up.nOut : s.conv.nOut;
    const next = s.kind === 'plain' ? null : s.next;
    // Stage 1: the convolution (and for a block its up and residual add) into `h`; stage 2: the next down.
    const stage1 =
      s.kind === 'block'
        ? `
          for (var o = lane(); o < ${s.conv.nOut}; o += THREADS) { b[o] = max(conv(i, j, n, o), 0.0); }
          workgroupBarrier();
          for (var o = lane(); o < ${width}; o += THREADS) {
            let v = result[mapIndex(${s.h.at}, ${s.h.features}, i, j, n, o)] + up(o);
            h[o] = v;
            if (writes) { result[mapIndex(${s.out.at}, ${s.out.features}, i, j, n, o)] = v; }
          }`
        : `
          for (var o = lane(); o < ${width}; o += THREADS) {
            var v = conv(i, j, n, o);
            ${s.kind === 'plain' || s.relu ? 'v = max(v, 0.0);' : ''}
            h[o] = v;
            if (writes) { result[mapIndex(${s.out.at}, ${s.out.features}, i, j, n, o)] = v; }
          }`;
    const stage2 = next
      ? `
          workgroupBarrier();
          for (var o = lane(); o < ${next.down.nOut}; o += THREADS) {
            let v = max(down(o), 0.0);
            if (writes) { result[mapIndex(${next.a.at}, ${next.a.features}, i, j, n, o)] = v; }
          }`
      : '';
    return `
      ${preamble(this.grid)}
      var<workgroup> h : array<f32, ${width}>;
      ${s.kind === 'block' ? `var<workgroup> b : array<f32, ${s.conv.nOut}>;` : ''}
      ${conv}
      ${s.kind === 'block' ? pointwiseFunction('up', s.up, 'b') : ''}
      ${next ? pointwiseFunction('down', next.down, 'h', true) : ''}
      fn main(index : i32) {
        let p = workgroupIndex();
        let writes = p < uniforms.positions;
        let i = uniforms.i;
        let j = min(uniforms.j0 + p / COUNT, WIDTH - 1);
        let n = p % COUNT;
        ${stage1}
        ${stage2}
      }
    `;
  }
}

function stepKey(grid: Grid, s: PixelCNNStep): string {
  const maps = (m: MapRef[]) => m.map((r) => `${r.at}.${r.features}`).join('_');
  const next = s.kind !== 'plain' && s.next ? `${convKey(s.next.down)}_${maps([s.next.a])}` : 'none';
  const own =
    s.kind === 'block' ? `${convKey(s.up)}_${maps([s.h])}` : s.kind === 'input' ? `relu${s.relu ? 1 : 0}` : '';
  return [s.kind, grid.count, grid.height, grid.width, convKey(s.conv), maps([s.input, s.out]), own, next].join('_');
}
