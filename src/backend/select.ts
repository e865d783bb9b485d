/**
 * Choosing where the models run: WebGPU → WebGL → WASM → CPU, or the one asked for. The choice is reported with
 * the adapter it runs on and, for every backend tried before it, why that one could not be used — the panel and
 * the CLI say this plainly instead of silently running 50× slower.
 *
 * Rule kept everywhere in the engine: never `dataSync()` (on WebGPU it can return zeros and lose the device);
 * read tensors with `await tensor.data()`.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { BACKEND_ORDER, type BackendName, type BackendPreference } from '../experiment/types';
import { installWasmKernels } from './wasm-kernels';

export { BACKEND_ORDER, type BackendName, type BackendPreference };

export interface BackendChoice {
  readonly name: BackendName;
  /** What it runs on, in words: the GPU adapter, the WebGL renderer, or wasm's SIMD and threads. */
  readonly adapter: string;
  /** The backends tried first, and why each could not be used. */
  readonly fallbacks: readonly { readonly name: BackendName; readonly reason: string }[];
}

/**
 * Where the wasm binaries are: a URL or folder ending in '/', or one URL per binary (the panel's worker gets
 * blob: URLs from its page, because a worker cannot fetch a VS Code webview's resource URLs itself).
 */
export type WasmPaths = string | Readonly<Record<'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm', string>>;

export interface SelectOptions {
  /** Where the wasm binaries are; needed for 'wasm'. */
  readonly wasmPaths?: WasmPaths;
}

/** Names of GPU drivers that are CPU emulations: correct, but far slower than wasm for these models. */
const SOFTWARE_GPU = /swiftshader|llvmpipe|lavapipe|softpipe|basic render|software rasterizer|software adapter/i;

/** What the software GPU is called ("SwiftShader", "llvmpipe", …), or null for a real GPU. */
export function softwareGpu(description: string, isFallbackAdapter = false): string | null {
  const named = SOFTWARE_GPU.exec(description)?.[0];
  if (named) return /swiftshader/i.test(named) ? 'SwiftShader' : named;
  return isFallbackAdapter ? 'a software fallback adapter' : null;
}

const skippedSoftware = (what: string, software: string, name: BackendName) =>
  `its ${what} is ${software}, a CPU emulation of a GPU, about 30× slower than wasm for these models ("backend": "${name}" uses it anyway)`;

/** Try the backends in order (from the preferred one on, when one is named) and switch TF.js to the first that works. */
export async function selectBackend(preference: BackendPreference = 'auto', options: SelectOptions = {}): Promise<BackendChoice> {
  installWasmKernels();
  if (options.wasmPaths) setWasmPaths(options.wasmPaths);
  if (preference !== 'auto' && !BACKEND_ORDER.includes(preference)) {
    throw new Error(`unknown backend '${preference}' (one of ${BACKEND_ORDER.join(', ')}, or auto)`);
  }
  const order = preference === 'auto' ? BACKEND_ORDER : BACKEND_ORDER.slice(BACKEND_ORDER.indexOf(preference));
  const fallbacks: { name: BackendName; reason: string }[] = [];
  for (const name of order) {
    const reason = await unavailableBecause(name, preference === 'auto');
    if (reason) {
      fallbacks.push({ name, reason });
      continue;
    }
    const failure = await switchTo(name);
    if (failure) {
      fallbacks.push({ name, reason: failure });
      continue;
    }
    return { name, adapter: await describeAdapter(name), fallbacks };
  }
  throw new Error(`no TF.js backend could start: ${fallbacks.map((f) => `${f.name}: ${f.reason}`).join('; ')}`);
}

/**
 * A sentence on why a backend cannot run here (or, choosing automatically, should not: a software GPU), found
 * before trying it; null when it may.
 */
async function unavailableBecause(name: BackendName, auto: boolean): Promise<string | null> {
  if (name === 'webgpu') {
    const gpu = (globalThis.navigator as (Navigator & { gpu?: GPU }) | undefined)?.gpu;
    if (!gpu) return `this environment has no WebGPU (navigator.gpu is missing)${webgpuHint()}`;
    try {
      const adapter = await gpu.requestAdapter();
      if (!adapter) return `no WebGPU adapter is available (WebGPU is disabled or the GPU is blocklisted)${webgpuHint()}`;
      const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
      const text = [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' ');
      const software = softwareGpu(text, Boolean((adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter || info?.isFallbackAdapter));
      return auto && software ? skippedSoftware('adapter', software, 'webgpu') : null;
    } catch (error) {
      return `requesting a WebGPU adapter failed: ${(error as Error).message}`;
    }
  }
  if (name === 'webgl') {
    if (typeof OffscreenCanvas === 'undefined' && typeof document === 'undefined') return 'this environment has no canvas, so no WebGL';
    if (!auto) return null;
    const renderer = webglRenderer();
    if (renderer === null) return 'no WebGL 2 context could be created here';
    const software = softwareGpu(renderer);
    return software ? skippedSoftware('renderer', software, 'webgl') : null;
  }
  return null;
}

/** How to get WebGPU where it is missing, in the words of what was verified (README, "WebGPU", says more). */
function webgpuHint(): string {
  const agent = (globalThis.navigator as Navigator | undefined)?.userAgent ?? '';
  if (/Linux/.test(agent) && /Electron/.test(agent)) return '; VS Code keeps WebGPU off on Linux: see "WebGPU on Linux" in the Pixel Lab README for the launch flags to try';
  if (/Linux/.test(agent)) return '; on Linux, Chromium browsers need --enable-unsafe-webgpu (and Vulkan) for WebGPU';
  if (typeof process !== 'undefined' && process.versions?.node) return '; in Node, WebGPU needs the npm package "webgpu" (Dawn) and a Vulkan driver';
  return '';
}

/** The WebGL renderer string (e.g. "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device …))"), from a throwaway context. */
function webglRenderer(): string | null {
  try {
    const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
    const gl = canvas.getContext('webgl2') as WebGL2RenderingContext | null;
    if (!gl) return null;
    const debug = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(debug ? gl.getParameter(debug.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return renderer;
  } catch {
    return null;
  }
}

/** Switch TF.js to a backend; the reason it failed, or null. */
async function switchTo(name: BackendName): Promise<string | null> {
  // TF.js reports a failed initialisation through console.warn and answers false; keep what it said.
  const said: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void said.push(args.map(String).join(' '));
  try {
    const ok = await tf.setBackend(name);
    if (!ok) return said.filter((s) => !s.startsWith('Initialization of backend')).join(' ').split('\n')[0] || 'the backend failed to initialise';
    await tf.ready();
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    console.warn = warn;
  }
}

async function describeAdapter(name: BackendName): Promise<string> {
  if (name === 'webgpu') {
    const backend = tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean } };
    const info = backend.adapterInfo;
    const parts = [info?.description, info?.vendor, info?.architecture, info?.device].filter((s) => s);
    const gpu = (globalThis.navigator as Navigator & { gpu?: GPU }).gpu;
    const adapter = await gpu?.requestAdapter();
    const fallback = (adapter as { isFallbackAdapter?: boolean } | null)?.isFallbackAdapter || (adapter as { info?: { isFallbackAdapter?: boolean } } | null)?.info?.isFallbackAdapter;
    return `${parts.join(' ') || 'WebGPU adapter'}${fallback ? ' (software fallback adapter)' : ''}`;
  }
  if (name === 'webgl') {
    const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl;
    const debug = gl?.getExtension('WEBGL_debug_renderer_info');
    const renderer = gl && debug ? gl.getParameter(debug.UNMASKED_RENDERER_WEBGL) : gl?.getParameter(gl.RENDERER);
    return `WebGL ${tf.env().getNumber('WEBGL_VERSION')}${renderer ? `, ${renderer}` : ''}`;
  }
  if (name === 'wasm') {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    return `WebAssembly${simd ? ' with SIMD' : ' without SIMD'}, ${threads ? 'multi-threaded' : 'one thread'}`;
  }
  return 'plain JavaScript on the CPU (slowest)';
}
