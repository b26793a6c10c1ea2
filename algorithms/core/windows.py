"""Block windows over a raster grid."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """A rectangle of pixels: column/row offset and size."""

    col: int
    row: int
    width: int
    height: int


def iter_windows(width, height, block_width=512, block_height=512):
    """Yield windows tiling a width x height grid row by row, edge blocks clipped.

    Raises:
        ValueError: if a size is not positive.
    """
    if min(width, height, block_width, block_height) <= 0:
        raise ValueError('grid and block sizes must be positive')
    for row in range(0, height, block_height):
        for col in range(0, width, block_width):
            yield Window(col, row, min(block_width, width - col), min(block_height, height - row))
