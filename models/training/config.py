"""TrainConfig: everything one training run depends on (the command line is one way to fill it)."""

import os
from dataclasses import dataclass
from typing import Optional

from .network import DEFAULT_FILTERS
from .synthetic import DEFAULT_TYPES

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The real data root: `data/` in this repository (a link to or copy of the shared data,
# not committed), unless S2CLOUDCNN_DATA names another folder.
DATA_ENV = 'S2CLOUDCNN_DATA'
# L1C products stacked at 60 m for training: build output, re-used between runs.
STACKS = os.path.join(REPO, 'build', 'training', 'stacks')


def default_data_root() -> str:
    """The folder holding toa/, l1c/, labelled/ and reserved/ (shared/data/README.md)."""
    return os.environ.get(DATA_ENV) or os.path.join(REPO, 'data')


@dataclass(frozen=True)
class TrainConfig:
    """One training run; every default is the shipped model's recipe.

    Attributes:
        dataset: builder name in sources.BUILDERS.
        data: dataset root (None: the builder's default under default_data_root()).
        image, labels: 'pair' only: the image raster and its class raster.
        cloud_values, clear_values: 'pair' only: label values meaning cloud / clear.
        scale: 'pair' only: stored value -> reflectance.
        heldout: image names to hold out (alcd, oncloudn); empty: the builder's choice.
        split: oncloudn: 'chip' (single chips held out, the shipped recipe) or 'location'
            (whole places of chips.csv held out).
        heldout_places: oncloudn, split 'location': places to hold out; empty: the builder's.
        heldout_fraction: share held out (of labelled pixels or of images).
        label_screen: oncloudn: leave out chips whose labels agree with "blue > 0.15" on less.
        synthetic: synthetic cloud layers per scene (l1c-agreement, l1c-references).
        cloud_types: l1c-references: synthetic cloud types, cycled over the layers.
        atmospheres, illuminations: l1c-references: sky variants per scene (atmosphere.py),
            each also under `synthetic` cloud layers.
        variant, filters: the network (network.CloudCnn).
        epochs, steps, heldout_steps, learning_rate: the fit (steps = batches = image rows
            per epoch; None: the dataset's recipe, Dataset.steps).
        seed, threads: reproducibility (same seed and threads: the same weights).
        model_id, output, results: names and paths written (None: from the dataset).
        metric_stride: evaluate every n-th row and column of held-out images.
        stacks: where L1C products are stacked at 60 m for training.

    """

    dataset: str = 'l1c-references'
    data: Optional[str] = None
    image: Optional[str] = None
    labels: Optional[str] = None
    cloud_values: tuple = (2, 3)
    clear_values: tuple = (4, 5, 6, 7)
    scale: float = 1.0
    heldout: tuple = ()
    split: str = 'chip'
    heldout_places: tuple = ()
    heldout_fraction: float = 0.25
    label_screen: float = 0.7
    variant: str = 'leakyrelu'
    filters: tuple = DEFAULT_FILTERS
    epochs: int = 10
    steps: Optional[int] = None
    heldout_steps: int = 60
    learning_rate: float = 1e-3
    synthetic: int = 6
    cloud_types: tuple = DEFAULT_TYPES
    atmospheres: int = 2
    illuminations: int = 2
    seed: int = 0
    threads: int = 1
    model_id: Optional[str] = None
    output: Optional[str] = None
    results: Optional[str] = None
    metric_stride: int = 1
    stacks: str = STACKS

    def data_root(self, *default: str) -> str:
        """`data` if given, else the path parts `default` under default_data_root()."""
        return self.data or os.path.join(default_data_root(), *default)
