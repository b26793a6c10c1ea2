"""Block windows over a raster grid, with an optional halo for neighbourhood operations."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """A rectangle of pixels: column/row offset and size."""

    col: int
    row: int
    width: int
    height: int

    @property
    def size(self):
        """Number of pixels in the window."""
        return self.width * self.height

    def grow(self, halo, max_width, max_height):
        """Return this window grown by `halo` pixels on each side, clipped to the grid."""
        col = max(self.col - halo, 0)
        row = max(self.row - halo, 0)
        return Window(col, row,
                      min(self.col + self.width + halo, max_width) - col,
                      min(self.row + self.height + halo, max_height) - row)

    def relative_to(self, outer):
        """Return this window's position inside `outer` (which must contain it)."""
        if (self.col < outer.col or self.row < outer.row
                or self.col + self.width > outer.col + outer.width
                or self.row + self.height > outer.row + outer.height):
            raise ValueError(f'{self} is not inside {outer}')
        return Window(self.col - outer.col, self.row - outer.row, self.width, self.height)


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
