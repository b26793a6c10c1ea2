"""Training records: learning curves (CSV + PNG like the paper's Fig. 2), per-image metrics."""

import csv
import hashlib
import json
import os
import time

import numpy as np

from algorithms.core.evaluation.metrics import Confusion

CURVE_FIELDS = ('epoch', 'train_loss', 'train_accuracy', 'heldout_loss', 'heldout_accuracy')
METRIC_FIELDS = ('image', 'pixels', 'cloud_fraction', 'accuracy', 'recall', 'precision',
                 'fscore', 'tp', 'tn', 'fp', 'fn')
SUMMARY_KEYS = ('pixels', 'accuracy', 'recall', 'precision', 'fscore')


def confusion_metrics(truth, predicted):
    """Accuracy, recall, precision, F-score (cloud positive) and the counts, as a dict.

    The ratios are the plugin's own (algorithms.core.evaluation.metrics.Confusion), with its
    conventions where a class is absent (e.g. recall 1 on an image without cloud).
    """
    truth, predicted = np.asarray(truth, bool), np.asarray(predicted, bool)
    counts = Confusion(tp=int(np.sum(truth & predicted)), tn=int(np.sum(~truth & ~predicted)),
                       fp=int(np.sum(~truth & predicted)), fn=int(np.sum(truth & ~predicted)))
    total = counts.total
    return {'pixels': total,
            'cloud_fraction': (counts.tp + counts.fn) / total if total else float('nan'),
            'accuracy': counts.accuracy, 'recall': counts.recall,
            'precision': counts.precision, 'fscore': counts.fscore, 'tp': counts.tp,
            'tn': counts.tn, 'fp': counts.fp, 'fn': counts.fn}


def write_csv(path, fields, rows):
    """Write dict rows to CSV (floats with 6 significant digits)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w', newline='') as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction='ignore')
        writer.writeheader()
        for row in rows:
            writer.writerow({k: f'{v:.6g}' if isinstance(v, float) else v for k, v in row.items()})


def plot_curves(path, history, title):
    """Accuracy and loss per epoch, training vs held-out (the paper's Fig. 2 layout)."""
    import matplotlib

    matplotlib.use('Agg')
    from matplotlib import pyplot

    epochs = [row['epoch'] for row in history]
    figure, axes = pyplot.subplots(1, 2, figsize=(10, 4))
    for axis, key in zip(axes, ('accuracy', 'loss')):
        axis.plot(epochs, [row[f'train_{key}'] for row in history], 'o-', label='training')
        axis.plot(epochs, [row[f'heldout_{key}'] for row in history], 's--', label='held-out')
        axis.set_xlabel('epoch')
        axis.set_ylabel(key)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)


def sha256(path):
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def onnx_cost_ms_per_10k(path, repeats=3, threads=1):
    """Median wall time of onnxruntime (CPU, `threads` threads) per 10,000 patches, in ms."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(path, options, providers=['CPUExecutionProvider'])
    bands = session.get_inputs()[0].shape[1]
    patches = np.random.default_rng(0).random((10000, bands, 16, 16), np.float32) * 0.3
    wanted = [session.get_outputs()[0].name]
    session.run(wanted, {'patches': patches[:100]})
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(wanted, {'patches': patches})
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def write_json(path, data):
    """Write a JSON summary (sorted keys, NaN kept as NaN)."""
    with open(path, 'w') as handle:
        json.dump(data, handle, indent=2, sort_keys=True, default=str)
        handle.write('\n')
