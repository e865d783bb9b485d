"""Sample grids as PNG files, laid out as src/data/grid.ts lays them out (so the panel's grid decoder reads
them): tiles in a square-ish grid, one-pixel mid-grey gaps, pixels enlarged to about 256 pixels across. PNG is
written with zlib alone."""
import math
import struct
import zlib

import numpy as np


def grid_layout(count: int, height: int, width: int, gap: int = 1) -> dict:
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    scale = max(1, 256 // (columns * width))
    return {'columns': columns, 'rows': rows, 'scale': scale, 'gap': gap,
            'width': columns * (width * scale + gap) + gap, 'height': rows * (height * scale + gap) + gap}


def level_bytes(levels: int) -> np.ndarray:
    """The byte each level is drawn as (src/data/encoding.ts levelToByte): 0 and 255 for 2 levels, else the middle
    of the level's quantiser bin (bytes ceil(l*256/L) … ceil((l+1)*256/L) − 1, rounded down), so that a grid read back
    as data keeps its levels (256 levels: the identity)."""
    if levels <= 2:
        return np.array([0, 255], dtype=np.uint8)
    lo = np.array([-(-(l * 256) // levels) for l in range(levels)])
    hi = np.array([-(-((l + 1) * 256) // levels) - 1 for l in range(levels)])
    return ((lo + hi) // 2).astype(np.uint8)


def grid_pixels(images: np.ndarray, levels: int) -> np.ndarray:
    """[count, H, W, C] pixel values → the grid as [height, width, 4] RGBA bytes."""
    count, h, w, c = images.shape
    layout = grid_layout(count, h, w)
    s, gap = layout['scale'], layout['gap']
    rgba = np.full((layout['height'], layout['width'], 4), 128, dtype=np.uint8)
    rgba[..., 3] = 255
    values = level_bytes(levels)[images.astype(np.int64)]
    if c == 1:
        values = np.repeat(values, 3, axis=-1)
    for n in range(count):
        x0 = gap + (n % layout['columns']) * (w * s + gap)
        y0 = gap + (n // layout['columns']) * (h * s + gap)
        rgba[y0:y0 + h * s, x0:x0 + w * s, :3] = values[n].repeat(s, 0).repeat(s, 1)
    return rgba


def encode_png(rgba: np.ndarray) -> bytes:
    height, width, _ = rgba.shape
    raw = b''.join(b'\x00' + rgba[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 6, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(raw, 6)) + chunk(b'IEND', b''))
