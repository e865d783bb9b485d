/**
 * Node-only backend setup: the wasm binaries are read from node_modules, and WebGPU comes from Dawn (npm
 * `webgpu`, its native `dawn.node`), which needs no display — only a Vulkan loader and driver.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { type BackendChoice, type BackendPreference, selectBackend, softwareGpu } from './select';

// CommonJS bundles (the CLI) have `require`; ES modules (the tests) make one.
const nodeRequire: NodeRequire = typeof require === 'function' ? require : createRequire(import.meta.url);

/** The folder of the wasm backend's binaries, ending in a separator. */
export function nodeWasmPaths(): string {
  try {
    return path.join(path.dirname(nodeRequire.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
  } catch {
    // The CLI inside the extension's package (no node_modules there): the binaries the panel uses, beside it.
    return path.join(__dirname, 'webview') + path.sep;
  }
}

/** SwiftShader's Vulkan driver from Debian's chromium package: correct, CPU-emulated, slow. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';


interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

export interface DawnAdapter {
  /** In words: description, vendor, architecture, device. */
  readonly description: string;
  readonly software: boolean;
}

/** Where dawn.node is: PIXEL_LAB_DAWN_NODE, or npm `webgpu`'s build for this platform. */
export function dawnNodePath(): string {
  if (process.env.PIXEL_LAB_DAWN_NODE) return process.env.PIXEL_LAB_DAWN_NODE;
  const root = path.dirname(nodeRequire.resolve('webgpu/package.json'));
  const arch = process.platform === 'darwin' ? 'universal' : process.arch;
  return path.join(root, 'dist', `${process.platform}-${arch}`, 'dawn.node');
}

function loadDawn(): DawnModule {
  const file = dawnNodePath();
  if (!existsSync(file)) throw new Error(`Dawn (npm webgpu) has no build at ${file}`);
  // A computed path: bundlers leave this require to run time.
  return nodeRequire(file) as DawnModule;
}

function describe(adapter: GPUAdapter): DawnAdapter {
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
  const parts = [info?.description, info?.vendor, info?.architecture, info?.device].filter((s) => s);
  const description = parts.join(', ') || 'unnamed WebGPU adapter';
  const fallback = Boolean(info?.isFallbackAdapter || (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter);
  return { description, software: softwareGpu(description, fallback) !== null };
}

let installed: DawnAdapter | null = null;

/**
 * The Vulkan driver manifests (ICD files) the loader would read on Linux, as it finds them: VK_DRIVER_FILES or
 * VK_ICD_FILENAMES when set, else the icd.d folders of the XDG config and data paths. Checked before Dawn is
 * started, so that a machine without a driver gets one clear sentence instead of the loader's warnings.
 */
export function vulkanDriverFiles(): string[] {
  const listed = process.env.VK_DRIVER_FILES || process.env.VK_ICD_FILENAMES;
  if (listed) return listed.split(path.delimiter).filter((f) => f && existsSync(f));
  const home = os.homedir();
  const config = [process.env.XDG_CONFIG_HOME || path.join(home, '.config'), ...(process.env.XDG_CONFIG_DIRS || '/etc/xdg').split(':'), '/etc'];
  const data = [process.env.XDG_DATA_HOME || path.join(home, '.local', 'share'), ...(process.env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':')];
  const folders = [...config, ...data].filter((d) => d).map((d) => path.join(d, 'vulkan', 'icd.d'));
  return folders.flatMap((folder) => {
    try {
      return readdirSync(folder).filter((f) => f.endsWith('.json')).map((f) => path.join(folder, f));
    } catch {
      return [];
    }
  });
}

/**
 * Make WebGPU available to TF.js in Node through Dawn: `navigator.gpu` and Dawn's WebGPU globals, and the
 * webgpu backend registered (TF.js registers it on import only when navigator.gpu already exists).
 *
 *   software 'skip'     a software adapter counts as none (what `auto` wants: it is slower than wasm);
 *   software 'allow'    use it when it is all there is (an explicit --backend webgpu);
 *   software 'fallback' as 'allow', and with no adapter at all try SwiftShader's driver from chromium
 *                       (the benchmark's dispatch counts mean something on any adapter).
 *
 * Returns the adapter, or throws one sentence saying why there is none (no Vulkan loader, no driver, …).
 */
export async function installDawn(software: 'skip' | 'allow' | 'fallback' = 'allow'): Promise<DawnAdapter> {
  if (installed) {
    if (installed.software && software === 'skip') throw new Error(`only a software WebGPU adapter is available (${installed.description})`);
    return installed;
  }
  process.env.XDG_RUNTIME_DIR ??= os.tmpdir();
  if (process.platform === 'linux' && vulkanDriverFiles().length === 0) {
    if (software === 'fallback' && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    else throw new Error(`no WebGPU adapter: no Vulkan driver is installed (no ICD file; VK_ICD_FILENAMES=${SWIFTSHADER_ICD} selects the software one)`);
  }
  let dawn: DawnModule;
  try {
    dawn = loadDawn();
  } catch (error) {
    throw new Error(`Dawn (npm webgpu) could not be loaded: ${(error as Error).message.split('\n')[0]}`);
  }
  let gpu = dawn.create([]);
  let adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter && software === 'fallback' && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    gpu = dawn.create([]);
    adapter = await gpu.requestAdapter();
  }
  if (!adapter) {
    throw new Error(
      'no WebGPU adapter: Dawn found no Vulkan driver (is a Vulkan loader, libvulkan1, and a GPU driver installed? ' +
        `VK_ICD_FILENAMES=${SWIFTSHADER_ICD} selects the software one)`,
    );
  }
  const found = describe(adapter);
  if (found.software && software === 'skip') throw new Error(`only a software WebGPU adapter is available (${found.description})`);
  Object.assign(globalThis, dawn.globals);
  // Dispatches recorded before each queue submit (TF.js's default, 15, is kept unless this says otherwise).
  const batch = Number(process.env.PIXEL_LAB_WEBGPU_SUBMIT_BATCH);
  if (Number.isInteger(batch) && batch > 0) tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', batch);
  // Node ≥ 21 has a navigator of its own (keep it, add gpu); Node 20 has none.
  if (globalThis.navigator) Object.defineProperty(globalThis.navigator, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  await registerWebGPUBackend();
  installed = found;
  return found;
}

/** Register TF.js's webgpu backend as its own package does, when its import came before navigator.gpu. */
async function registerWebGPUBackend(): Promise<void> {
  if (tf.findBackendFactory('webgpu')) return;
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  tf.registerBackend(
    'webgpu',
    async () => {
      const gpu = (globalThis.navigator as Navigator & { gpu: GPU }).gpu;
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (!adapter) throw new Error('the WebGPU adapter went away');
      const limits = adapter.limits;
      const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
      const device = await adapter.requestDevice({
        requiredFeatures,
        requiredLimits: {
          maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
          maxBufferSize: limits.maxBufferSize,
          maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        },
      });
      return new WebGPUBackend(device, (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info as never);
    },
    3,
  );
}

/**
 * Choose a backend in Node. WebGPU is tried through Dawn when asked for (`webgpu`, or `auto`, where a software
 * adapter is skipped): a machine without a Vulkan driver gets the reason in the fallbacks, not a crash.
 */
export async function selectNodeBackend(preference: BackendPreference = 'auto'): Promise<BackendChoice> {
  let dawnFailure: string | null = null;
  if (preference === 'auto' || preference === 'webgpu') {
    try {
      await installDawn(preference === 'auto' ? 'skip' : 'allow');
    } catch (error) {
      dawnFailure = (error as Error).message;
    }
  }
  const choice = await selectBackend(preference, { wasmPaths: nodeWasmPaths() });
  if (!dawnFailure) return choice;
  return { ...choice, fallbacks: choice.fallbacks.map((f) => (f.name === 'webgpu' ? { ...f, reason: dawnFailure } : f)) };
}

export async function useWasmInNode(): Promise<void> {
  const choice = await selectNodeBackend('wasm');
  if (choice.name !== 'wasm') throw new Error(`the wasm backend did not start: ${choice.fallbacks.map((f) => f.reason).join('; ')}`);
}

/** WebGPU through Dawn for the benchmark and the tests: any adapter, SwiftShader when there is no other. */
export async function useWebGPUInNode(): Promise<BackendChoice> {
  const adapter = await installDawn('fallback');
  // No wasm binaries needed (the GPU check carries only the CLI bundle and dawn.node).
  const choice = await selectBackend('webgpu');
  if (choice.name !== 'webgpu') throw new Error(`the webgpu backend did not start on ${adapter.description}: ${choice.fallbacks.map((f) => f.reason).join('; ')}`);
  return choice;
}
