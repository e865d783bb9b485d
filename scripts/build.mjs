// Builds the bundles with esbuild:
//   dist/extension.js  the VS Code extension host (CommonJS, `vscode` external, no TF.js)
//   dist/cli.cjs       `pixel-lab`, the headless trainer (Node), also behind `npm run bench`
//   dist/load-worker.js the extension host's image loader thread (src/data/load-off-thread.ts)
//   dist/webview/      the panel (main.js, an ES module; worker.js, which owns TF.js; main.css) and the wasm
//                      backend's binaries
// and copies the experiment schema beside them; the bundled datasets are converted by build-data.mjs.
// The Node bundles take TF.js's ES modules (mainFields module first) so that one copy of tfjs-core — and one
// kernel and gradient registry — serves every backend.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const browser = { bundle: true, platform: 'browser', target: 'chrome114', minify: true, sourcemap: true, logLevel: 'warning', legalComments: 'none' };

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  mainFields: ['module', 'main'],
  sourcemap: true,
  logLevel: 'warning',
  // `import.meta.url` is only read where `require` is missing (ES modules); CommonJS bundles have `require`.
  logOverride: { 'empty-import-meta': 'silent' },
};

await Promise.all([
  build({ ...node, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'], minify: true }),
  // Minified: the extension's package carries the CLI too (train on the host, Export for PyTorch).
  build({ ...node, entryPoints: ['src/cli/bin.ts'], outfile: 'dist/cli.cjs', minify: true, keepNames: true }),
  build({ ...node, entryPoints: ['src/data/load-worker.ts'], outfile: 'dist/load-worker.js', minify: true }),
  build({ ...browser, entryPoints: ['webview/main.ts'], outfile: 'dist/webview/main.js', format: 'esm' }),
  build({ ...browser, entryPoints: ['webview/worker.ts'], outfile: 'dist/webview/worker.js', format: 'iife' }),
]);
const wasm = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
for (const file of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
  copyFileSync(path.join(wasm, file), path.join('dist', 'webview', file));
}
mkdirSync('dist', { recursive: true });
copyFileSync('src/experiment/pixel-experiment.schema.json', 'dist/pixel-experiment.schema.json');
await import('./build-data.mjs');
