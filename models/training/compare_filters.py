"""Measure held-out score and inference cost of filter counts and variants (the defaults' why).

Example: python -m models.training.compare_filters --dataset oncloudn --epochs 3 --steps 150
"""

import argparse
import csv
import os

from models.training import report, train
from models.training.config import REPO

CANDIDATES = ('4,8,16', '8,16,32', '16,32,64', '32,64,128')
FIELDS = ('dataset', 'variant', 'filters', 'source', 'accuracy', 'recall', 'precision', 'fscore',
          'onnx_ms_per_10k_patches_1_thread', 'size_bytes', 'train_seconds')


def main(argv=None):
    """Train each candidate with the same seed and budget; append rows to the comparison CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dataset', default='oncloudn')
    parser.add_argument('--candidates', default=';'.join(CANDIDATES))
    parser.add_argument('--epochs', default='3')
    parser.add_argument('--steps', default='150')
    parser.add_argument('--metric-stride', default='4')
    parser.add_argument('--variant', default='leakyrelu')
    parser.add_argument('--csv', default=os.path.join(REPO, 'models', 'training', 'results',
                                                      'filter_comparison.csv'))
    args = parser.parse_args(argv)
    rows, models = [], {}
    for filters in args.candidates.split(';'):
        work = os.path.join(REPO, 'build', 'training', 'compare', args.dataset, args.variant,
                            filters)
        models[filters] = os.path.join(work, 'model.onnx')
        summary = train.main(['--dataset', args.dataset, '--filters', filters,
                              '--variant', args.variant, '--epochs', args.epochs,
                              '--steps', args.steps, '--synthetic', '3',
                              '--heldout-steps', '30', '--metric-stride', args.metric_stride,
                              '--output', os.path.join(work, 'model.onnx'), '--results', work])
        for source, values in summary['heldout_pooled'].items():
            rows.append({'dataset': args.dataset, 'variant': args.variant, 'filters': filters,
                         'source': source,
                         **{k: values[k] for k in ('accuracy', 'recall', 'precision', 'fscore')},
                         **{k: summary[k] for k in FIELDS[-3:]}})
    costs = _interleaved_costs(models)
    for row in rows:
        row['onnx_ms_per_10k_patches_1_thread'] = costs[row['filters']]
    old = []
    if os.path.exists(args.csv):
        with open(args.csv) as handle:
            old = [r for r in csv.DictReader(handle)
                   if (r['dataset'], r.get('variant', 'leakyrelu'), r['filters']) not in
                   {(args.dataset, args.variant, f) for f in models}]
    report.write_csv(args.csv, FIELDS, old + rows)
    return rows


def _interleaved_costs(models, rounds=3):
    # Timings taken during the training runs saw different loads: measure again, interleaved,
    # and keep each model's best.
    costs = {name: [] for name in models}
    for _ in range(rounds):
        for name, path in models.items():
            costs[name].append(report.onnx_cost_ms_per_10k(path))
    return {name: round(min(values), 1) for name, values in costs.items()}


if __name__ == '__main__':
    main()
