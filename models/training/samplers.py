"""The paper's row sampler: a random image, a random labelled row, every labelled pixel of it."""

import numpy as np

from .patches import row_patches, zero_bordered


class RowSampler:
    """Draw (patches, labels) batches as the paper's Keras generator did.

    Each batch is one row of one image: a random image, then a random row among those
    holding a labelled pixel, then every labelled pixel of that row as a patch centre.
    """

    def __init__(self, images, seed):
        if not images:
            raise ValueError('no image to draw batches from')
        self.images = images
        self.bordered = [zero_bordered(image.reflectance) for image in images]
        self.rows = [np.flatnonzero((image.labels >= 0).any(axis=1)) for image in images]
        if not any(len(rows) for rows in self.rows):
            raise ValueError('no labelled pixel in ' + ', '.join(i.name for i in images))
        self.rng = np.random.default_rng(seed)

    def batch(self):
        """Return (patches float32 [n, bands, 16, 16], labels float32 [n])."""
        while True:
            index = int(self.rng.integers(len(self.images)))
            if len(self.rows[index]):
                break
        row = int(self.rng.choice(self.rows[index]))
        labels = self.images[index].labels[row]
        columns = np.flatnonzero(labels >= 0)
        patches = row_patches(self.bordered[index], row, columns)
        return patches, labels[columns].astype(np.float32)
