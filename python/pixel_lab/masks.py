"""The causal masks of PixelRNN / PixelCNN (van den Oord et al. 2016, §3.4) — a line-for-line twin of
src/model/masks.ts.

The features at each position are split into one group per colour channel (R, G, B; a single group for
one-channel images). A masked kernel connects
  - every position above the centre row, and left of the centre on the centre row, fully;
  - the centre position from input group g to output group g' only if g < g' (mask A) or g <= g' (mask B);
  - nothing right of the centre on the centre row, nothing below it.
Kernels are kept in TF.js's layout [rows, cols, in, out], so a checkpoint maps one to one between the engines.
"""
from dataclasses import dataclass

import torch


def colour_groups(features: int, colours: int, chunks: int = 1) -> torch.Tensor:
    """Colour group of each feature; with `chunks` gate blocks stacked along the features, each block is cut the
    same way so that the gates of one unit share its group."""
    if features % chunks != 0:
        raise ValueError(f'{features} features cannot form {chunks} equal gate blocks')
    per_chunk = features // chunks
    if per_chunk < colours:
        raise ValueError(f'{per_chunk} features cannot be split into {colours} colour groups')
    f = torch.arange(features)
    return ((f % per_chunk) * colours) // per_chunk


@dataclass(frozen=True)
class KernelGeometry:
    """Where a kernel's taps sit: its size and the tap (cy, cx) that reads the output's own position."""
    rows: int
    cols: int
    cy: int
    cx: int
    mask: str  # 'A', 'B' or 'none'


def mask_allows(mask: str, y: int, x: int, cy: int, cx: int, g_in: int, g_out: int) -> bool:
    if mask == 'none' or y < cy:
        return True
    if y > cy:
        return False
    if x < cx:
        return True
    if x > cx:
        return False
    return g_in < g_out if mask == 'A' else g_in <= g_out


def build_mask(g: KernelGeometry, in_groups: torch.Tensor, out_groups: torch.Tensor) -> torch.Tensor:
    """The 0/1 mask of a kernel, [rows, cols, in, out]."""
    m = torch.zeros(g.rows, g.cols, len(in_groups), len(out_groups))
    centre = (in_groups[:, None] < out_groups[None, :]) if g.mask == 'A' else (in_groups[:, None] <= out_groups[None, :])
    for y in range(g.rows):
        for x in range(g.cols):
            if g.mask == 'none' or y < g.cy or (y == g.cy and x < g.cx):
                m[y, x] = 1
            elif y == g.cy and x == g.cx:
                m[y, x] = centre.float()
    return m


def causal_geometry(kh: int, kw: int, mask: str) -> KernelGeometry:
    """A kh × kw masked kernel as stored: the taps below the centre row and right of the centre (zero under every
    causal mask) are left out, so a 3×3 mask-B kernel is 2×3, a 7×7 mask-A one 4×7 and a 1×3 one 1×2."""
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f'a masked kernel needs odd sizes, got {kh}×{kw}')
    cy, cx = (kh - 1) // 2, (kw - 1) // 2
    if mask == 'none':
        return KernelGeometry(kh, kw, cy, cx, mask)
    return KernelGeometry(1, cx + 1, cy, cx, mask) if cy == 0 else KernelGeometry(cy + 1, kw, cy, cx, mask)


def same_padding(g: KernelGeometry) -> tuple:
    """(top, bottom, left, right) zero padding that keeps the output the size of the input."""
    return g.cy, g.rows - 1 - g.cy, g.cx, g.cols - 1 - g.cx
