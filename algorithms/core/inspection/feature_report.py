"""The feature maps' HTML report: a contact sheet of every map (like the paper's Fig. 7), stats."""

import math
import os

import numpy as np
from osgeo import gdal

from .. import outputs
from ..html import esc, fmt, page, table, write_text
from ..plots import new_figure, save_png

# Side in pixels of each map in the contact sheet: maps are read decimated by GDAL, so a
# full tile costs no more memory than a small crop.
THUMBNAIL = 192
MAX_COLUMNS = 8


def _thumbnail(dataset, index, side=THUMBNAIL):
    """Read band `index` decimated so that its longer side is at most `side` pixels."""
    width, height = dataset.RasterXSize, dataset.RasterYSize
    scale = min(1.0, side / max(width, height))
    return dataset.GetRasterBand(index).ReadAsArray(
        buf_xsize=max(1, round(width * scale)), buf_ysize=max(1, round(height * scale)))


def _stretch(values):
    """Scale to 0..1 between the 2nd and 98th percentile (NaN stays NaN)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return values
    low, high = np.percentile(finite, (2, 98))
    return np.clip((values - low) / (high - low if high > low else 1.0), 0, 1)


def contact_sheet(maps_path: str, png_path: str, title: str) -> None:
    """Draw every band of a feature-map raster as a grey thumbnail in a grid; write a PNG.

    Bright = high activation, each map stretched on its own (2-98 %); no data is red.
    """
    dataset = gdal.Open(outputs.readable(maps_path))
    count = dataset.RasterCount
    columns = min(MAX_COLUMNS, count)
    rows = math.ceil(count / columns)
    aspect = dataset.RasterYSize / dataset.RasterXSize
    figure = new_figure(1.6 * columns + 0.2, (1.6 * aspect + 0.3) * rows + 0.5)
    for index in range(1, count + 1):
        axes = figure.add_subplot(rows, columns, index)
        image = np.ma.masked_invalid(_stretch(_thumbnail(dataset, index).astype(np.float64)))
        axes.set_facecolor('red')
        axes.imshow(image, cmap='gray', vmin=0, vmax=1, interpolation='nearest')
        axes.set_title(dataset.GetRasterBand(index).GetDescription(), fontsize=8)
        axes.set_xticks([])
        axes.set_yticks([])
    figure.suptitle(title, fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    save_png(figure, png_path)


def _stats_rows(result, strongest):
    return [(label, *(fmt(s[key], '.4g') for key in ('min', 'mean', 'max')),
             ', '.join(strongest.get(f, [])))
            for label, f, s in zip(result.descriptions, result.filters, result.stats)]


def write_feature_report(result, report_path: str, model_label: str, strongest=None,
                         protected: tuple = ()) -> None:
    """Write the HTML report of a MapsResult and its contact sheet PNG beside it.

    Args:
        result: features.MapsResult of the written maps.
        report_path: the .html to write; the PNG is <report>_maps.png.
        model_label: the model's id and version, for the title.
        strongest: {filter number: [input names]} of the filters' heaviest kernel inputs.
        protected: input paths never to overwrite.

    Returns:
        The PNG path.

    """
    png_path = os.path.splitext(report_path)[0] + '_maps.png'
    contact_sheet(result.path, png_path, f'{model_label}: conv{result.layer} feature maps')
    inputs = 'bands' if result.layer == 1 else f'conv{result.layer - 1} filters'
    sections = [
        f'<p>Model {esc(model_label)}, layer conv{result.layer}, {len(result.filters)} '
        f'filter(s), written to {esc(result.path)}.</p>',
        f'<p>{esc(result.meaning)}.</p>',
        f'<img src="{esc(os.path.basename(png_path))}" alt="contact sheet">',
        '<p>Each map is stretched on its own between its 2nd and 98th percentile (bright = '
        'strong activation); no data is red.</p>',
        table(('band', 'min', 'mean', 'max', f'strongest {inputs} (kernel L1 norm)'),
              _stats_rows(result, strongest or {}), text_columns=1),
    ]
    write_text(report_path, page(f'CNN feature maps: conv{result.layer}', sections),
               protected=protected)
    return png_path
