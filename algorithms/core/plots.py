"""Headless PNG plots: the Agg figure helpers, per-image bars (paper Fig. 3), box plots (Fig. 4)."""

import math

from . import raster_io
from .errors import DependencyMissingError

BAR_METRICS = (('accuracy', 'Accuracy'), ('recall', 'Recall'), ('precision', 'Precision'),
               ('fscore', 'F-score'))
BOX_METRICS = BAR_METRICS + (('iou', 'IoU'), ('kappa', "Cohen's kappa"))
COLOURS = ('#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd')


def new_figure(width: float, height: float):
    """Return a matplotlib Figure drawn by the Agg canvas (no GUI, no global backend switch)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise DependencyMissingError(
            'matplotlib is missing, so the plots cannot be drawn: install it with '
            "'sudo apt install python3-matplotlib' (Debian/Ubuntu) or "
            "'python3 -m pip install matplotlib'") from error
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def save_png(figure, path: str) -> None:
    """Write `figure` as a PNG at `path` atomically (temporary file, then rename)."""
    with raster_io.atomic_output(path) as temporary:
        figure.savefig(temporary, format='png')


def per_image_bars(images: list, methods: list, values: dict, path: str) -> None:
    """Draw one panel per metric with a group of bars per image, one bar per method.

    Args:
        images: image names, in plot order.
        methods: method names, in legend order.
        values: {(method, image): {metric: value}}; missing pairs leave a gap.
        path: PNG to write.

    """
    figure = new_figure(max(6.0, 0.45 * len(images) * len(methods) + 2), 9)
    width = 0.8 / len(methods)
    for row, (metric, label) in enumerate(BAR_METRICS):
        axes = figure.add_subplot(len(BAR_METRICS), 1, row + 1)
        for index, method in enumerate(methods):
            xs = [i + (index - (len(methods) - 1) / 2) * width for i in range(len(images))]
            ys = [values.get((method, image), {}).get(metric, float('nan')) for image in images]
            axes.bar(xs, ys, width, label=method, color=COLOURS[index % len(COLOURS)])
        axes.set_ylabel(label)
        axes.set_ylim(_lower_limit(values, metric), 1.01)
        axes.set_xticks(range(len(images)))
        axes.set_xticklabels(images if row == len(BAR_METRICS) - 1 else [''] * len(images),
                             rotation=45, ha='right')
        axes.grid(axis='y', alpha=0.3)
    handles, labels = figure.axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc='upper right', ncol=len(methods), fontsize='small')
    figure.suptitle('Metrics per image', x=0.3)
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    save_png(figure, path)


def _lower_limit(values, metric):
    """Return the y-axis start: 0, so bar heights compare truly (lower for a negative kappa)."""
    finite = [v[metric] for v in values.values() if math.isfinite(v[metric])]
    return min(0.0, math.floor(min(finite, default=0.0) * 10) / 10)


def box_plots(methods: list, values: dict, path: str) -> None:
    """Draw one box plot per metric, one box per method, over the images.

    Args:
        methods: method names.
        values: {(method, image): {metric: value}}.
        path: PNG to write.

    """
    figure = new_figure(11, 6.5)
    for index, (metric, label) in enumerate(BOX_METRICS):
        axes = figure.add_subplot(2, 3, index + 1)
        series = [[v[metric] for (m, _), v in values.items() if m == method] for method in methods]
        boxes = axes.boxplot(series, patch_artist=True, widths=0.6)
        for number, box in enumerate(boxes['boxes']):
            box.set_facecolor(COLOURS[number % len(COLOURS)])
            box.set_alpha(0.7)
        axes.set_xticks(range(1, len(methods) + 1))
        axes.set_xticklabels(methods, rotation=20)
        axes.set_title(label)
        axes.grid(axis='y', alpha=0.3)
    figure.suptitle('Distribution over images')
    figure.tight_layout()
    save_png(figure, path)
