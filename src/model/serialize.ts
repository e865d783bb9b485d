/**
 * Saving and loading a model: its architecture (ModelConfig) and its weights in TF.js's weights format — a
 * manifest of {name, shape, dtype} entries plus one binary blob — so the weights also load with tf.io tools.
 * Pure data: the run folder (Node) and the webview (postMessage, binary) each store or send these pieces.
 */
import * as tf from '@tensorflow/tfjs-core';
import { configProblems, type ModelConfig, MODEL_TYPES } from './config';
import { createModel } from './index';
import type { PixelModel } from './model';

export const MODEL_FORMAT = 'pixel-lab-model';
export const MODEL_FORMAT_VERSION = 1;
export const WEIGHTS_FILE = 'weights.bin';

export interface SavedModel {
  readonly config: ModelConfig;
  readonly weightSpecs: tf.io.WeightsManifestEntry[];
  readonly weightData: ArrayBuffer;
}

/** The contents of model.json beside weights.bin. */
export interface ModelJson {
  readonly format: typeof MODEL_FORMAT;
  readonly formatVersion: number;
  readonly config: ModelConfig;
  readonly weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

export async function saveModel(model: PixelModel): Promise<SavedModel> {
  const named = model.params.named().map(([name, tensor]) => ({ name, tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  return { config: model.config, weightSpecs: specs, weightData: data };
}

export function loadModel(saved: SavedModel): PixelModel {
  const expected = saved.weightSpecs.reduce((n, s) => n + tf.util.sizeFromShape(s.shape) * bytesPerValue(s.dtype), 0);
  if (saved.weightData.byteLength !== expected) {
    throw new Error(`the weights hold ${saved.weightData.byteLength} bytes, their manifest describes ${expected}: the file is truncated or does not belong to this model`);
  }
  const model = createModel(saved.config);
  const values = tf.io.decodeWeights(saved.weightData, saved.weightSpecs);
  try {
    model.params.assign(new Map(Object.entries(values)));
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    tf.dispose(Object.values(values));
  }
  return model;
}

export function toModelJson(saved: SavedModel): ModelJson {
  return {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    config: saved.config,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: saved.weightSpecs }],
  };
}

/** Check model.json's contents and pair them with the weights; every problem is named. */
export function fromModelJson(json: unknown, weightData: ArrayBuffer): SavedModel {
  const j = json as Partial<ModelJson> | null;
  if (!j || typeof j !== 'object' || j.format !== MODEL_FORMAT) throw new Error(`not a Pixel Lab model (expected "format": "${MODEL_FORMAT}")`);
  if (j.formatVersion !== MODEL_FORMAT_VERSION) throw new Error(`model format version ${j.formatVersion} is not supported (this version reads ${MODEL_FORMAT_VERSION})`);
  const config = j.config as ModelConfig | undefined;
  if (!config || !MODEL_TYPES.includes(config.type)) throw new Error(`model.json has no valid "config.type" (one of ${MODEL_TYPES.join(', ')})`);
  const problems = configProblems(config);
  if (problems.length) throw new Error(`model.json config is invalid: ${problems.join('; ')}`);
  const manifest = j.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length !== 1 || !Array.isArray(manifest[0].weights)) {
    throw new Error('model.json needs a "weightsManifest" with one group of weights');
  }
  return { config, weightSpecs: manifest[0].weights, weightData };
}

function bytesPerValue(dtype: string): number {
  if (dtype === 'float32' || dtype === 'int32') return 4;
  if (dtype === 'bool') return 1;
  throw new Error(`unsupported weight type ${dtype}`);
}
