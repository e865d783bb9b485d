/**
 * WebGPU for the CLI in Node (src/backend/node.ts): Dawn is tried when asked for, `auto` skips a software
 * adapter, and a machine without a Vulkan driver gets a one-line reason and the next backend — never a crash.
 * The cases run in this order in one process, as the CLI would meet them on three different machines.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SWIFTSHADER_ICD, selectNodeBackend } from '../../src/backend/node';

describe('selectNodeBackend', () => {
  it('without a Vulkan driver: webgpu falls back to wasm, saying why in one line', async () => {
    process.env.VK_ICD_FILENAMES = '/nonexistent/no_such_icd.json';
    const choice = await selectNodeBackend('webgpu');
    expect(choice.name).toBe('wasm');
    const reason = choice.fallbacks.find((f) => f.name === 'webgpu')?.reason ?? '';
    expect(reason).toMatch(/no WebGPU adapter/);
    expect(reason).not.toContain('\n');
  });

  it('auto skips a software adapter (SwiftShader), naming it', async () => {
    expect(existsSync(SWIFTSHADER_ICD), 'Debian chromium provides SwiftShader').toBe(true);
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    const choice = await selectNodeBackend('auto');
    expect(choice.name).not.toBe('webgpu');
    expect(choice.fallbacks.find((f) => f.name === 'webgpu')?.reason).toMatch(/software.*SwiftShader/i);
  });

  it('an explicit webgpu runs on the software adapter when it is all there is', async () => {
    const choice = await selectNodeBackend('webgpu');
    expect(choice.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    const sum = tf.add(tf.ones([300]), tf.ones([300]));
    expect(Array.from(await sum.data()).every((v) => v === 2)).toBe(true);
  });
});
