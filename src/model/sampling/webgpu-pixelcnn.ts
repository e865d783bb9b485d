/**
 * PixelCNN laid out for cached sampling on WebGPU: every map of the network kept whole in the workspace, one
 * dispatch a layer for a new pixel (src/backend/webgpu/sample-pixelcnn-step.ts): the input convolution, then one
 * per residual block (or plain layer). Every convolution's taps on the rows above read the maps as they are:
 * nothing is recomputed per row.
 */
import { type PixelCNNStep, PixelCNNStepProgram } from '../../backend/webgpu/sample-pixelcnn-step';
import { type Grid, ints, type MapRef } from '../../backend/webgpu/sample-program';
import { layerFeatures } from '../config';
import { type PixelCNN, ResidualBlock } from '../pixelcnn';
import { type Dispatch, headShape, type WebGPUNetwork, type WeightPack, WorkspaceLayout } from './webgpu-layout';

export function pixelCNNNetwork(model: PixelCNN, grid: Grid, pack: WeightPack): WebGPUNetwork & { maps: MapRef[] } {
  const layout = new WorkspaceLayout(grid);
  const { channels } = model.config.image;
  const features = layerFeatures(model.config);
  const residual = model.config.residual;
  const image = layout.map(channels);
  // h⁰ … hᴸ, and each block's a (the input of its k×k convolution).
  const hs = Array.from({ length: model.layers.length + 1 }, () => layout.map(features));
  const as = residual ? model.layers.map(() => layout.map(model.config.hidden)) : [];
  const downs = model.layers.map((layer) => (layer instanceof ResidualBlock ? pack.add(layer.down) : null));
  const nextOf = (l: number) => (l < model.layers.length && downs[l] ? { down: downs[l]!, a: as[l] } : null);
  const steps: PixelCNNStep[] = [{ kind: 'input', conv: pack.add(model.input), input: image, out: hs[0], relu: !residual, next: nextOf(0) }];
  model.layers.forEach((layer, l) => {
    const conv = pack.add(layer.conv);
    steps.push(
      layer instanceof ResidualBlock
        ? { kind: 'block', conv, input: as[l], up: pack.add(layer.up), h: hs[l], out: hs[l + 1], next: nextOf(l + 1) }
        : { kind: 'plain', conv, input: hs[l], out: hs[l + 1] },
    );
  });
  const head = headShape(layout, pack, model.output, model.head, hs[hs.length - 1], image);
  const columns = (i: number, j0: number, count: number, run: Dispatch) => {
    const positions = count * grid.count;
    for (const step of steps) run(new PixelCNNStepProgram(layout.size, positions, grid, step), ints(i, j0, positions));
  };
  return {
    layout,
    image,
    head,
    maps: [...hs, ...as],
    beginRow: () => {},
    columns,
    givenRow: (i, run) => columns(i, 0, grid.width, run),
  };
}
