/**
 * A checkpoint: the model (configuration + weights), the optimiser's state and the training state, in one binary
 * blob so that it can be written atomically (one file, renamed into place) and sent as one buffer:
 *
 *   "PIXLCKPT" · u32 header length · header JSON · model weights · optimiser weights
 *
 * The header holds the model.json content, the optimiser's weight manifest and the training state.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createOptimizer as createFusedOptimizer } from '../backend/webgpu/optimizers';
import type { PixelModel } from '../model/model';
import { fromModelJson, loadModel, type ModelJson, saveModel, type SavedModel, toModelJson } from '../model/serialize';

export type OptimizerName = 'adam' | 'rmsprop';

export interface TrainState {
  /** Steps completed. */
  readonly step: number;
  /**
   * The best checkpoint so far: the step it was taken at, its test NLL (nats per image), and its validation NLL,
   * which chose it (lowest so far). Without a validation set (data.validationFraction 0) the test NLL chooses, and
   * bestValidationNats is null; checkpoints from before validation sets have no bestValidationNats at all.
   */
  readonly bestTestNats: number | null;
  readonly bestStep: number | null;
  readonly bestValidationNats?: number | null;
}

export interface Checkpoint {
  readonly model: SavedModel;
  readonly optimizer: { readonly name: OptimizerName; readonly learningRate: number; readonly specs: tf.io.WeightsManifestEntry[]; readonly data: ArrayBuffer };
  readonly state: TrainState;
}

const MAGIC = 'PIXLCKPT';

/** The experiment's optimiser: TF.js's Adam or RMSProp (momentum 0.9), each update fused into a few dispatches on WebGPU. */
export function createOptimizer(name: OptimizerName, learningRate: number): tf.Optimizer {
  return createFusedOptimizer(name, learningRate);
}

export async function captureCheckpoint(model: PixelModel, optimizer: tf.Optimizer, name: OptimizerName, learningRate: number, state: TrainState): Promise<Checkpoint> {
  // Optimiser slots are named after TF.js's (instance-prefixed) variable names; keep only the model-local part.
  const weights = (await optimizer.getWeights()).map(({ name: n, tensor }) => ({ name: n.replace(/^pixel-lab-\d+\//, ''), tensor }));
  try {
    const { data, specs } = await tf.io.encodeWeights(weights);
    return { model: await saveModel(model), optimizer: { name, learningRate, specs, data }, state };
  } finally {
    // getWeights makes a fresh tensor for the iteration count beside the optimiser's own slot variables.
    tf.dispose(weights.map((w) => w.tensor).filter((t) => !(t instanceof tf.Variable)));
  }
}

/** The model alone (to show, sample or inspect a run): no optimiser to dispose. */
export function restoreModel(c: Checkpoint): PixelModel {
  return loadModel(c.model);
}

/** The model and an optimiser in the state the checkpoint recorded. */
export async function restoreCheckpoint(c: Checkpoint): Promise<{ model: PixelModel; optimizer: tf.Optimizer }> {
  const model = loadModel(c.model);
  const optimizer = createOptimizer(c.optimizer.name, c.optimizer.learningRate);
  let values: tf.NamedTensorMap = {};
  try {
    values = tf.io.decodeWeights(c.optimizer.data, c.optimizer.specs);
    // The slots are positional (one per variable, in the model's variable order): their names are labels only.
    await optimizer.setWeights(c.optimizer.specs.map((s) => ({ name: s.name, tensor: values[s.name] })));
  } catch (error) {
    model.dispose();
    optimizer.dispose();
    throw error;
  } finally {
    // The optimiser's slots are variables of their own; the decoded tensors are no longer needed.
    tf.dispose(Object.values(values));
  }
  return { model, optimizer };
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({ model: toModelJson(c.model), optimizer: { name: c.optimizer.name, learningRate: c.optimizer.learningRate, specs: c.optimizer.specs }, state: c.state }),
  );
  const out = new Uint8Array(MAGIC.length + 4 + header.length + c.model.weightData.byteLength + c.optimizer.data.byteLength);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(MAGIC.length, header.length, true);
  let at = MAGIC.length + 4;
  out.set(header, at);
  out.set(new Uint8Array(c.model.weightData), (at += header.length));
  out.set(new Uint8Array(c.optimizer.data), at + c.model.weightData.byteLength);
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array, name = 'checkpoint'): Checkpoint {
  if (bytes.length < MAGIC.length + 4 || new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC) {
    throw new Error(`${name} is not a Pixel Lab checkpoint`);
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC.length, true);
  let at = MAGIC.length + 4;
  if (at + headerLength > bytes.length) throw new Error(`${name} is truncated (its header runs past the end)`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(at, (at += headerLength)))) as {
    model: ModelJson;
    optimizer: { name: OptimizerName; learningRate: number; specs: tf.io.WeightsManifestEntry[] };
    state: TrainState;
  };
  const size = (specs: tf.io.WeightsManifestEntry[]) => specs.reduce((n, s) => n + 4 * tf.util.sizeFromShape(s.shape), 0);
  const modelBytes = size(header.model.weightsManifest[0].weights);
  const optimizerBytes = size(header.optimizer.specs);
  if (at + modelBytes + optimizerBytes !== bytes.length) {
    throw new Error(`${name} is truncated or damaged: ${bytes.length} bytes where ${at + modelBytes + optimizerBytes} are expected`);
  }
  // Uint8Array's slice (a copy) also for a Node Buffer, whose own slice is a view into shared memory.
  const copy = (from: number, length: number) => Uint8Array.prototype.slice.call(bytes, from, from + length).buffer as ArrayBuffer;
  return {
    model: fromModelJson(header.model, copy(at, modelBytes)),
    optimizer: { ...header.optimizer, data: copy(at + modelBytes, optimizerBytes) },
    state: header.state,
  };
}
