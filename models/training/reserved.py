"""Pixels kept for an independent test (shared/data/README.md, reserved/): never a target here.

The Betsiboka checkerboard blocks and the whole T32UPV 2017-04-30 strip are never a seed, a
label, a training or held-out target, or a pixel used to choose a setting. They may still lie
inside the 16 x 16 patch of a target centred outside them.
"""

import os

from osgeo import gdal

BETSIBOKA_RESERVED = ('reserved', 'betsiboka_reserved.tif')  # 1 = reserved, on the scene's grid
RESERVED_PRODUCTS = ('S2A_MSIL1C_20170430T103021_N0205_R108_T32UPV_20170430T103024',)


class ReservedPixelError(ValueError):
    """A training or held-out target lies on a reserved pixel."""


def betsiboka_reserved(data):
    """Bool [H, W] of the Betsiboka scene: True on its reserved blocks."""
    dataset = gdal.Open(os.path.join(data, *BETSIBOKA_RESERVED))
    return dataset.GetRasterBand(1).ReadAsArray() == 1


def is_reserved_product(path):
    """Whether an L1C product (file or folder name) is one of the reserved scenes."""
    return any(name in os.path.basename(os.path.normpath(path)) for name in RESERVED_PRODUCTS)


def without_reserved(labels, reserved):
    """A copy of int8 `labels` with every reserved pixel unlabelled (-1)."""
    out = labels.copy()
    out[reserved] = -1
    return out


def check_not_reserved(images, reserved):
    """Raise ReservedPixelError if any image's labelled pixel is reserved.

    Args:
        images: LabelledImage objects on the grid of `reserved`.
        reserved: bool [H, W], True where a pixel is reserved.

    """
    for image in images:
        hits = int(((image.labels >= 0) & reserved).sum())
        if hits:
            raise ReservedPixelError(f'{image.name}: {hits} target pixels are reserved for the '
                                     'independent test; they must never be trained or '
                                     'validated on')
