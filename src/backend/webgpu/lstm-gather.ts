/**
 * From a scan's record [T, B, S, width] back to the map's own layout [B, H, W, n]: channels first … first + n
 * of every position (the states h out of the forward record; δgates out of the backward one). One dispatch.
 */
import { FlatProgram } from './program';

export class LstmGatherProgram extends FlatProgram {
  shaderKey = 'pixelLabLstmGather';
  variableNames = ['R'];

  /** `mapShape` [B, H, W, n]. */
  constructor(mapShape: number[]) {
    super(mapShape, mapShape.reduce((a, b) => a * b, 1), ['batch', 'span', 'channels', 'width', 'first', 'mapWidth', 'mapSize', 'byRows']);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index >= uniforms.count) { return; }
        let n = uniforms.channels;
        let ch = index % n;
        let at = index / n;                    // b · H · W + position within the map
        let b = at / uniforms.mapSize;
        let y = (at % uniforms.mapSize) / uniforms.mapWidth;
        let x = at % uniforms.mapWidth;
        // The slice t and the place s along it: rows scanned (t = y) or columns (t = x).
        var t = x;
        var s = y;
        if (uniforms.byRows == 1) {
          t = y;
          s = x;
        }
        result[index] = R[((t * uniforms.batch + b) * uniforms.span + s) * uniforms.width + uniforms.first + ch];
      }
    `;
  }
}
