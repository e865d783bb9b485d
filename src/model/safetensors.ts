/**
 * Weights as safetensors, the format PyTorch and Hugging Face tools read (https://huggingface.co/docs/safetensors):
 *
 *   u64 little-endian header length N · N bytes of JSON · the tensors' raw little-endian bytes, back to back
 *
 * The JSON maps each tensor's name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets from the end of
 * the header) and "__metadata__" to a string → string map. A Pixel Lab model keeps every parameter under its
 * engine name (`block0/conv/kernel`, kernels [rows, cols, in, out]) and its configuration in the metadata, so
 * the PyTorch twin (python/pixel_lab) loads it one to one and writes the same layout back. Pure data, no I/O.
 */
import * as tf from '@tensorflow/tfjs-core';
import { configProblems, type ModelConfig, MODEL_TYPES } from './config';
import { createModel } from './index';
import type { PixelModel } from './model';
import type { SavedModel } from './serialize';

export const SAFETENSORS_MODEL_FORMAT = 'pixel-lab-model';
export const SAFETENSORS_MODEL_VERSION = '1';

export type SafeDType = 'F32' | 'I32' | 'U8';
type SafeArray = Float32Array | Int32Array | Uint8Array;

export interface SafeTensor {
  readonly dtype: SafeDType;
  readonly shape: readonly number[];
  readonly data: SafeArray;
}

const ARRAYS = { F32: Float32Array, I32: Int32Array, U8: Uint8Array } as const;

function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('safetensors needs a little-endian machine');
}

export function encodeSafetensors(tensors: ReadonlyMap<string, SafeTensor>, metadata: Record<string, string> = {}): Uint8Array {
  assertLittleEndian();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let at = 0;
  for (const [name, t] of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== size) throw new Error(`tensor ${name}: shape [${t.shape}] needs ${size} values, got ${t.data.length}`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + t.data.byteLength] };
    at += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned.
  json += ' '.repeat((8 - (new TextEncoder().encode(json).length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let offset = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), offset);
    offset += t.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, name = 'safetensors data'): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  assertLittleEndian();
  if (bytes.length < 8) throw new Error(`${name} is too short to be safetensors (${bytes.length} bytes)`);
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + length > bytes.length) throw new Error(`${name} is truncated: its header says ${length} bytes, the file holds ${bytes.length - 8}`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  } catch (error) {
    throw new Error(`${name} has an unreadable header: ${(error as Error).message}`);
  }
  const metadata = (header.__metadata__ ?? {}) as unknown as Record<string, string>;
  delete header.__metadata__;
  const body = bytes.subarray(8 + length);
  const tensors = new Map<string, SafeTensor>();
  for (const [key, spec] of Object.entries(header)) {
    const Typed = ARRAYS[spec.dtype as SafeDType];
    if (!Typed) throw new Error(`${name}: tensor ${key} has dtype ${spec.dtype}; Pixel Lab reads ${Object.keys(ARRAYS).join(', ')}`);
    const [begin, end] = spec.data_offsets;
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (end > body.length || end - begin !== size * Typed.BYTES_PER_ELEMENT) {
      throw new Error(`${name}: tensor ${key} (${spec.dtype} [${spec.shape}]) does not fit bytes ${begin}–${end} of ${body.length}`);
    }
    // A copy: the tensor may not be aligned for its type inside the file.
    tensors.set(key, { dtype: spec.dtype as SafeDType, shape: spec.shape, data: new Typed(body.slice(begin, end).buffer) });
  }
  return { tensors, metadata };
}

/** A saved model (a checkpoint's configuration and TF.js weights) as safetensors, without building the model. */
export function savedModelToSafetensors(saved: SavedModel): Uint8Array {
  const tensors = new Map<string, SafeTensor>();
  let at = 0;
  for (const spec of saved.weightSpecs) {
    if (spec.dtype !== 'float32') throw new Error(`weight ${spec.name} is ${spec.dtype}; Pixel Lab models hold float32`);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (at + 4 * size > saved.weightData.byteLength) throw new Error(`the weights end before ${spec.name}: the model is truncated`);
    tensors.set(spec.name, { dtype: 'F32', shape: spec.shape, data: new Float32Array(saved.weightData.slice(at, at + 4 * size)) });
    at += 4 * size;
  }
  return encodeSafetensors(tensors, modelMetadata(saved.config));
}

function modelMetadata(config: ModelConfig): Record<string, string> {
  return { format: SAFETENSORS_MODEL_FORMAT, formatVersion: SAFETENSORS_MODEL_VERSION, config: JSON.stringify(config) };
}

/** A model's configuration and weights as one safetensors file. */
export async function saveSafetensorsModel(model: PixelModel): Promise<Uint8Array> {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, v] of model.params.named()) tensors.set(name, { dtype: 'F32', shape: v.shape, data: (await v.data()) as Float32Array });
  return encodeSafetensors(tensors, modelMetadata(model.config));
}

/**
 * A model from a safetensors file written by `saveSafetensorsModel` or by the PyTorch twin — a model file or a
 * twin training checkpoint (whose optimiser slots, under `optimizer/…`, are left out here).
 */
export function loadSafetensorsModel(bytes: Uint8Array, name = 'the safetensors file'): PixelModel {
  const { tensors, metadata } = decodeSafetensors(bytes, name);
  if (metadata.format !== SAFETENSORS_MODEL_FORMAT || typeof metadata.config !== 'string') {
    throw new Error(`${name} is not a Pixel Lab model (its metadata needs "format": "${SAFETENSORS_MODEL_FORMAT}" and "config")`);
  }
  if (metadata.formatVersion !== SAFETENSORS_MODEL_VERSION) throw new Error(`${name}: model format version ${metadata.formatVersion} is not supported (this version reads ${SAFETENSORS_MODEL_VERSION})`);
  const config = JSON.parse(metadata.config) as ModelConfig;
  if (!MODEL_TYPES.includes(config.type)) throw new Error(`${name}: config.type must be one of ${MODEL_TYPES.join(', ')}, got ${config.type}`);
  const problems = configProblems(config);
  if (problems.length) throw new Error(`${name}: its model config is invalid: ${problems.join('; ')}`);
  const model = createModel(config);
  const values = new Map<string, tf.Tensor>();
  try {
    for (const [key, t] of tensors) {
      if (key.startsWith('optimizer/')) continue;
      if (t.dtype !== 'F32') throw new Error(`${name}: weight ${key} is ${t.dtype}, Pixel Lab models hold F32`);
      values.set(key, tf.tensor(t.data as Float32Array, [...t.shape], 'float32'));
    }
    model.params.assign(values);
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    tf.dispose([...values.values()]);
  }
  return model;
}
