/** The engine's public surface: build a model from its configuration. */
import type { ModelConfig } from './config';
import { DiagonalBiLSTM } from './diagonal-bilstm';
import { GatedPixelCNN } from './gated-pixelcnn';
import type { PixelModel } from './model';
import { PixelCNN } from './pixelcnn';
import { RowLSTM } from './row-lstm';

export function createModel(config: ModelConfig): PixelModel {
  switch (config.type) {
    case 'pixelcnn':
      return new PixelCNN(config);
    case 'row-lstm':
      return new RowLSTM(config);
    case 'diagonal-bilstm':
      return new DiagonalBiLSTM(config);
    case 'gated-pixelcnn':
      return new GatedPixelCNN(config);
    default:
      throw new Error(`unknown model type '${(config as { type: string }).type}'`);
  }
}

export * from './config';
export type { PixelModel } from './model';
export { DepField } from './field';
export { createHead, nllNats, natsToBitsPerDim, type Head } from './heads';
