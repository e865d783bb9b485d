/** A saved sample grid (PNG) back to the batch of pixel values it shows. */
import { imagesFromGrid } from '../src/data/grid';
import { type Experiment, imageShape } from '../src/experiment/types';
import type { ImageBatch } from '../src/protocol';

/** The images of a saved sample grid (a PNG the host read from the run folder). */
export async function decodeGrid(png: Uint8Array, e: Experiment): Promise<ImageBatch> {
  const bitmap = await createImageBitmap(new Blob([png as BlobPart], { type: 'image/png' }));
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const g = canvas.getContext('2d')!;
  g.drawImage(bitmap, 0, 0);
  const shape = imageShape(e, undefined);
  const o = { count: e.sampling.count, ...shape, levels: e.data.levels };
  return { data: imagesFromGrid(g.getImageData(0, 0, bitmap.width, bitmap.height).data, bitmap.width, o), count: o.count, ...shape };
}
