/**
 * Gated PixelCNN — van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves, Kavukcuoglu, "Conditional Image
 * Generation with PixelCNN Decoders" (2016), §2.1–2.2, Figure 2.
 *
 * Two stacks replace PixelCNN's single masked stack, and every unit is gated:
 *
 *   vertical     v̂ˡ = W_v ∗ vˡ⁻¹                          (k//2+1) × k kernel over rows i − k//2 … i, unmasked
 *                vˡ = tanh(v̂ˡ_f) ⊙ σ(v̂ˡ_g)
 *   horizontal   ĥˡ = W_h ∗ hˡ⁻¹ + W_{v→h} ∗ shift↓(v̂ˡ)    1 × (k//2+1) kernel over columns j − k//2 … j, masked at j
 *                hˡ = hˡ⁻¹ + W_o ∗ (tanh(ĥˡ_f) ⊙ σ(ĥˡ_g))  1×1, mask B; no residual add in the first layer
 *
 * The vertical stack sees whole rows, including the current one; it reaches the horizontal stack only shifted
 * down one row, so there it shows rows < i. The horizontal stack sees its own row to the left, masked at the
 * centre with the colour rule (mask A in the first layer, B after). Rows above are covered whole within the
 * stack's reach — no blind spot.
 *
 * Class-conditional (§2.3, `classes` > 0): with h the image's one-hot class, V·h is added to both stacks'
 * pre-gate activations, tanh(W_f ∗ x + V_fᵀh) ⊙ σ(W_g ∗ x + V_gᵀh), a separate V per stack and layer
 * (`gated{l}/vertical-class`, `gated{l}/horizontal-class`). The vertical one is part of v̂ˡ, so it also reaches
 * the horizontal stack through the link, from the second row on (the link's first row is the shift's zeros).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from './config';
import type { DepField } from './field';
import { addClass, type ClassEmbedding, classEmbedding, Conv2D, gatedActivation, maskedConv, OutputStack } from './layers';
import type { KernelGeometry } from './masks';
import { PixelModelBase } from './model';
import type { ParamStore } from './params';

/** Rows i − k//2 … i, columns j − k//2 … j + k//2. */
function verticalGeometry(k: number): KernelGeometry {
  const reach = (k - 1) / 2;
  return { rows: reach + 1, cols: k, cy: reach, cx: reach, mask: 'none' };
}

export class GatedLayer {
  readonly vertical: Conv2D;
  readonly verticalToHorizontal: Conv2D;
  readonly horizontal: Conv2D;
  readonly horizontalOut: Conv2D;
  /** V·h of each stack (conditional models only). */
  readonly verticalClass: ClassEmbedding | null;
  readonly horizontalClass: ClassEmbedding | null;

  constructor(params: ParamStore, name: string, inFeatures: number, h: number, k: number, colours: number, readonly first: boolean, readonly residual: boolean, classes = 0) {
    const gated = { colours, outChunks: 2 };
    this.vertical = new Conv2D(params, `${name}/vertical`, verticalGeometry(k), { in: inFeatures, out: 2 * h, ...gated });
    this.verticalToHorizontal = maskedConv(params, `${name}/vertical-to-horizontal`, 1, 1, 'none', {
      in: 2 * h,
      out: 2 * h,
      inChunks: 2,
      ...gated,
    });
    this.horizontal = maskedConv(params, `${name}/horizontal`, 1, k, first ? 'A' : 'B', { in: inFeatures, out: 2 * h, ...gated });
    this.horizontalOut = maskedConv(params, `${name}/horizontal-out`, 1, 1, 'B', { in: h, out: h, colours });
    this.verticalClass = classEmbedding(params, `${name}/vertical-class`, classes, 2 * h);
    this.horizontalClass = classEmbedding(params, `${name}/horizontal-class`, classes, 2 * h);
  }

  apply(v: tf.Tensor4D, h: tf.Tensor4D, classes: tf.Tensor2D | null = null): { v: tf.Tensor4D; h: tf.Tensor4D } {
    const vPre = addClass(this.vertical.apply(v), this.verticalClass, classes);
    const hPre = addClass(this.horizontal.apply(h, { add: this.verticalToHorizontal.apply(vPre, { shiftDown: true }) }), this.horizontalClass, classes);
    const hOut = this.horizontalOut.apply(gatedActivation(hPre), this.addsInput ? { add: h } : {});
    return { v: gatedActivation(vPre), h: hOut };
  }

  field(v: DepField, h: DepField): { v: DepField; h: DepField } {
    const vPre = this.vertical.field(v);
    const hPre = this.horizontal.field(h).union(this.verticalToHorizontal.field(vPre.shiftDown()));
    const hOut = this.horizontalOut.field(hPre);
    return { v: vPre, h: this.addsInput ? h.union(hOut) : hOut };
  }

  /** The first layer reads the image: adding it would hand x_ij to its own prediction. */
  get addsInput(): boolean {
    return this.residual && !this.first;
  }
}

export class GatedPixelCNN extends PixelModelBase {
  readonly layers: GatedLayer[];
  readonly output: OutputStack;

  constructor(config: ModelConfig) {
    super(config);
    const { hidden: h, firstKernel, kernel, residual, outputHidden } = config;
    const colours = this.colours;
    this.layers = Array.from({ length: config.layers }, (_, l) =>
      l === 0
        ? new GatedLayer(this.params, 'gated0', colours, h, firstKernel, colours, true, residual, this.classes)
        : new GatedLayer(this.params, `gated${l}`, h, h, kernel, colours, false, residual, this.classes),
    );
    this.output = new OutputStack(this.params, h, outputHidden, this.head.outputFeatures(colours), colours);
  }

  protected forward(x: tf.Tensor4D, classes: tf.Tensor2D | null): tf.Tensor {
    let v = x;
    let h = x;
    for (const layer of this.layers) ({ v, h } = layer.apply(v, h, classes));
    return this.head.toLogits(this.output.apply(h), this.colours);
  }

  protected propagateField(image: DepField): DepField {
    let v = image;
    let h = image;
    for (const layer of this.layers) ({ v, h } = layer.field(v, h));
    return this.output.field(h);
  }
}
