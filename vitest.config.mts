import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The extension host's controller runs for real in Node against a stand-in for the VS Code API.
  resolve: { alias: { vscode: fileURLToPath(new URL('./test/support/fake-vscode.ts', import.meta.url)) } },
  test: {
    include: ['test/unit/**/*.test.ts', 'test/webgpu/**/*.test.ts', 'test/browser/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
