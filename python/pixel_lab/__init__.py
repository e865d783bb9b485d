"""Pixel Lab's PyTorch twin: the four models of the TS engine with the same masks, layers and parameter names,
safetensors in and out, and a torchrun trainer that writes Pixel Lab run folders."""
from .diagonal_bilstm import DiagonalBiLSTM
from .gated_pixelcnn import GatedPixelCNN
from .heads import nats_to_bits_per_dim
from .model import PixelModel, torch_key, ts_name
from .pixelcnn import PixelCNN
from .row_lstm import RowLSTM

MODELS = {'pixelcnn': PixelCNN, 'row-lstm': RowLSTM, 'diagonal-bilstm': DiagonalBiLSTM, 'gated-pixelcnn': GatedPixelCNN}


def create_model(config: dict) -> PixelModel:
    if config['type'] not in MODELS:
        raise ValueError(f"unknown model type '{config['type']}' (one of {', '.join(MODELS)})")
    return MODELS[config['type']](config)
