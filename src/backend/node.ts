/** Node-only backend setup: the wasm binaries are read from node_modules. */
import { createRequire } from 'node:module';
import path from 'node:path';
import { type BackendChoice, type BackendPreference, selectBackend } from './select';

/** The folder of the wasm backend's binaries, ending in a separator. */
export function nodeWasmPaths(): string {
  // CommonJS bundles (the CLI) have `require`; ES modules (the tests) make one.
  const resolve = typeof require === 'function' ? require.resolve : createRequire(import.meta.url).resolve;
  try {
    return path.join(path.dirname(resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
  } catch {
    // The CLI inside the extension's package (no node_modules there): the binaries the panel uses, beside it.
    return path.join(__dirname, 'webview') + path.sep;
  }
}

/** Choose a backend in Node (WebGPU and WebGL are not available here unless provided, so normally wasm). */
export function selectNodeBackend(preference: BackendPreference = 'auto'): Promise<BackendChoice> {
  return selectBackend(preference, { wasmPaths: nodeWasmPaths() });
}

export async function useWasmInNode(): Promise<void> {
  const choice = await selectNodeBackend('wasm');
  if (choice.name !== 'wasm') throw new Error(`the wasm backend did not start: ${choice.fallbacks.map((f) => f.reason).join('; ')}`);
}
