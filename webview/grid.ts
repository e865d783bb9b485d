/** A grid of images on a canvas, drawn at one canvas pixel per image pixel and enlarged crisply by CSS. */
import { type GridOptions, gridHit, gridPixels, tileOrigin } from '../src/data/grid';
import type { ImageBatch } from '../src/protocol';

export interface GridHit {
  readonly image: number;
  readonly i: number;
  readonly j: number;
}

export class ImageGrid {
  readonly canvas = document.createElement('canvas');
  private options: GridOptions | null = null;
  private images: ImageBatch | null = null;

  constructor(
    container: HTMLElement,
    private readonly levels: () => number,
    onHover: (hit: GridHit | null, grid: ImageGrid) => void,
  ) {
    this.canvas.className = 'pixels';
    container.appendChild(this.canvas);
    this.canvas.addEventListener('mousemove', (e) => onHover(this.hit(e), this));
    this.canvas.addEventListener('mouseleave', () => onHover(null, this));
  }

  /** The values of one image, [H, W, C]. */
  image(n: number): Uint8Array | null {
    if (!this.images) return null;
    const size = this.images.height * this.images.width * this.images.channels;
    return this.images.data.subarray(n * size, (n + 1) * size);
  }

  get batch(): ImageBatch | null {
    return this.images;
  }

  /** Nothing on view. */
  clear(): void {
    this.images = null;
    this.options = null;
    this.canvas.width = 0;
    this.canvas.height = 0;
  }

  /** Draw images (`columns` a row, default square-ish); pixels at raster position ≥ `drawn` (still being sampled) are dimmed. */
  show(images: ImageBatch, drawn = Infinity, columns?: number): void {
    this.images = images;
    const o: GridOptions = { count: images.count, height: images.height, width: images.width, channels: images.channels, levels: this.levels(), scale: 1, ...(columns ? { columns } : {}) };
    this.options = o;
    const { layout, rgba } = gridPixels(images.data, o);
    if (drawn < images.height * images.width) {
      for (let n = 0; n < images.count; n++) {
        const origin = tileOrigin(n, layout, o);
        for (let p = drawn; p < images.height * images.width; p++) {
          const at = ((origin.y + Math.floor(p / images.width)) * layout.width + origin.x + (p % images.width)) * 4;
          for (let c = 0; c < 3; c++) rgba[at + c] = 96 + rgba[at + c] / 4;
        }
      }
    }
    this.canvas.width = layout.width;
    this.canvas.height = layout.height;
    this.canvas.getContext('2d')!.putImageData(new ImageData(rgba, layout.width, layout.height), 0, 0);
  }

  /** The image and pixel under the mouse; null in a gap or outside. */
  hit(e: MouseEvent): GridHit | null {
    if (!this.options) return null;
    const box = this.canvas.getBoundingClientRect();
    const x = ((e.clientX - box.left) / box.width) * this.canvas.width;
    const y = ((e.clientY - box.top) / box.height) * this.canvas.height;
    return gridHit(x, y, this.options);
  }
}
