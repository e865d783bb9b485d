/** Image sets in memory (bytes 0–255, [count, H, W, C] row-major) and fitting them to an experiment's shape. */

/** A batch of images as pixel values (0 … levels − 1, or bytes 0–255 for a dataset's), [count, H, W, C] row-major. */
export interface ImageBatch {
  readonly data: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** A dataset's images as sent to the panel for training: the official test set is the last `testCount` of them. */
  readonly testCount?: number;
  /** A few test images for the panel (testImageSubset): `data` their bytes, `values` the same images exactly as
   *  evaluation encodes them (0 … levels − 1): what completion and the inspector should feed the model. */
  readonly values?: Uint8Array;
  /** A few test images of a class-conditional experiment for the panel: each image's class label (`count` of them),
   *  so the inspector and the NLL map read each image as of its own class. */
  readonly labels?: Uint8Array;
}

export interface ImageSet {
  readonly images: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** One class index per image (`count` of them), where the data has labels: the bundled MNIST and Fashion-MNIST,
   *  an idx experiment's `data.labels` (and `data.testLabels` for its test images), a folder of class sub-folders. */
  readonly labels?: Uint8Array;
  /** The name of each class (label k is classNames[k]): "0"…"9" for MNIST, Fashion-MNIST's ten, a folder's
   *  sub-folder names (sorted), "0"… for IDX labels. Present exactly when `labels` is. */
  readonly classNames?: readonly string[];
  /** The official test set, when the experiment names one (`data.test`): the last `testCount` images (and labels). */
  readonly testCount?: number;
}

/** Resample every image to height × width (area-weighted, so downsampling averages) and convert grey ↔ RGB. */
export function fitImages(set: ImageSet, height: number, width: number, channels: number): ImageSet {
  if (set.height === height && set.width === width && set.channels === channels) return set;
  const out = new Uint8Array(set.count * height * width * channels);
  const one = new Float32Array(height * width * set.channels);
  for (let n = 0; n < set.count; n++) {
    resample(set.images.subarray(n * set.height * set.width * set.channels, (n + 1) * set.height * set.width * set.channels), set.height, set.width, set.channels, height, width, one);
    convertChannels(one, height * width, set.channels, channels, out.subarray(n * height * width * channels, (n + 1) * height * width * channels));
  }
  return { ...set, images: out, height, width, channels };
}

/** Weights of each source index for each destination index: the overlap of their intervals. */
function coverage(from: number, to: number): { start: number; weights: number[] }[] {
  const scale = from / to;
  return Array.from({ length: to }, (_, d) => {
    const lo = d * scale;
    const hi = (d + 1) * scale;
    const start = Math.floor(lo);
    const weights: number[] = [];
    for (let s = start; s < Math.min(from, Math.ceil(hi)); s++) weights.push((Math.min(hi, s + 1) - Math.max(lo, s)) / scale);
    return { start, weights };
  });
}

function resample(src: Uint8Array, h: number, w: number, c: number, H: number, W: number, out: Float32Array): void {
  const rows = coverage(h, H);
  const cols = coverage(w, W);
  const tmp = new Float32Array(h * W * c);
  for (let y = 0; y < h; y++) {
    cols.forEach(({ start, weights }, x) => {
      for (let ch = 0; ch < c; ch++) {
        let v = 0;
        weights.forEach((wt, k) => (v += wt * src[(y * w + start + k) * c + ch]));
        tmp[(y * W + x) * c + ch] = v;
      }
    });
  }
  rows.forEach(({ start, weights }, y) => {
    for (let x = 0; x < W; x++) {
      for (let ch = 0; ch < c; ch++) {
        let v = 0;
        weights.forEach((wt, k) => (v += wt * tmp[((start + k) * W + x) * c + ch]));
        out[(y * W + x) * c + ch] = v;
      }
    }
  });
}

function convertChannels(src: Float32Array, pixels: number, from: number, to: number, out: Uint8Array): void {
  for (let p = 0; p < pixels; p++) {
    if (from === to) {
      for (let c = 0; c < to; c++) out[p * to + c] = Math.round(src[p * from + c]);
    } else if (from === 3 && to === 1) {
      out[p] = Math.round(0.299 * src[p * 3] + 0.587 * src[p * 3 + 1] + 0.114 * src[p * 3 + 2]);
    } else if (from === 1 && to === 3) {
      out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = Math.round(src[p]);
    } else {
      throw new Error(`cannot convert images with ${from} channels to ${to}`);
    }
  }
}
