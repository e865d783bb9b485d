/** Node-only backend setup: where the wasm binaries are on disk. */
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { installWasmKernels } from './wasm-kernels';

export async function useWasmInNode(): Promise<void> {
  installWasmKernels();
  // CommonJS bundles (the CLI) have `require`; ES modules (the tests) make one.
  const resolve = typeof require === 'function' ? require.resolve : createRequire(import.meta.url).resolve;
  setWasmPaths(path.join(path.dirname(resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to start');
}
