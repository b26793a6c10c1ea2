"""HTML reports of evaluations: numbers, confusion matrix, errors per ground-truth class."""

import os

from ..html import esc, fmt, page, table, write_text
from .evaluate import ERROR_CLASSES, ERROR_COLOURS, NOT_EVALUATED

METRIC_LABELS = {'accuracy': 'Accuracy (TP+TN)/all', 'recall': 'Recall TP/(TP+FN) = 1 - omission',
                 'precision': 'Precision TP/(TP+FP) = 1 - commission',
                 'fscore': 'F-score 2PR/(P+R)', 'iou': 'IoU TP/(TP+FP+FN)',
                 'kappa': "Cohen's kappa"}

CONVENTIONS = ('Cloud is the positive class. Where a class is absent the ratios stay defined: '
               'recall = 1 when the ground truth has no cloud, precision = 1 when nothing was '
               'called cloud, F = 0 when P + R = 0, IoU = 1 when neither has cloud, kappa = 1 '
               'when both are the same single class. Only pixels valid in both rasters count.')


def metrics_table(confusion) -> str:
    """Return the ratios of one Confusion."""
    return table(('metric', 'value'),
                 [(METRIC_LABELS[name], fmt(getattr(confusion, name))) for name in METRIC_LABELS])


def confusion_table(confusion) -> str:
    """Return the 2 x 2 matrix with counts and shares of all evaluated pixels."""
    total = confusion.total or 1

    def cell(count):
        return f'{count:,} ({100 * count / total:.2f} %)'
    return table(('ground truth \\ prediction', 'cloud', 'clear'),
                 [('cloud', cell(confusion.tp) + ' TP', cell(confusion.fn) + ' FN'),
                  ('clear', cell(confusion.fp) + ' FP', cell(confusion.tn) + ' TN')])


def per_class_table(evaluation) -> str:
    """Return per ground-truth value: pixels, how many were called cloud, and the error share."""
    mapping = evaluation.truth_mapping
    names = dict(mapping.labels)
    rows = []
    for value, (pixels, called) in sorted(evaluation.per_class.items()):
        meaning = mapping.meaning(value)
        wrong = pixels - called if meaning == 'cloud' else called
        rows.append((value, names.get(value, ''), meaning, f'{pixels:,}', f'{called:,}',
                     f'{100 * called / pixels:.2f} %', f'{100 * wrong / pixels:.2f} %'))
    return table(('value', 'class', 'counts as', 'pixels', 'called cloud', 'share called cloud',
                  'error'), rows, text_columns=3)


def legend() -> str:
    """Return the error map's colour legend."""
    items = [f'<span class="swatch" style="background: rgb{ERROR_COLOURS[code]}"></span> '
             f'{code} {esc(ERROR_CLASSES[code])}' for code in ERROR_COLOURS]
    items.append(f'{NOT_EVALUATED} {esc(ERROR_CLASSES[NOT_EVALUATED])} (no data, transparent)')
    return '<p>Error map: ' + ' &nbsp; '.join(items) + '</p>'


def mapping_section(evaluation) -> str:
    """Say what each raster's values were taken to mean."""
    rows = []
    for what, path, mapping in (('prediction', evaluation.prediction,
                                 evaluation.prediction_mapping),
                                ('ground truth', evaluation.ground_truth,
                                 evaluation.truth_mapping)):
        rows.append((what, os.path.basename(path), mapping.name,
                     mapping.describe() + (f' ({mapping.notes})' if mapping.notes else '')))
    return table(('raster', 'file', 'classes', 'meaning'), rows, text_columns=4)


def evaluation_html(evaluation) -> str:
    """Return the HTML report of one evaluation (the paper's Tables 4-6 for one image)."""
    confusion = evaluation.confusion
    notes = ''.join(f'<p class="note">{esc(note)}</p>' for note in evaluation.notes)
    evaluated = (f'<p>{confusion.total:,} of {evaluation.grid_pixels:,} pixels evaluated '
                 f'({100 * confusion.total / max(evaluation.grid_pixels, 1):.1f} %).</p>')
    sections = ['<h2>Inputs</h2>', mapping_section(evaluation), notes, evaluated,
                '<h2>Metrics</h2>', metrics_table(confusion), f'<p>{esc(CONVENTIONS)}</p>',
                '<h2>Confusion matrix (pixels)</h2>', confusion_table(confusion), legend()]
    if evaluation.per_class:
        sections += ['<h2>Errors per ground-truth class</h2>',
                     '<p>How much of each ground-truth class the prediction called cloud: the '
                     'hard cases (snow, water, bright soil called cloud; thin cloud missed).</p>',
                     per_class_table(evaluation)]
    return page(f'Cloud mask evaluation: {os.path.basename(evaluation.prediction)}', sections)


def write_evaluation_report(path: str, evaluation) -> None:
    """Write evaluation_html atomically to `path` (inputs protected)."""
    write_text(path, evaluation_html(evaluation),
               protected=(evaluation.prediction, evaluation.ground_truth))

