/** WebGPU for the tests: Dawn (npm `webgpu`) on SwiftShader's Vulkan driver from Debian's chromium package. */
import { existsSync } from 'node:fs';
import { SWIFTSHADER_ICD, useWebGPUInNode } from '../../src/backend/node';
import type { BackendChoice } from '../../src/backend/select';

export async function useDawn(): Promise<BackendChoice> {
  if (!existsSync(SWIFTSHADER_ICD)) throw new Error(`${SWIFTSHADER_ICD} is missing: install Debian's chromium package (SwiftShader's Vulkan driver)`);
  process.env.VK_ICD_FILENAMES ??= SWIFTSHADER_ICD;
  return useWebGPUInNode();
}

/** max |a − b| / max |b|: the relative error of a against the reference b. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} and ${b.length}`);
  let diff = 0;
  let scale = 1e-6;
  for (let k = 0; k < a.length; k++) {
    diff = Math.max(diff, Math.abs(a[k] - b[k]));
    scale = Math.max(scale, Math.abs(b[k]));
  }
  return diff / scale;
}
