"""The paper's patch per pixel: a zero-padded block and the plain one-patch-per-pixel evaluator."""

import numpy as np


def padded_block(block: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Zero no-data pixels and return the block as float32, as the network's patches see it.

    Args:
        block: [bands, rows, cols] reflectance with the patches' context around the output
            pixels (zeros where the image ends).
        valid: [rows, cols] bool, False where any band is no data.

    Returns:
        float32 [bands, rows, cols] with zeros at no-data pixels: the paper pads with zeros, and
        a no-data pixel inside a patch must look like the image border, not like a value.

    """
    return np.where(valid[None], block, np.float32(0)).astype(np.float32, copy=False)


class PlainEvaluator:
    """Evaluate each pixel through the whole model from its own 16 x 16 patch.

    This is the reference: every pixel's patch is cut out of the padded block and the
    complete graph runs on it, exactly as the paper describes.
    """

    def __init__(self, session, metadata):
        self.session = session
        self.metadata = metadata
        self.provider = session.provider
        self._view = None

    def begin_block(self, padded):
        """Take the padded block [bands, h + patch - 1, w + patch - 1] of the next pixels."""
        size = self.metadata.patch_size
        self._view = np.lib.stride_tricks.sliding_window_view(padded, (size, size), axis=(1, 2))

    def patches(self, rows, cols):
        """Return the patches float32 [n, bands, patch, patch] of the block pixels."""
        return np.ascontiguousarray(self._view[:, rows, cols].transpose(1, 0, 2, 3))

    def probabilities(self, rows, cols):
        """Return P(cloud) float32 [n] of the block pixels (rows[k], cols[k])."""
        result = self.session.run(self.metadata.output_name,
                                  {self.metadata.input_name: self.patches(rows, cols)})
        return result.reshape(-1)
