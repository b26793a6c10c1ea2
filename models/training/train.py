"""Train, evaluate and export one S2 Cloud CNN model (what `make train` runs).

Example: python -m models.training.train --dataset oncloudn --epochs 2 --steps 50
"""

import argparse
import os
import sys
import time

import numpy as np
import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from algorithms.core.detection.contract import VARIANTS, ModelMetadata  # noqa: E402
from models.training import report, sources  # noqa: E402
from models.training.export import check_export, export_onnx  # noqa: E402
from models.training.generator import RowGenerator, band_statistics, row_patches, zero_bordered  # noqa: E402
from models.training.network import DEFAULT_FILTERS, CloudCnn  # noqa: E402

VERSION = '1.0.0'
THRESHOLD = 0.5


def parse_args(argv=None):
    """Command-line options; every default is the shipped model's recipe."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dataset', choices=sorted(sources.DATASETS), default='l1c-references')
    parser.add_argument('--data', help='dataset folder (default: the shared data of this repo)')
    parser.add_argument('--image', help='--dataset pair: image raster (band descriptions)')
    parser.add_argument('--labels', help='--dataset pair: label raster')
    parser.add_argument('--cloud-values', default='2,3', help='pair: label values = cloud')
    parser.add_argument('--clear-values', default='4,5,6,7', help='pair: values = clear')
    parser.add_argument('--scale', type=float, default=1.0, help='pair: value -> reflectance')
    parser.add_argument('--heldout', default='', help='comma-separated image names to hold '
                        'out (alcd, oncloudn); default: a seeded choice')
    parser.add_argument('--heldout-fraction', type=float, default=0.25)
    parser.add_argument('--label-screen', type=float, default=0.7, help='oncloudn: leave '
                        'out chips whose labels agree with "blue > 0.15" on less than this')
    parser.add_argument('--variant', choices=VARIANTS, default='leakyrelu')
    parser.add_argument('--filters', default=','.join(map(str, DEFAULT_FILTERS)))
    parser.add_argument('--epochs', type=int, default=10)
    parser.add_argument('--steps', type=int, default=300, help='batches (image rows) per epoch')
    parser.add_argument('--heldout-steps', type=int, default=60)
    parser.add_argument('--learning-rate', type=float, default=1e-3)
    parser.add_argument('--synthetic', type=int, default=6, help='l1c-agreement: synthetic '
                        'cloud layers per scene')
    parser.add_argument('--cloud-types', default=sources.CLOUD_TYPES, help='l1c-references: '
                        'synthetic cloud types, cycled over the layers')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--model-id', help='default: from the dataset')
    parser.add_argument('--output', help='ONNX path (default: models/<model-id>.onnx)')
    parser.add_argument('--results', help='records folder (default: '
                        'models/training/results/<model-id>)')
    parser.add_argument('--metric-stride', type=int, default=1,
                        help='evaluate every n-th row and column of held-out images')
    return parser.parse_args(argv)


def run_epoch(model, generator, steps, optimiser=None):
    """One pass of `steps` batches; trains when an optimiser is given. Returns (loss, acc)."""
    model.train(optimiser is not None)
    loss_sum = correct = count = 0
    loss_function = torch.nn.BCEWithLogitsLoss(reduction='sum')
    for _ in range(steps):
        patches, labels = generator.batch()
        patches, labels = torch.from_numpy(patches), torch.from_numpy(labels)[:, None]
        with torch.set_grad_enabled(optimiser is not None):
            logits = model(patches)
            loss = loss_function(logits, labels)
        if optimiser is not None:
            optimiser.zero_grad()
            (loss / len(labels)).backward()
            optimiser.step()
        loss_sum += loss.item()
        correct += int(((logits > 0) == (labels > 0.5)).sum())
        count += len(labels)
    return loss_sum / count, correct / count


def fit(model, train_images, heldout_images, args, log=print):
    """Adam + binary cross-entropy over epochs x steps; returns the per-epoch history."""
    optimiser = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
    train_gen = RowGenerator(train_images, seed=args.seed)
    # Chips kept out for contradicting labels are evaluated at the end, not monitored.
    heldout_gen = RowGenerator([i for i in heldout_images if i.source != 'label-conflict'],
                               seed=args.seed + 1)
    history = []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        train_loss, train_acc = run_epoch(model, train_gen, args.steps, optimiser)
        heldout_loss, heldout_acc = run_epoch(model, heldout_gen, args.heldout_steps)
        history.append({'epoch': epoch, 'train_loss': train_loss, 'train_accuracy': train_acc,
                        'heldout_loss': heldout_loss, 'heldout_accuracy': heldout_acc})
        log(f'epoch {epoch}/{args.epochs}: loss {train_loss:.4f} acc {train_acc:.4f} | '
            f'held-out loss {heldout_loss:.4f} acc {heldout_acc:.4f} '
            f'({time.perf_counter() - start:.1f} s)')
    return history


def predict_image(model, image, stride=1):
    """P(cloud) and labels of the labelled pixels of every `stride`-th row and column."""
    model.eval()
    bordered = zero_bordered(image.reflectance)
    probabilities, truths = [], []
    with torch.no_grad():
        for row in range(0, image.labels.shape[0], stride):
            columns = np.flatnonzero(image.labels[row, ::stride] >= 0) * stride
            if len(columns):
                patches = torch.from_numpy(row_patches(bordered, row, columns))
                probabilities.append(torch.sigmoid(model(patches))[:, 0].numpy())
                truths.append(image.labels[row, columns])
    if not probabilities:
        return np.zeros(0, np.float32), np.zeros(0, np.int8)
    return np.concatenate(probabilities), np.concatenate(truths)


def evaluate(model, images, stride=1):
    """Per-image metrics rows and the metrics pooled per label source ('labelled', ...)."""
    rows, truths, predictions = [], {}, {}
    for image in images:
        probability, truth = predict_image(model, image, stride)
        predicted = probability >= THRESHOLD
        rows.append({'image': image.name, **report.confusion_metrics(truth == 1, predicted)})
        truths.setdefault(image.source, []).append(truth == 1)
        predictions.setdefault(image.source, []).append(predicted)
    pooled = {source: report.confusion_metrics(np.concatenate(truths[source]),
                                               np.concatenate(predictions[source]))
              for source in truths}
    return rows, pooled


def sample_patches(images, count, seed):
    """Up to `count` labelled patches of `images` (for the export check)."""
    generator = RowGenerator(images, seed=seed)
    patches = []
    while sum(len(p) for p in patches) < count:
        patches.append(generator.batch()[0])
    return np.concatenate(patches)[:count]


def build_metadata(model_id, dataset, model, variant, pooled):
    """The ModelMetadata of a trained model (held-out metrics pooled per label source)."""
    return ModelMetadata(
        model_id=model_id, version=VERSION, bands=dataset.bands,
        resolution_m=dataset.resolution_m, patch_size=16, padding=8,
        input_kind=dataset.input_kind,
        band_mean=tuple(float(v) for v in model.band_mean.flatten()),
        band_std=tuple(float(v) for v in model.band_std.flatten()), threshold=THRESHOLD,
        variant=variant, filters=model.filters, trained_on=dataset.trained_on,
        heldout_metrics={'nature': dataset.heldout_nature, **{
            source: {k: round(values[k], 4) for k in report.SUMMARY_KEYS}
            for source, values in pooled.items()}})


def write_records(results, title, history, per_image, pooled, summary):
    """Curves (CSV + PNG), per-image held-out metrics and the JSON summary."""
    os.makedirs(results, exist_ok=True)
    report.write_csv(os.path.join(results, 'curves.csv'), report.CURVE_FIELDS, history)
    report.plot_curves(os.path.join(results, 'curves.png'), history, title)
    report.write_csv(os.path.join(results, 'heldout_metrics.csv'), report.METRIC_FIELDS,
                     [*per_image, *({'image': f'ALL {source} (pooled)', **values}
                                    for source, values in pooled.items())])
    report.write_json(os.path.join(results, 'summary.json'), summary)


def main(argv=None):
    """Train one model from the command line; write the ONNX file and its records."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    dataset = sources.load(args)
    model_id = args.model_id or dataset.model_id
    output = args.output or os.path.join(REPO, 'models', f'{model_id}.onnx')
    print(f'{model_id}: {len(dataset.train)} training and {len(dataset.heldout)} held-out '
          'images', flush=True)
    model = CloudCnn(*band_statistics(dataset.train), variant=args.variant,
                     filters=tuple(int(f) for f in args.filters.split(',')))
    start = time.perf_counter()
    history = fit(model, dataset.train, dataset.heldout, args,
                  log=lambda text: print(text, flush=True))
    train_seconds = time.perf_counter() - start
    per_image, pooled = evaluate(model, dataset.heldout, args.metric_stride)
    metadata = build_metadata(model_id, dataset, model, args.variant, pooled)
    export_onnx(model, metadata, output)
    summary = {'model_id': model_id, 'version': VERSION, 'arguments': vars(args),
               'train_seconds': round(train_seconds, 1), 'heldout_pooled': pooled,
               'export_check': check_export(model, output,
                                            sample_patches(dataset.heldout, 2000, args.seed)),
               'sha256': report.sha256(output), 'size_bytes': os.path.getsize(output),
               'torch': torch.__version__, 'onnx_ms_per_10k_patches_1_thread': round(
                   report.onnx_cost_ms_per_10k(output), 1),
               'label_counts': dataset.label_counts(), 'notes': dataset.notes}
    write_records(args.results or os.path.join(REPO, 'models', 'training', 'results', model_id),
                  f'{model_id} ({args.variant}, filters {model.filters})', history, per_image,
                  pooled, summary)
    print(f'wrote {output} ({summary["size_bytes"]} bytes, sha256 {summary["sha256"]}); '
          f'training {train_seconds:.0f} s; held-out {metadata.heldout_metrics}', flush=True)
    return summary


if __name__ == '__main__':
    main()
