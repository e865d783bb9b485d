/**
 * The panel's HTML and its content security policy: scripts only with the page's nonce, WebAssembly compilation
 * ('wasm-unsafe-eval', for the wasm backend), workers only from blob: URLs, everything else only from the
 * extension's own resources. No 'unsafe-inline', no 'unsafe-eval'. Pure, so the browser tests serve the same page.
 */
import { randomBytes } from 'node:crypto';

export interface PanelPage {
  /** The webview's resource origin (webview.cspSource). */
  readonly cspSource: string;
  readonly nonce: string;
  readonly scriptUri: string;
  readonly workerUri: string;
  /** Where the wasm binaries are, ending in '/'. */
  readonly wasmPaths: string;
  readonly styleUris: readonly string[];
  /** Scripts to run before the panel (the browser tests' stand-in for VS Code's API). */
  readonly preludeUris?: readonly string[];
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} blob: data:`,
    // The toolkit (FAST) probes for :focus-visible with a <style> element carrying the page's nonce.
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}' 'wasm-unsafe-eval'`,
    'worker-src blob:',
    // blob: for the wasm binaries the page fetches and hands to its worker as blob: URLs.
    `connect-src ${cspSource} blob:`,
  ].join('; ');
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function panelHtml(p: PanelPage): string {
  const scripts = [...(p.preludeUris ?? []), p.scriptUri];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escape(contentSecurityPolicy(p.cspSource, p.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta property="csp-nonce" content="${p.nonce}">
${p.styleUris.map((u) => `<link rel="stylesheet" href="${escape(u)}">`).join('\n')}
<title>Pixel Lab</title>
</head>
<body data-worker-src="${escape(p.workerUri)}" data-wasm-paths="${escape(p.wasmPaths)}">
<div id="app"></div>
${scripts.map((u, k) => `<script nonce="${p.nonce}" ${k === scripts.length - 1 ? 'type="module" ' : ''}src="${escape(u)}"></script>`).join('\n')}
</body>
</html>`;
}

/** A fresh nonce for each page, from a cryptographic source (128 bits, base64url). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64url');
}
