"""Leave-one-scene-out test of the l1c-references recipe on the free references.

Train on one free scene's reference (with its sky variants and synthetic clouds, as
`make train` does), then score the other free scene's whole reference: every free pixel of
classes 2..7. Recipes: the shipped one, and the same without sky variants (atmosphere.py).
This is how the sky variants were chosen: trained on Betsiboka alone, the recipe without them
called most of the 2015 strip's land cloud. No reserved pixel is trained on or scored.
Agreement with our own references, never accuracy against independent ground truth.

Example: python -m models.training.cross_scene --seeds 0,1 --threads 2
"""

import argparse
import os
from dataclasses import replace

import numpy as np
import torch

from models.training import report, sources
from models.training.compare_detectors import FIELDS as AGREEMENT_FIELDS
from models.training.compare_detectors import agreement
from models.training.config import REPO, TrainConfig, default_data_root
from models.training.network import CloudCnn
from models.training.patches import IGNORED, LabelledImage, band_statistics
from models.training.train import fit, predict_image

RESULTS = os.path.join(REPO, 'models', 'training', 'results', 's2cloudcnn-l1c13-references',
                       'cross_scene.csv')
RECIPES = {'with sky variants': {},
           'without sky variants': {'atmospheres': 0, 'illuminations': 0}}
FIELDS = ('recipe', 'seed', 'trained_on', *AGREEMENT_FIELDS)


def train_on(image: LabelledImage, config: TrainConfig) -> CloudCnn:
    """The recipe's network fitted to one referenced scene (all its free rows)."""
    torch.manual_seed(config.seed)
    images = sources.scene_images(image, config, config.seed * 1000)
    model = CloudCnn(*band_statistics(images), variant=config.variant, filters=config.filters)
    fit(model, images, images[:1], config, log=lambda text: None)
    return model


def model_mask(model: CloudCnn, reflectance: np.ndarray, judged: np.ndarray) -> np.ndarray:
    """The network's mask (P >= 0.5) at the `judged` pixels."""
    labels = np.where(judged, 0, IGNORED).astype(np.int8)
    probability, _ = predict_image(model, LabelledImage('scored', reflectance, labels))
    mask = np.zeros(judged.shape, bool)
    mask[judged] = probability >= 0.5  # predict_image goes through them in row-major order
    return mask


def cross_scene(data: str, seeds, base: TrainConfig) -> list:
    """Rows of FIELDS: each recipe and seed trained on each scene, scored on the other."""
    scenes = [(name, reflectance, np.where(reserved_mask, 0, classes), reserved_mask)
              for name, reflectance, classes, reserved_mask
              in sources.reference_scenes(data, base.stacks)]
    rows = []
    for seed in seeds:
        for recipe, changes in RECIPES.items():
            config = replace(base, seed=seed, **changes)
            for trained, scored in ((scenes[0], scenes[1]), (scenes[1], scenes[0])):
                model = train_on(sources.reference_image(*trained), config)
                name, reflectance, classes, _ = scored
                mask = model_mask(model, reflectance, classes >= 2)
                rows.append({'recipe': recipe, 'seed': seed, 'trained_on': trained[0],
                             'scene': name, 'detector': 's2cloudcnn-l1c13 recipe',
                             **agreement(classes, mask, reflectance)})
                print(', '.join(f'{k} {rows[-1][k]:.3f}' if isinstance(rows[-1][k], float)
                                else f'{k} {rows[-1][k]}' for k in FIELDS), flush=True)
    return rows


def main(argv=None) -> list:
    """Run the test and write its CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', default=default_data_root())
    parser.add_argument('--seeds', default='0', help='comma-separated training seeds')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--epochs', type=int, default=TrainConfig.epochs)
    parser.add_argument('--steps', type=int, default=sources.REFERENCES_STEPS)
    parser.add_argument('--csv', default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    base = TrainConfig(epochs=args.epochs, steps=args.steps, heldout_steps=1,
                       threads=args.threads)
    rows = cross_scene(args.data, [int(seed) for seed in args.seeds.split(',')], base)
    report.write_csv(args.csv, FIELDS, rows)
    return rows


if __name__ == '__main__':
    main()
