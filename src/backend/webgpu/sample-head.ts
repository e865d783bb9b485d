/**
 * The last step of cached sampling on WebGPU, in one dispatch per pixel and channel: the output stack (ReLU →
 * 1×1 → ReLU → 1×1, as layers.ts's OutputStack) at the pixel, for channel c's logits only (mask B: they do not
 * depend on later channels), and the draw, as sampling/index.ts's drawBernoulli / drawCategorical make it from
 * the same uniform number u:
 *   Bernoulli    x = 1 if u < σ(logit / T)
 *   categorical  the first level whose cumulative softmax(logits / T) exceeds u · Σ
 * The value is written, encoded as the head encodes it, into the image map where the next step reads it. The
 * logits stay in the workspace (`logits`, [N][C·L]) for tests to read.
 *
 * Inputs: W (the packed weights) and R (the uniform numbers, one per draw, in the order the CPU sampler draws
 * them). Uniforms: i, j, c, draw (0: logits only), randomAt (R's index of image 0's number), temperature.
 */
import { convKey, type Grid, type MapRef, type PackedConv, pointwiseFunction, preamble, SampleProgram } from './sample-program';

export interface HeadShape {
  /** The last layer's map (the output stack's input). */
  readonly input: MapRef;
  readonly hidden: PackedConv | null;
  readonly logits: PackedConv;
  /** The encoded image map, [H][W][N][C]. */
  readonly image: MapRef;
  /** Workspace offset of the logits, [N][C·L]. */
  readonly logitsAt: number;
  /** 1: Bernoulli (one logit per channel); else the categorical's levels. */
  readonly levels: number;
  readonly bernoulli: boolean;
  /** Categorical encoding: value · scale − 1 (float32 scale = 2 / (L − 1)). */
  readonly scale: number;
}

export class SampleHeadProgram extends SampleProgram {
  constructor(
    workspaceSize: number,
    private readonly grid: Grid,
    private readonly head: HeadShape,
  ) {
    super(workspaceSize, grid.count, `head_${headKey(grid, head)}`, ['i', 'j', 'c', 'draw', 'randomAt', 'temperature : f32']);
    this.variableNames = ['W', 'R'];
  }

  getUserCode(): string {
    const h = this.head;
    const perChannel = h.bernoulli ? 1 : h.levels;
    const channels = h.image.features;
    const last = h.hidden ? 'z' : 'x';
    const encode = h.bernoulli ? 'v' : `v * ${floatLiteral(h.scale)} - 1.0`;
    const draw = h.bernoulli
      ? `if (u < 1.0 / (1.0 + exp(-lg[0] / t))) { value = 1; }`
      : `
        var top = lg[0];
        for (var l = 1; l < ${perChannel}; l++) { top = max(top, lg[l]); }
        var total = 0.0;
        for (var l = 0; l < ${perChannel}; l++) { total += exp((lg[l] - top) / t); }
        let goal = u * total;
        var cumulative = 0.0;
        value = ${perChannel - 1};
        for (var l = 0; l < ${perChannel - 1}; l++) {
          cumulative += exp((lg[l] - top) / t);
          if (goal < cumulative) { value = l; break; }
        }`;
    return `
      ${preamble(this.grid)}
      var<workgroup> x : array<f32, ${h.input.features}>;
      ${h.hidden ? `var<workgroup> z : array<f32, ${h.hidden.nOut}>;` : ''}
      var<workgroup> lg : array<f32, ${perChannel}>;
      ${h.hidden ? pointwiseFunction('hidden', h.hidden, 'x') : ''}
      ${pointwiseFunction('logit', h.logits, last)}
      fn main(index : i32) {
        let n = min(workgroupIndex(), COUNT - 1);
        let i = uniforms.i;
        let j = uniforms.j;
        let c = uniforms.c;
        for (var k = lane(); k < ${h.input.features}; k += THREADS) {
          x[k] = max(result[mapIndex(${h.input.at}, ${h.input.features}, i, j, n, k)], 0.0);
        }
        workgroupBarrier();
        ${h.hidden ? `for (var o = lane(); o < ${h.hidden.nOut}; o += THREADS) { z[o] = max(hidden(o), 0.0); }
        workgroupBarrier();` : ''}
        for (var q = lane(); q < ${perChannel}; q += THREADS) {
          let v = logit(c * ${perChannel} + q);
          lg[q] = v;
          result[${h.logitsAt} + n * ${channels * perChannel} + c * ${perChannel} + q] = v;
        }
        workgroupBarrier();
        if (lane() == 0 && uniforms.draw == 1) {
          let u = R[uniforms.randomAt + n];
          let t = uniforms.temperature;
          var value = 0;
          ${draw}
          let v = f32(value);
          result[mapIndex(${h.image.at}, ${channels}, i, j, n, c)] = ${encode};
        }
      }
    `;
  }
}

/** A float32 value as a WGSL literal that parses back to the same value. */
function floatLiteral(v: number): string {
  const text = String(Math.fround(v));
  return /[.e]/.test(text) ? text : `${text}.0`;
}

function headKey(grid: Grid, h: HeadShape): string {
  return [
    grid.count,
    grid.height,
    grid.width,
    `${h.input.at}.${h.input.features}`,
    h.hidden ? convKey(h.hidden) : 'none',
    convKey(h.logits),
    `${h.image.at}.${h.image.features}`,
    h.logitsAt,
    h.levels,
    h.bernoulli ? 'b' : 'c',
    h.scale,
  ].join('_');
}
