/**
 * Gated PixelCNN laid out for cached sampling on WebGPU. The vertical stack feeds only the rows below, so it
 * runs once a row, when the row completes (one dispatch a layer for the whole row,
 * src/backend/webgpu/sample-gated-vertical.ts); the horizontal stack runs per pixel (one dispatch a layer,
 * sample-gated-horizontal.ts), reading the vertical stack's link of the row above.
 */
import { GatedHorizontalProgram, type HorizontalStep } from '../../backend/webgpu/sample-gated-horizontal';
import { GatedVerticalProgram, type VerticalStep } from '../../backend/webgpu/sample-gated-vertical';
import { type Grid, ints, type MapRef } from '../../backend/webgpu/sample-program';
import type { GatedPixelCNN } from '../gated-pixelcnn';
import { type Dispatch, headShape, type WebGPUNetwork, type WeightPack, WorkspaceLayout } from './webgpu-layout';

export function gatedNetwork(model: GatedPixelCNN, grid: Grid, pack: WeightPack): WebGPUNetwork & { maps: MapRef[] } {
  const layout = new WorkspaceLayout(grid);
  const units = model.config.hidden;
  const image = layout.map(model.config.image.channels);
  const vs = model.layers.map(() => layout.map(units));
  const links = model.layers.map(() => layout.map(2 * units));
  const hs = model.layers.map(() => layout.map(units));
  const vertical: VerticalStep[] = [];
  const horizontal: HorizontalStep[] = [];
  model.layers.forEach((layer, l) => {
    const link = pack.add(layer.verticalToHorizontal);
    vertical.push({ vertical: pack.add(layer.vertical), link, input: l === 0 ? image : vs[l - 1], v: vs[l], linkOut: links[l] });
    horizontal.push({
      horizontal: pack.add(layer.horizontal),
      out: pack.add(layer.horizontalOut),
      linkBiasAt: link.biasAt,
      input: l === 0 ? image : hs[l - 1],
      link: links[l],
      h: hs[l],
      addsInput: layer.addsInput,
    });
  });
  const head = headShape(layout, pack, model.output, model.head, hs[hs.length - 1], image);
  return {
    layout,
    image,
    head,
    maps: [...vs, ...links, ...hs],
    beginRow: (i: number, run: Dispatch) => {
      if (i === 0) return;
      for (const step of vertical) run(new GatedVerticalProgram(layout.size, grid, step), ints(i - 1));
    },
    columns: (i: number, j0: number, count: number, run: Dispatch) => {
      const positions = count * grid.count;
      for (const step of horizontal) run(new GatedHorizontalProgram(layout.size, positions, grid, step), ints(i, j0, positions));
    },
    // The horizontal stack of a row is read by nothing below it.
    givenRow: () => {},
  };
}
