"""Evaluate many prediction / ground-truth pairs: per-image and per-method tables, plots, report."""

import csv
import io
import math
import os
from dataclasses import dataclass, field

from .. import html, plots
from ..errors import ExtentError, NoValidDataError
from ..run import RunContext, context_or_silent
from . import report
from .evaluate import evaluate
from .metrics import COUNT_NAMES, METRIC_NAMES, Confusion
from .pairing import pair

IMAGE_COLUMNS = ('method', 'image', 'prediction', 'ground_truth') + METRIC_NAMES + COUNT_NAMES
MEAN_COLUMNS = tuple(f'{metric}_mean' for metric in METRIC_NAMES)
POOLED_COLUMNS = tuple(f'{metric}_pooled' for metric in METRIC_NAMES)
METHOD_COLUMNS = ('method', 'images', 'skipped') + MEAN_COLUMNS + POOLED_COLUMNS + COUNT_NAMES
FIGURE_CAPTIONS = ('Metrics per image and method (as the paper\'s Fig. 3)',
                   'Distribution of each metric over the images (as the paper\'s Fig. 4)')


@dataclass
class Summary:
    """The evaluations of every pair, and what was skipped and why."""

    methods: list
    evaluations: dict = field(default_factory=dict)  # (method, image) -> Evaluation
    skipped: list = field(default_factory=list)  # (method, file, reason)
    mappings: dict = field(default_factory=dict)  # method -> ClassMapping
    truth_mapping: object = None

    def images(self):
        """Return the image names that have at least one evaluation, sorted."""
        return sorted({image for _, image in self.evaluations})

    def of(self, method):
        """Return the evaluations of `method`, in the order they were made."""
        return [e for (name, _), e in self.evaluations.items() if name == method]

    def pooled(self, method):
        """Return the Confusion of every pixel of every image of `method` together."""
        return sum((e.confusion for e in self.of(method)), Confusion())

    def means(self, method):
        """Return each metric's mean over the images of `method` (the paper's Table 4)."""
        values = [e.confusion for e in self.of(method)]
        return {metric: (sum(getattr(c, metric) for c in values) / len(values)
                         if values else math.nan) for metric in METRIC_NAMES}

    def image_records(self):
        """Return one row of IMAGE_COLUMNS per evaluation, by method (table order) and image."""
        order = {method: number for number, method in enumerate(self.methods)}
        keys = sorted(self.evaluations, key=lambda key: (order[key[0]], key[1]))
        return [{'method': method, 'image': image,
                 'prediction': self.evaluations[method, image].prediction,
                 'ground_truth': self.evaluations[method, image].ground_truth,
                 **self.evaluations[method, image].confusion.metrics()}
                for method, image in keys]

    def method_records(self):
        """Return one row of METHOD_COLUMNS per method: means over its images, pooled pixels."""
        rows = []
        for method in self.methods:
            pooled = self.pooled(method)
            rows.append({'method': method, 'images': len(self.of(method)),
                         'skipped': sum(name == method for name, *_ in self.skipped),
                         **dict(zip(MEAN_COLUMNS, self.means(method).values())),
                         **{column: getattr(pooled, metric)
                            for column, metric in zip(POOLED_COLUMNS, METRIC_NAMES)},
                         **{count: getattr(pooled, count) for count in COUNT_NAMES}})
        return rows

    def pooled_classes(self, method):
        """Return {ground-truth value: [pixels, called cloud]} over the images of `method`."""
        pooled = {}
        for evaluation in self.of(method):
            for value, (pixels, called) in evaluation.per_class.items():
                entry = pooled.setdefault(value, [0, 0])
                entry[0] += pixels
                entry[1] += called
        return pooled

    def metric_values(self):
        """Return {(method, image): {metric: value}} for the plots."""
        return {key: e.confusion.metrics() for key, e in self.evaluations.items()}


def summarize(methods: list, truths, truth_mapping,
              run_context: 'RunContext | None' = None) -> 'Summary':
    """Evaluate every prediction of every method against its ground truth.

    Pairs whose rasters do not overlap or hold no valid pixel in common are skipped and listed.

    Args:
        methods: pairing.Method instances with their predictions (pairing.assign).
        truths: ground-truth raster files; paired with predictions by name
            (pairing.match_truth).
        truth_mapping: ClassMapping of the ground truths.
        run_context: RunContext (progress over all pairs, cancel between pairs, a log line
            per pair).

    Returns:
        A Summary.

    Raises:
        PairingError: if nothing pairs; CancelledError: if cancelled.

    """
    run_context = context_or_silent(run_context)
    jobs, skipped = pair(methods, truths)
    summary = Summary([m.name for m in methods], skipped=skipped,
                      mappings={m.name: m.mapping for m in methods}, truth_mapping=truth_mapping)
    for number, (method, image, prediction, truth) in enumerate(jobs):
        run_context.raise_if_canceled('summary cancelled; no output was written')
        stage = run_context.within(number * 100 / len(jobs), (number + 1) * 100 / len(jobs))
        try:
            evaluation = evaluate(prediction, truth, method.mapping, truth_mapping,
                                  run_context=stage)
        except (ExtentError, NoValidDataError) as error:
            skipped.append((method.name, prediction, str(error)))
            continue
        summary.evaluations[(method.name, image)] = evaluation
        run_context.log(f'{method.name} {image}: F-score {evaluation.confusion.fscore:.4f}'
                        + ''.join(f' ({note})' for note in evaluation.notes))
    if not summary.evaluations:
        raise NoValidDataError('no pair could be evaluated: ' + '; '.join(r for *_, r in skipped))
    return summary


def csv_text(columns, rows) -> str:
    """Return `rows` as CSV: ratios with 6 decimals, an undefined ratio (NaN) left empty."""
    stream = io.StringIO()
    writer = csv.DictWriter(stream, columns, restval='', lineterminator='\n')
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ('' if math.isnan(v) else f'{v:.6f}') if isinstance(v, float) else v
                         for k, v in row.items()})
    return stream.getvalue()


def write_outputs(summary: 'Summary', per_image_csv: str = None, method_csv: str = None,
                  report_path: str = None) -> list:
    """Write the per-image CSV, the per-method CSV, and the report with two PNG plots beside it.

    Returns:
        The list of files written.

    """
    written = []
    for path, columns, rows in ((per_image_csv, IMAGE_COLUMNS, summary.image_records()),
                                (method_csv, METHOD_COLUMNS, summary.method_records())):
        if path:
            html.write_text(path, csv_text(columns, rows))
            written.append(path)
    if report_path:
        root = os.path.splitext(report_path)[0]
        figures = [root + '_per_image.png', root + '_boxplots.png']
        values = summary.metric_values()
        plots.per_image_bars(summary.images(), summary.methods, values, figures[0])
        plots.box_plots(summary.methods, values, figures[1])
        html.write_text(report_path, summary_html(summary, figures))
        written += figures + [report_path]
    return written


def summary_html(summary: 'Summary', figures) -> str:
    """Return the HTML report: classes, per method, plots, per image, per class, skipped."""
    fmt = html.fmt
    methods = summary.method_records()
    means = [(r['method'], r['images'], r['skipped'], *(fmt(r[c]) for c in MEAN_COLUMNS))
             for r in methods]
    pooled = [(r['method'], *(fmt(r[c]) for c in POOLED_COLUMNS),
               *(f'{r[k]:,}' for k in COUNT_NAMES)) for r in methods]
    rows = [(r['method'], r['image'], *(fmt(r[k]) for k in METRIC_NAMES),
             *(f'{r[k]:,}' for k in COUNT_NAMES)) for r in summary.image_records()]
    regridded = sum(e.regridded for e in summary.evaluations.values())
    classes = [(m, summary.mappings[m].name, summary.mappings[m].describe())
               for m in summary.methods]
    classes.append(('ground truth', summary.truth_mapping.name, summary.truth_mapping.describe()))
    sections = [
        html.table(('raster', 'classes', 'meaning'), classes, text_columns=3),
        f'<p>{len(summary.evaluations)} evaluations of {len(summary.images())} images; '
        f'{regridded} ground truths were resampled onto their prediction\'s grid.</p>',
        '<h2>Per method</h2>',
        '<p>The per-method table: the mean of each metric over the method\'s images (the '
        'paper\'s Table 4), and the metrics of all its pixels pooled, as if its images were one '
        '(columns <i>metric</i>_mean and <i>metric</i>_pooled).</p>',
        '<h3>Mean over images</h3>',
        html.table(('method', 'images', 'skipped') + METRIC_NAMES, means),
        '<h3>All pixels pooled</h3>',
        html.table(('method',) + METRIC_NAMES + COUNT_NAMES, pooled),
        f'<p>{html.esc(report.CONVENTIONS)}</p>',
        *(f'<figure><img src="{html.esc(os.path.basename(path))}" alt="{caption}">'
          f'<figcaption>{caption}</figcaption></figure>'
          for path, caption in zip(figures, FIGURE_CAPTIONS)),
        '<h2>Per image</h2>',
        html.table(('method', 'image') + METRIC_NAMES + COUNT_NAMES, rows, text_columns=2)]
    sections += _classes_section(summary)
    if summary.skipped:
        sections += ['<h2>Skipped</h2>', html.table(
            ('method', 'file', 'why'),
            [(m, os.path.basename(p), why) for m, p, why in summary.skipped], text_columns=3)]
    return html.page('Cloud mask evaluation summary', sections)


def _classes_section(summary):
    """Return, per ground-truth class, the share each method called cloud (all images pooled)."""
    pooled = {method: summary.pooled_classes(method) for method in summary.methods}
    values = sorted(set().union(*pooled.values()))
    if not values:
        return []
    names = dict(summary.truth_mapping.labels)
    rows = []
    for value in values:
        shares = [f'{100 * c[1] / c[0]:.2f} % of {c[0]:,}' if c else '-'
                  for c in (pooled[method].get(value) for method in summary.methods)]
        rows.append((value, names.get(value, ''), summary.truth_mapping.meaning(value), *shares))
    return ['<h2>Share called cloud per ground-truth class (all images)</h2>',
            '<p>For cloud classes this is the detection rate, for clear classes (snow, water, '
            'bright soil) the false-alarm rate: the paper\'s hard cases.</p>',
            html.table(('value', 'class', 'counts as', *summary.methods), rows, text_columns=3)]
