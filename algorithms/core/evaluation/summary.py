"""Evaluate many prediction / ground-truth pairs, per method: table, means, plots, report."""

import csv
import io
import math
import os
from dataclasses import dataclass, field

from .. import html, plots
from ..errors import ExtentError, NoValidDataError, PairingError
from ..run import RunContext, context_or_silent
from . import report
from .evaluate import evaluate
from .metrics import COUNT_NAMES, METRIC_NAMES, Confusion

COLUMNS = ('method', 'image', 'prediction', 'ground_truth') + METRIC_NAMES + COUNT_NAMES
MEAN, POOLED = 'mean over images', 'all pixels pooled'
FIGURE_CAPTIONS = ('Metrics per image and method (as the paper\'s Fig. 3)',
                   'Distribution of each metric over the images (as the paper\'s Fig. 4)')


@dataclass(frozen=True)
class Method:
    """One method's predictions, e.g. CNN masks or Sen2Cor SCL rasters, and its class mapping."""

    name: str
    predictions: tuple
    mapping: object


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
        """Return one row of COLUMNS per evaluation, by method and image."""
        return [{'method': method, 'image': image, 'prediction': evaluation.prediction,
                 'ground_truth': evaluation.ground_truth, **evaluation.confusion.metrics()}
                for (method, image), evaluation in sorted(self.evaluations.items())]

    def records(self):
        """Return rows of COLUMNS: per image, then per method its mean and pooled rows."""
        rows = self.image_records()
        for method in self.methods:
            if self.of(method):
                rows.append({'method': method, 'image': MEAN, **self.means(method)})
                rows.append({'method': method, 'image': POOLED, **self.pooled(method).metrics()})
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


def _stem(path):
    return os.path.splitext(os.path.basename(path))[0].lower()


def match_truth(prediction, truths):
    """Return the ground truth of `prediction`, or None.

    A ground truth matches when its file stem equals the prediction's stem or begins it up to a
    separator: `kgvd.tif` matches `kgvd.tif`, `kgvd_cnn.tif`, `kgvd-scl.tif`, not `kgvdx.tif`.
    The longest matching stem wins.

    Raises:
        PairingError: if two ground truths share the matching name.

    """
    stem = _stem(prediction)
    found = [t for t in truths if stem == _stem(t)
             or (stem.startswith(_stem(t)) and not stem[len(_stem(t))].isalnum())]
    if not found:
        return None
    longest = max(len(_stem(t)) for t in found)
    best = [t for t in found if len(_stem(t)) == longest]
    if len(best) > 1:
        raise PairingError(f'{len(best)} ground truths are named {_stem(best[0])!r} '
                           f'({", ".join(best)}); keep one per image name')
    return best[0]


def pair(methods, truths):
    """Return ([(method, image, prediction, truth)], [(method, prediction, reason)]).

    Raises:
        PairingError: if nothing can be paired (with the naming rule in the message).

    """
    jobs, skipped = [], []
    for method in methods:
        for prediction in method.predictions:
            truth = match_truth(prediction, truths)
            if truth is None:
                skipped.append((method.name, prediction, 'no ground truth with a matching name'))
            else:
                jobs.append((method, _stem(truth), prediction, truth))
    if not jobs:
        raise PairingError('no prediction could be paired with a ground truth: name each ground '
                           'truth after its image (kgvd.tif) and each prediction the same or '
                           'with a suffix (kgvd.tif, kgvd_cnn.tif, kgvd-scl.tif)')
    return jobs, skipped


def summarize(methods: list, truths, truth_mapping,
              run_context: 'RunContext | None' = None) -> 'Summary':
    """Evaluate every prediction of every method against its ground truth.

    Pairs whose rasters do not overlap or hold no valid pixel in common are skipped and listed.

    Args:
        methods: Method instances (several compare methods side by side).
        truths: ground-truth raster files; paired with predictions by name (match_truth).
        truth_mapping: ClassMapping of the ground truths.
        run_context: RunContext (progress over all pairs, cancel between pairs, a log line
            per pair).
        log: optional callable taking a message line.

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


def csv_text(summary):
    """Return the CSV of Summary.records(), ratios with 6 decimals."""
    stream = io.StringIO()
    writer = csv.DictWriter(stream, COLUMNS, restval='', lineterminator='\n')
    writer.writeheader()
    for row in summary.records():
        writer.writerow({k: f'{v:.6f}' if isinstance(v, float) else v for k, v in row.items()})
    return stream.getvalue()


def write_outputs(summary, csv_path=None, report_path=None):
    """Write the CSV, and the HTML report with its two PNG plots beside it.

    Returns:
        The list of files written.

    """
    written = []
    if csv_path:
        html.write_text(csv_path, csv_text(summary))
        written.append(csv_path)
    if report_path:
        root = os.path.splitext(report_path)[0]
        figures = [root + '_per_image.png', root + '_boxplots.png']
        values = summary.metric_values()
        plots.per_image_bars(summary.images(), summary.methods, values, figures[0])
        plots.box_plots(summary.methods, values, figures[1])
        html.write_text(report_path, summary_html(summary, figures))
        written += figures + [report_path]
    return written


def summary_html(summary, figures):
    """Return the HTML report: means per method, per-image table, skipped pairs, plots."""
    fmt = html.fmt
    means = [(m, MEAN, *(fmt(v) for v in summary.means(m).values())) for m in summary.methods]
    means += [(m, POOLED, *(fmt(getattr(summary.pooled(m), k)) for k in METRIC_NAMES))
              for m in summary.methods]
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
        '<h2>Means per method</h2>',
        html.table(('method', 'over') + METRIC_NAMES, means, text_columns=2),
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
