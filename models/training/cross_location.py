"""Leave-one-location-out test of the On Cloud N recipe, beside the crude blue rule.

For every place of chips.csv, train the s2cloudcnn-rgbn recipe on the other places
(`--split location --heldout-places <place>`), then score the held-out place's chips against
their human labels: the screened chips, and apart from them the screened-out ones (labels that
contradict their image). The rule 'cloud iff B02 > 0.15' is scored on the same pixels. Beware:
the label screen itself uses that rule, so on screened chips it is favoured by construction.

Example: python -m models.training.cross_location --threads 2
"""

import argparse
import csv
import os
import re

import numpy as np

from algorithms.core.evaluation.metrics import Confusion
from models.training import datasets, report, train
from models.training.config import REPO, default_data_root

RESULTS = os.path.join(REPO, 'models', 'training', 'results', 's2cloudcnn-rgbn-cross-location')
MODELS = os.path.join(REPO, 'build', 'training', 'cross_location')
CNN, RULE = 'cnn', 'rule B02 > 0.15'
# Options passed on to train.py when given (a shorter recipe where CPU time is scarce).
RECIPE_OPTIONS = ('epochs', 'steps', 'heldout_steps', 'metric_stride')
FIELDS = ('place', 'part', 'detector', 'chips', *report.METRIC_FIELDS[1:])


def slug(place):
    """A folder name for a place ('South America - Brazil' -> 'south-america-brazil')."""
    return re.sub(r'[^a-z0-9]+', '-', place.lower()).strip('-')


def train_without(place, args):
    """Train the recipe with `place` held out; its records go to RESULTS/<slug>."""
    train.main(['--dataset', 'oncloudn', '--split', 'location', '--heldout-places', place,
                '--label-screen', str(args.label_screen), '--seed', str(args.seed),
                '--threads', str(args.threads),
                '--model-id', f's2cloudcnn-rgbn-without-{slug(place)}',
                # Relative paths: the records name no folder of this machine.
                '--output', os.path.relpath(os.path.join(MODELS, f'{slug(place)}.onnx')),
                '--results', os.path.relpath(os.path.join(args.results, slug(place)))]
               + (['--data', args.data] if args.data else [])
               + [f'--{name.replace("_", "-")}={value}' for name, value in vars(args).items()
                  if name in RECIPE_OPTIONS and value is not None])


def cnn_counts(results, place):
    """Per-chip confusion counts of the fold that held `place` out (its heldout_metrics.csv)."""
    with open(os.path.join(results, slug(place), 'heldout_metrics.csv'), newline='') as handle:
        return {row['image']: Confusion(*(int(row[k]) for k in ('tp', 'tn', 'fp', 'fn')))
                for row in csv.DictReader(handle) if not row['image'].startswith('ALL ')}


def rule_counts(image, stride=1):
    """Confusion counts of the blue rule on the labelled pixels of every `stride`-th row/column.

    Those are the pixels train.py scores with --metric-stride.
    """
    labels = image.labels[::stride, ::stride]
    labelled = labels >= 0
    truth = labels[labelled] == 1
    cloud = datasets.blue_rule_cloud(image)[::stride, ::stride][labelled]
    return Confusion(tp=int(np.sum(truth & cloud)), tn=int(np.sum(~truth & ~cloud)),
                     fp=int(np.sum(~truth & cloud)), fn=int(np.sum(truth & ~cloud)))


def metrics_row(counts, **keys):
    """One output row: `keys` plus the ratios of the summed `counts`."""
    total = Confusion(*(sum(getattr(c, k) for c in counts) for k in ('tp', 'tn', 'fp', 'fn')))
    return {**keys, 'chips': len(counts), 'pixels': total.total,
            'cloud_fraction': (total.tp + total.fn) / total.total, 'accuracy': total.accuracy,
            'recall': total.recall, 'precision': total.precision, 'fscore': total.fscore,
            'tp': total.tp, 'tn': total.tn, 'fp': total.fp, 'fn': total.fn}


def summarise(root, results, label_screen, stride=1):
    """Rows per chip, per place and pooled, for both detectors and both chip parts."""
    places = datasets.read_chip_places(root)
    per_chip, groups = [], {}
    for image in datasets.OnCloudN(root):
        part = ('screened' if datasets.blue_rule_agreement(image) >= label_screen
                else 'screened-out')
        place = places[image.name]
        if not os.path.exists(os.path.join(results, slug(place), 'heldout_metrics.csv')):
            continue  # that place's fold was not trained
        for detector, counts in ((CNN, cnn_counts(results, place)[image.name]),
                                 (RULE, rule_counts(image, stride))):
            per_chip.append(metrics_row([counts], place=place, part=part, detector=detector,
                                        image=image.name))
            for group in (place, 'ALL (pooled)'):
                groups.setdefault((group, part, detector), []).append(counts)
    pooled = [metrics_row(counts, place=place, part=part, detector=detector)
              for (place, part, detector), counts in sorted(groups.items())]
    return per_chip, pooled


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', help='On Cloud N folder (default: the shared data)')
    parser.add_argument('--places', help='comma-separated places to train folds for '
                        '(default: every place); the summary reads every fold present')
    parser.add_argument('--summary-only', action='store_true', help='train nothing')
    parser.add_argument('--label-screen', type=float, default=0.7)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1)
    for name in RECIPE_OPTIONS:
        parser.add_argument(f'--{name.replace("_", "-")}', type=int,
                            help="train.py's option (default: train.py's default)")
    parser.add_argument('--results', default=RESULTS)
    return parser.parse_args(argv)


def main(argv=None):
    """Train the folds asked for, then write per_chip.csv and cross_location.csv."""
    args = parse_args(argv)
    root = args.data or os.path.join(default_data_root(), 'labelled', 'oncloudn')
    places = sorted(set(datasets.read_chip_places(root).values()))
    for place in [] if args.summary_only else (args.places.split(',') if args.places
                                                else places):
        train_without(place, args)
    per_chip, pooled = summarise(root, args.results, args.label_screen,
                                 args.metric_stride or 1)
    report.write_csv(os.path.join(args.results, 'per_chip.csv'), ('image', *FIELDS), per_chip)
    report.write_csv(os.path.join(args.results, 'cross_location.csv'), FIELDS, pooled)
    for row in pooled:
        print(f"{row['place']:24} {row['part']:12} {row['detector']:16} chips {row['chips']:2} "
              f"acc {row['accuracy']:.3f} rec {row['recall']:.3f} prec {row['precision']:.3f} "
              f"F {row['fscore']:.3f}")
    return pooled


if __name__ == '__main__':
    main()
