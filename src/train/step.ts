/** One optimisation step: mean NLL per dimension over a batch, minimised with the given optimiser. */
import * as tf from '@tensorflow/tfjs-core';
import { meanNllPerDim } from '../model/heads';
import type { PixelModel } from '../model/model';

/**
 * Mean NLL of the batch in nats per dimension: the quantity optimised (its scale does not grow with image size).
 * A class-conditional model is given each image's class: the conditional NLL, −log p(x | class).
 */
export function batchLoss(model: PixelModel, x: tf.Tensor4D, classes?: ArrayLike<number>): tf.Scalar {
  return meanNllPerDim(model.head, model.logits(x, classes), x);
}

/** Take one step; returns the batch's loss (nats per dimension) before the update. */
export async function trainStep(model: PixelModel, optimizer: tf.Optimizer, x: tf.Tensor4D, classes?: ArrayLike<number>): Promise<number> {
  const loss = optimizer.minimize(() => batchLoss(model, x, classes), true, model.params.variables);
  if (!loss) throw new Error('the optimiser returned no loss');
  const value = (await loss.data())[0];
  loss.dispose();
  return value;
}
