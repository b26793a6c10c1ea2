"""Labelled images and the 16 x 16 patches the network sees (zero border, pixel at row/col 8)."""

from dataclasses import dataclass

import numpy as np

PATCH = 16
PAD = 8
CLOUD, CLEAR, IGNORED = 1, 0, -1


@dataclass
class LabelledImage:
    """One training or held-out image.

    Attributes:
        name: shown in the per-image metrics.
        reflectance: float32 [bands, H, W], unit 1; NaN marks no data.
        labels: int8 [H, W]: 1 cloud, 0 clear, -1 unknown (never used as a target).
        source: what the labels are ('labelled' or 'synthetic'); metrics are pooled per source.

    """

    name: str
    reflectance: np.ndarray
    labels: np.ndarray
    source: str = 'labelled'

    def __post_init__(self):
        if self.reflectance.shape[1:] != self.labels.shape:
            raise ValueError(f'{self.name}: image {self.reflectance.shape[1:]} and labels '
                             f'{self.labels.shape} are not on the same grid')


def zero_bordered(reflectance, pad=PAD):
    """Return float32 [bands, H + 2 pad, W + 2 pad]: no-data pixels and the border set to 0."""
    bands, height, width = reflectance.shape
    out = np.zeros((bands, height + 2 * pad, width + 2 * pad), np.float32)
    out[:, pad:pad + height, pad:pad + width] = np.nan_to_num(reflectance, nan=0.0)
    return out


def row_patches(bordered, row, columns, patch=PATCH):
    """Patches [len(columns), bands, patch, patch] centred on (row, column) of the image.

    The patch of pixel (r, c) covers image rows r - 8 .. r + 7 (row/column 8 of the patch
    is the pixel), the model contract's convention.
    """
    slab = bordered[:, row:row + patch, :]
    windows = np.lib.stride_tricks.sliding_window_view(slab, patch, axis=2)
    return np.ascontiguousarray(windows[:, :, columns, :].transpose(2, 0, 1, 3))


def band_statistics(images):
    """Per-band mean and standard deviation of the valid pixels of `images` (unit 1)."""
    values = np.concatenate([
        image.reflectance.reshape(image.reflectance.shape[0], -1) for image in images], axis=1)
    values = values[:, np.isfinite(values).all(axis=0)]
    std = values.std(axis=1)
    return values.mean(axis=1), np.where(std > 1e-6, std, 1.0)
