"""Train, evaluate and export one S2 Cloud CNN model (what `make train` runs).

Example: python -m models.training.train --dataset oncloudn --epochs 2 --steps 50
"""

import argparse
import os
import time
from dataclasses import asdict, replace

import numpy as np
import torch

from algorithms.core.detection.contract import VARIANTS, ModelMetadata
from models.training import report, sources
from models.training.config import DATA_ENV, REPO, TrainConfig
from models.training.export import check_export, export_onnx
from models.training.network import CloudCnn
from models.training.patches import band_statistics, row_patches, zero_bordered
from models.training.samplers import RowSampler

VERSION = '1.0.0'
THRESHOLD = 0.5


def _integers(text):
    return tuple(int(value) for value in text.split(',') if value.strip())


def _names(text):
    return tuple(value for value in text.split(',') if value)


def _text(values):
    return ','.join(map(str, values))


# Options given as comma-separated text on the command line, and how each becomes a field.
_LISTS = {'cloud_values': _integers, 'clear_values': _integers, 'filters': _integers,
          'heldout': _names, 'heldout_places': _names, 'cloud_types': _names}


def parse_args(argv=None) -> TrainConfig:
    """The TrainConfig of a command line; every default is TrainConfig's."""
    default = TrainConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dataset', choices=sorted(sources.BUILDERS), default=default.dataset)
    parser.add_argument('--data', help=f'dataset folder (default: under ${DATA_ENV} or the '
                        "repository's data/ folder, a link to the shared data)")
    parser.add_argument('--image', help='--dataset pair: image raster (band descriptions)')
    parser.add_argument('--labels', help='--dataset pair: label raster')
    parser.add_argument('--cloud-values', default=_text(default.cloud_values),
                        help='pair: label values = cloud')
    parser.add_argument('--clear-values', default=_text(default.clear_values),
                        help='pair: values = clear')
    parser.add_argument('--scale', type=float, default=default.scale,
                        help='pair: value -> reflectance')
    parser.add_argument('--heldout', default=_text(default.heldout),
                        help='comma-separated image names to hold out (alcd, oncloudn); '
                        'default: a seeded choice')
    parser.add_argument('--heldout-fraction', type=float, default=default.heldout_fraction)
    parser.add_argument('--split', choices=('chip', 'location'), default=default.split,
                        help='oncloudn: hold out single chips (the shipped recipe) or whole '
                        'places of chips.csv')
    parser.add_argument('--heldout-places', default=_text(default.heldout_places),
                        help='oncloudn, --split location: comma-separated places of '
                        'chips.csv to hold out; default: Senanga and Brazil, else seeded')
    parser.add_argument('--label-screen', type=float, default=default.label_screen,
                        help='oncloudn: leave out chips whose labels agree with '
                        '"blue > 0.15" on less than this')
    parser.add_argument('--variant', choices=VARIANTS, default=default.variant)
    parser.add_argument('--filters', default=_text(default.filters))
    parser.add_argument('--epochs', type=int, default=default.epochs)
    parser.add_argument('--steps', type=int, default=default.steps,
                        help="batches (image rows) per epoch (default: the dataset's recipe, "
                        f'{sources.REFERENCES_STEPS} for l1c-references, else '
                        f'{sources.Dataset.steps})')
    parser.add_argument('--heldout-steps', type=int, default=default.heldout_steps)
    parser.add_argument('--learning-rate', type=float, default=default.learning_rate)
    parser.add_argument('--synthetic', type=int, default=default.synthetic,
                        help='l1c-agreement, l1c-references: synthetic cloud layers per scene')
    parser.add_argument('--cloud-types', default=_text(default.cloud_types),
                        help='l1c-references: synthetic cloud types, cycled over the layers')
    parser.add_argument('--atmospheres', type=int, default=default.atmospheres,
                        help='l1c-references: atmosphere variants per scene (atmosphere.py)')
    parser.add_argument('--illuminations', type=int, default=default.illuminations,
                        help='l1c-references: illumination variants per scene')
    parser.add_argument('--seed', type=int, default=default.seed)
    parser.add_argument('--threads', type=int, default=default.threads)
    parser.add_argument('--model-id', help='default: from the dataset')
    parser.add_argument('--output', help='ONNX path (default: models/<model-id>.onnx for a '
                        'shipped model, else build/models/<model-id>.onnx)')
    parser.add_argument('--results', help='records folder (default: '
                        'models/training/results/<model-id>)')
    parser.add_argument('--metric-stride', type=int, default=default.metric_stride,
                        help='evaluate every n-th row and column of held-out images')
    parser.add_argument('--stacks', default=default.stacks, help='where L1C products are '
                        'stacked at 60 m for training (re-used when present)')
    args = vars(parser.parse_args(argv))
    return TrainConfig(**{name: _LISTS[name](value) if name in _LISTS else value
                          for name, value in args.items()})


def run_epoch(model, sampler, steps, optimiser=None):
    """One pass of `steps` batches; trains when an optimiser is given. Returns (loss, acc)."""
    model.train(optimiser is not None)
    loss_sum = correct = count = 0
    loss_function = torch.nn.BCEWithLogitsLoss(reduction='sum')
    for _ in range(steps):
        patches, labels = sampler.batch()
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


def fit(model, train_images, heldout_images, config, log=print):
    """Adam + binary cross-entropy over epochs x steps; returns the per-epoch history."""
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    train_sampler = RowSampler(train_images, seed=config.seed)
    # Chips kept out for contradicting labels are evaluated at the end, not monitored.
    heldout_sampler = RowSampler([i for i in heldout_images if i.source != 'label-conflict'],
                                 seed=config.seed + 1)
    history = []
    for epoch in range(1, config.epochs + 1):
        start = time.perf_counter()
        train_loss, train_acc = run_epoch(model, train_sampler, config.steps, optimiser)
        heldout_loss, heldout_acc = run_epoch(model, heldout_sampler, config.heldout_steps)
        history.append({'epoch': epoch, 'train_loss': train_loss, 'train_accuracy': train_acc,
                        'heldout_loss': heldout_loss, 'heldout_accuracy': heldout_acc})
        log(f'epoch {epoch}/{config.epochs}: loss {train_loss:.4f} acc {train_acc:.4f} | '
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
    sampler = RowSampler(images, seed=seed)
    patches = []
    while sum(len(p) for p in patches) < count:
        patches.append(sampler.batch()[0])
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


def default_output(model_id: str) -> str:
    """models/<id>.onnx when it rebuilds a shipped model, else build/models/<id>.onnx.

    The plugin offers every .onnx in models/, so a candidate must not land there by accident.
    """
    shipped = os.path.join(REPO, 'models', f'{model_id}.onnx')
    return shipped if os.path.exists(shipped) else os.path.join(REPO, 'build', 'models',
                                                               f'{model_id}.onnx')


def train(config: TrainConfig) -> dict:
    """Train one model as `config` says; write the ONNX file and its records, return the summary."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    dataset = sources.load(config)
    config = replace(config, steps=config.steps or dataset.steps)
    model_id = config.model_id or dataset.model_id
    output = config.output or default_output(model_id)
    print(f'{model_id}: {len(dataset.train)} training and {len(dataset.heldout)} held-out '
          'images', flush=True)
    model = CloudCnn(*band_statistics(dataset.train), variant=config.variant,
                     filters=config.filters)
    start = time.perf_counter()
    history = fit(model, dataset.train, dataset.heldout, config,
                  log=lambda text: print(text, flush=True))
    train_seconds = time.perf_counter() - start
    per_image, pooled = evaluate(model, dataset.heldout, config.metric_stride)
    metadata = build_metadata(model_id, dataset, model, config.variant, pooled)
    export_onnx(model, metadata, output)
    # Records name no folder of this machine: the stacks folder relative to the repository.
    arguments = {**asdict(config), 'stacks': os.path.relpath(config.stacks, REPO)}
    summary = {'model_id': model_id, 'version': VERSION, 'arguments': arguments,
               'train_seconds': round(train_seconds, 1), 'heldout_pooled': pooled,
               'export_check': check_export(model, output,
                                            sample_patches(dataset.heldout, 2000, config.seed)),
               'sha256': report.sha256(output), 'size_bytes': os.path.getsize(output),
               'torch': torch.__version__, 'onnx_ms_per_10k_patches_1_thread': round(
                   report.onnx_cost_ms_per_10k(output), 1),
               'label_counts': dataset.label_counts(), 'notes': dataset.notes}
    write_records(config.results or os.path.join(REPO, 'models', 'training', 'results',
                                                 model_id),
                  f'{model_id} ({config.variant}, filters {model.filters})', history, per_image,
                  pooled, summary)
    print(f'wrote {output} ({summary["size_bytes"]} bytes, sha256 {summary["sha256"]}); '
          f'training {train_seconds:.0f} s; held-out {metadata.heldout_metrics}', flush=True)
    return summary


def main(argv=None) -> dict:
    """Train one model from the command line (see parse_args)."""
    return train(parse_args(argv))


if __name__ == '__main__':
    main()
