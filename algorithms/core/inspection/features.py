"""Feature maps of the CNN's conv layers over a scene: from the ONNX graph, or from a kernel file.

Band f of a layer-i map at pixel (r, c) is conv{i} filter f (after its activation, before
pooling) at the cell of the pixel's own 16 x 16 patch that holds the patch centre (row/col 8 of
layer 1, 4 of layer 2, 2 of layer 3). For layer 1 that is the layer's convolution over the
zero-padded scene (the centre is an interior cell); the model is then run on patches tiled 14
apart, whose interior 14 x 14 cells are those same values, so one patch serves 196 pixels.
"""

import math
import os
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from osgeo import gdal

from .. import raster_io
from ..detection.inference import read_model
from ..detection.model_input import open_bands, open_model_input, read_context
from ..detection.patches import PlainEvaluator, padded_block
from ..errors import BandMismatchError, CancelledError, ModelError
from ..grid import iter_windows
from ..raster_io import uses_gdal_exceptions
from ..run import RunContext, context_or_silent
from .feature_report import write_feature_report
from .first_layer import model_runner
from .kernel_file import read_first_layer
from .kernels import build_database, check_layer

BLOCK_SIZE = 256
PIXEL_BATCH = 1024


@dataclass
class MapsResult:
    """What was written: the band descriptions and each band's min, mean and max."""

    path: str
    layer: int
    filters: list
    descriptions: list
    meaning: str
    stats: list = field(default_factory=list)


def band_label(layer: int, filter_number: int) -> str:
    """Return the description of a feature-map band, e.g. 'conv1 filter 03' (from 1)."""
    return f'conv{layer} filter {filter_number:02d}'


def centre_cell(meta, layer: int) -> int:
    """Row/column of conv layer `layer` (1-based) that holds the patch's centre pixel."""
    return meta.padding >> (layer - 1)


def map_meaning(meta, layer: int) -> str:
    """One sentence saying what a band of a layer-`layer` feature map holds."""
    cell = centre_cell(meta, layer)
    text = (f'band = one conv{layer} filter (activation applied, before pooling) at cell '
            f'({cell}, {cell}) of the pixel\'s own {meta.patch_size} x {meta.patch_size} patch, '
            'the cell holding the patch centre')
    if layer == 1:
        return text + '; this is the layer\'s 3x3 convolution over the zero-padded scene'
    return text + ('; it depends on the whole patch around the pixel, so the map is not a '
                   'convolution of the scene')


def select_filters(filters: 'list | None', count: int, layer: int) -> list:
    """Return 0-based indexes of the chosen 1-based filters (all when empty).

    Raises:
        ModelError: if a filter number is outside 1..count.

    """
    chosen = sorted(set(filters or range(1, count + 1)))
    wrong = [f for f in chosen if not 1 <= f <= count]
    if wrong:
        raise ModelError(f'conv{layer} has filters 1 to {count}; {wrong} do not exist')
    return [f - 1 for f in chosen]


def first_layer_maps(run, meta, block: np.ndarray, filters: list) -> np.ndarray:
    """Layer-1 maps of a block read with a 1-pixel halo, from the model's conv1 output.

    The block is cut into patches whose interiors (cells 1..patch-2) tile it; an interior
    cell's 3x3 neighbourhood lies inside the patch, so its conv1 value is the scene's.

    Returns:
        float32 [len(filters), h, w].

    """
    size = meta.patch_size
    inner = size - 2
    bands, height, width = block.shape[0], block.shape[1] - 2, block.shape[2] - 2
    tiles_y, tiles_x = math.ceil(height / inner), math.ceil(width / inner)
    canvas = np.zeros((bands, tiles_y * inner + 2, tiles_x * inner + 2), np.float32)
    canvas[:, :height + 2, :width + 2] = block
    view = np.lib.stride_tricks.sliding_window_view(canvas, (size, size), axis=(1, 2))
    patches = view[:, ::inner, ::inner].transpose(1, 2, 0, 3, 4).reshape(-1, bands, size, size)
    conv = run(np.ascontiguousarray(patches), [meta.feature_outputs[0]])[0]
    cells = conv[:, filters, 1:-1, 1:-1].reshape(tiles_y, tiles_x, len(filters), inner, inner)
    maps = cells.transpose(2, 0, 3, 1, 4).reshape(len(filters), tiles_y * inner, tiles_x * inner)
    return maps[:, :height, :width]


def centre_maps(run, evaluator, layer: int, block: np.ndarray, inside: np.ndarray,
                filters: list) -> np.ndarray:
    """Return layer `layer`'s maps at each valid pixel's own patch centre cell (NaN elsewhere).

    Args:
        run: callable(patches, output_names) -> list of arrays.
        evaluator: a patches.PlainEvaluator of the model, which cuts each pixel's patch.
        layer: conv layer, 1-based.
        block: [bands, h + patch - 1, w + patch - 1] zero-padded, the patch of pixel (r, c)
            being block[:, r:r + patch, c:c + patch].
        inside: [h, w] pixels to compute.
        filters: 0-based filter indexes.

    Returns:
        float32 [len(filters), h, w].

    """
    meta = evaluator.metadata
    cell = centre_cell(meta, layer)
    evaluator.begin_block(block)
    maps = np.full((len(filters),) + inside.shape, np.nan, np.float32)
    rows, cols = np.nonzero(inside)
    for start in range(0, rows.size, PIXEL_BATCH):
        r, c = rows[start:start + PIXEL_BATCH], cols[start:start + PIXEL_BATCH]
        conv = run(evaluator.patches(r, c), [meta.feature_outputs[layer - 1]])[0]
        maps[:, r, c] = conv[:, filters, cell, cell].T
    return maps


def _read_padded(model_input, window, before, after):
    """Return (zero-padded block with `before`/`after` context, valid [h, w] of the window)."""
    data, valid = read_context(model_input, window, before, after)
    inside = valid[before:before + window.height, before:before + window.width]
    return padded_block(data, valid), inside


def convolve3x3(block: np.ndarray, weights: np.ndarray, bias: np.ndarray,
                slope: float) -> np.ndarray:
    """Apply 3x3 kernels [F, bands, 3, 3] + bias [F] to a block with a 1-pixel halo.

    Cross-correlation as in ONNX Conv, then the activation max(v, slope * v) (slope 0 = ReLU).

    Returns:
        float32 [F, h, w].

    """
    height, width = block.shape[1] - 2, block.shape[2] - 2
    total = np.broadcast_to(np.asarray(bias, np.float64)[:, None, None],
                            (len(bias), height, width)).copy()
    for i in range(3):
        for j in range(3):
            total += np.tensordot(weights[:, :, i, j], block[:, i:i + height, j:j + width],
                                  axes=1)
    return np.where(total > 0, total, slope * total).astype(np.float32)


class _Stats:
    """Running min, mean and max of each band, NaN ignored."""

    def __init__(self, bands):
        self.count = np.zeros(bands)
        self.total = np.zeros(bands)
        self.low = np.full(bands, np.inf)
        self.high = np.full(bands, -np.inf)

    def add(self, maps):
        flat = maps.reshape(len(maps), -1)
        finite = np.isfinite(flat)
        self.count += finite.sum(axis=1)
        self.total += np.where(finite, flat, 0).sum(axis=1, dtype=np.float64)
        if finite.any():
            self.low = np.minimum(self.low, np.nanmin(np.where(finite, flat, np.inf), axis=1))
            self.high = np.maximum(self.high, np.nanmax(np.where(finite, flat, -np.inf), axis=1))

    def result(self):
        """[{'min', 'mean', 'max'}] per band; NaN where a band has no value."""
        mean = np.where(self.count > 0, self.total / np.maximum(self.count, 1), np.nan)
        return [{'min': float(lo) if n else math.nan, 'mean': float(m),
                 'max': float(hi) if n else math.nan}
                for n, lo, m, hi in zip(self.count, self.low, mean, self.high)]


def _write_maps(dataset, output_path, labels, metadata, compute, block_size, run_context,
                protected):
    """Write compute(window) -> float32 [len(labels), h, w] block by block; return the stats."""
    width, height = dataset.RasterXSize, dataset.RasterYSize
    windows = list(iter_windows(width, height, block_size, block_size))
    stats = _Stats(len(labels))
    with raster_io.atomic_output(output_path, protected) as temporary:
        output = raster_io.create_geotiff(temporary, width, height, len(labels),
                                          gdal.GDT_Float32, dataset.GetGeoTransform(),
                                          dataset.GetProjection(), nodata=math.nan)
        try:
            output.SetMetadata(metadata)
            for index, label in enumerate(labels, start=1):
                output.GetRasterBand(index).SetDescription(label)
            for done, window in enumerate(windows, start=1):
                if run_context.is_canceled():
                    raise CancelledError('cancelled; no feature map was written')
                maps = compute(window)
                for index, band_map in enumerate(maps, start=1):
                    output.GetRasterBand(index).WriteArray(band_map, window.col, window.row)
                stats.add(maps)
                run_context.progress(100.0 * done / len(windows))
        finally:
            output = None
    return stats.result()


def _model_maps(run, evaluator, model_input, layer, chosen):
    """Return compute(window) -> float32 [len(chosen), h, w] maps of `layer` from the model."""
    meta = evaluator.metadata
    before, after = (1, 1) if layer == 1 else (meta.padding, meta.patch_size - meta.padding - 1)

    def compute(window):
        block, valid = _read_padded(model_input, window, before, after)
        if layer > 1:
            return centre_maps(run, evaluator, layer, block, valid, chosen)
        maps = first_layer_maps(run, meta, block, chosen) if valid.any() else \
            np.empty((len(chosen),) + valid.shape, np.float32)
        maps[:, ~valid] = np.nan
        return maps
    return compute


@dataclass(frozen=True)
class MapOptions:
    """Which maps to write, and how.

    Attributes:
        filters: 1-based filter numbers; empty or None = all.
        block_size: pixels per block side (memory grows with its square).
        report_path: optional HTML report with a contact sheet PNG beside it (feature maps).
    """

    filters: Optional[list] = None
    block_size: int = BLOCK_SIZE
    report_path: Optional[str] = None


@uses_gdal_exceptions
def export_feature_maps(stack_path: str, model_path: str, output_path: str, layer: int,
                        options: Optional[MapOptions] = None,
                        run_context: Optional[RunContext] = None) -> 'MapsResult':
    """Write the chosen filters of conv layer `layer` over the stack's grid (see module doc).

    Args:
        stack_path: raster whose band descriptions name the model's bands (reflectance).
        model_path: the .onnx model.
        output_path: GeoTIFF to write: Float32, one band per filter, NaN at no-data pixels.
        layer: conv layer, 1-based.
        options: MapOptions (filters, block size, report).
        run_context: RunContext (progress per block, cancel between blocks).

    Returns:
        MapsResult.

    Raises:
        ModelError, BandMismatchError, InvalidRasterError, CancelledError.

    """
    meta, session = read_model(model_path)
    check_layer(meta, layer)
    options = options or MapOptions()
    chosen = select_filters(options.filters, meta.filters[layer - 1], layer)
    model_input = open_model_input(stack_path, meta, context_or_silent(run_context).warn)
    run = model_runner(session, meta)
    compute = _model_maps(run, PlainEvaluator(session, meta), model_input, layer, chosen)
    labels = [band_label(layer, f + 1) for f in chosen]
    meaning = map_meaning(meta, layer)
    metadata = {'MODEL_ID': meta.model_id, 'MODEL_VERSION': meta.version, 'LAYER': str(layer),
                'SOURCE': f'ONNX graph output {meta.feature_outputs[layer - 1]}',
                'BAND_MEANING': meaning}
    stats = _write_maps(model_input.dataset, output_path, labels, metadata, compute,
                        options.block_size,
                        context_or_silent(run_context), [stack_path, model_path])
    result = MapsResult(output_path, layer, [f + 1 for f in chosen], labels, meaning, stats)
    if options.report_path:
        summary = build_database(run, meta, layer, model_path)['summary']
        write_feature_report(result, options.report_path, f'{meta.model_id} {meta.version}',
                             {s['filter']: s['strongest'] for s in summary},
                             protected=[stack_path, model_path, output_path])
    return result


@uses_gdal_exceptions
def apply_kernels(stack_path: str, kernel_path: str, output_path: str,
                  options: Optional[MapOptions] = None,
                  run_context: Optional[RunContext] = None) -> 'MapsResult':
    """Convolve a stack with the layer-1 kernels of a kernel database file, without the CNN.

    Uses the reflectance-space kernels and the paper's zero border (no data counts as zero),
    then the file's activation: the result equals the model's own layer-1 feature maps.

    Returns:
        MapsResult (bands 'conv1 filter NN', NaN at no-data pixels).

    Raises:
        KernelFileError, BandMismatchError, InvalidRasterError, ModelError (bad filter),
        CancelledError.

    """
    kernels = read_first_layer(kernel_path)
    options = options or MapOptions()
    chosen = select_filters(options.filters, len(kernels['bias']), 1)
    try:
        model_input = open_bands(stack_path, kernels['bands'], context_or_silent(run_context).warn)
    except BandMismatchError as error:
        raise BandMismatchError(f'the kernel file {os.path.basename(kernel_path)} is for other '
                                f'bands: {error}') from error
    weights, bias = kernels['weights'][chosen], kernels['bias'][chosen]
    slope = kernels['activation']['negative_slope']

    def compute(window):
        block, valid = _read_padded(model_input, window, 1, 1)
        maps = convolve3x3(block, weights, bias, slope)
        maps[:, ~valid] = np.nan
        return maps

    labels = [band_label(1, f + 1) for f in chosen]
    meaning = ('band = the layer-1 kernels of the file (reflectance space, zero border) and its '
               f'activation {kernels["activation"]["name"]}, applied to the stack')
    metadata = {'MODEL_ID': kernels['model_id'], 'LAYER': '1', 'BAND_MEANING': meaning,
                'SOURCE': f'kernel database {kernel_path}'}
    stats = _write_maps(model_input.dataset, output_path, labels, metadata, compute,
                        options.block_size,
                        context_or_silent(run_context), [stack_path, kernel_path])
    return MapsResult(output_path, 1, [f + 1 for f in chosen], labels, meaning, stats)
