/** Sample grids as PNG files (Node). */
import { PNG } from 'pngjs';
import { type GridOptions, gridPixels } from '../data/grid';

export type { GridOptions } from '../data/grid';

export function encodeGrid(images: Uint8Array, o: GridOptions): Uint8Array {
  const { layout, rgba } = gridPixels(images, o);
  const png = new PNG({ width: layout.width, height: layout.height });
  png.data.set(rgba);
  return new Uint8Array(PNG.sync.write(png));
}
