"""Cloud detection: a raster or L1C product in, a cloud mask (and probability) on its grid out."""

import collections
import contextlib
import copy
import os
import queue
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from osgeo import gdal

from .. import outputs, raster_io
from ..errors import CancelledError, InvalidRasterError, NoValidDataError, OutputPathError
from ..grid import Window, iter_windows, reproject_box, window_transform
from ..raster_io import bounds_block_cache, uses_gdal_exceptions
from ..run import RunContext, context_or_silent
from ..sentinel2.angles import product_angles
from ..sentinel2.product import open_product
from ..sentinel2.stack import StackOptions, stack_l1c
from ..shadows import scipy_ndimage
from ..shadows.mask import CloudShadowResult, write_cloud_shadow_mask
from .fast_path import (
    FirstLayerProbe,
    SharedConvEvaluator,
    SharedConvUnavailable,
    build_shared_conv_evaluator,
)
from .inference import CPU_PROVIDER, load_model, open_session
from .model_input import extent_window, open_model_input, read_context
from .patches import PlainEvaluator, padded_block
from .second_layer import SecondLayerEvaluator, build_second_layer_evaluator

MASK_CLEAR, MASK_CLOUD, MASK_NODATA = 0, 1, 255
# Pixels per onnxruntime call when batch_size is 0: small batches keep a one-thread CPU run in
# cache (256: 4.1-4.4 us per pixel, 1024: 5.9, 2048: 6.4 measured); a GPU wants large ones.
CPU_BATCH_SIZE, GPU_BATCH_SIZE = 256, 8192
BLOCK_SIZE = 256
PRODUCT_SUFFIXES = ('.zip', '.xml', '.safe')
_STACK_SHARE = 0.4  # share of the progress bar given to stacking a product
_SHADOW_SHARE = 0.1  # share given to the cloud and shadow mask


@dataclass
class DetectOptions:
    """How to run detection; every field has a sensible default."""

    probability_path: Optional[str] = None
    threshold: Optional[float] = None  # None: the model's own threshold
    provider: str = 'auto'  # 'auto', 'cpu' or 'cuda'
    batch_size: int = 0  # pixels per onnxruntime call; 0 = 256 on the CPU, 8192 on a GPU
    io_binding: Optional[bool] = None  # onnxruntime IOBinding; None: only on CUDA
    extent: Optional[tuple] = None  # (xmin, ymin, xmax, ymax)
    extent_crs: Optional[str] = None  # WKT or 'EPSG:n'; None: the raster's CRS
    native_resolution: Optional[int] = None  # 10 or 20: also write the mask on that grid
    native_mask_path: Optional[str] = None
    shared_conv: bool = True  # False forces the plain one-patch-per-pixel path
    shared_second_layer: bool = True  # False shares the first conv layer only (benchmarks)
    # Reads the first layer of a model whose metadata lacks it (schema 1, custom models), e.g.
    # inspection.first_layer.probe_conv1; None: such a model takes the plain path.
    first_layer_probe: Optional[FirstLayerProbe] = None
    workers: int = 0  # blocks evaluated at once on the CPU; 0 = one per core
    threads: int = 1  # onnxruntime threads per block; 0 = all cores
    block_size: int = BLOCK_SIZE
    cloud_shadow_path: Optional[str] = None  # also write 0 clear, 1 cloud, 2 shadow, 255
    dilation: int = 0  # pixels by which cloud and shadow grow in the cloud and shadow mask
    metadata: dict = field(default_factory=dict)  # more items for the mask's and P's metadata


@dataclass
class DetectionResult:
    """What detect_clouds wrote and how it ran."""

    mask_path: str
    probability_path: Optional[str]
    native_mask_path: Optional[str]
    model_id: str
    threshold: float
    provider: str
    provider_note: str
    fast_path: bool
    valid_pixels: int
    cloud_pixels: int
    seconds: float
    notes: list = field(default_factory=list)
    cloud_shadow: Optional[CloudShadowResult] = None
    pixels: int = 0  # of the output grid, valid or not

    @property
    def valid_fraction(self):
        """Share of the output grid's pixels that are valid."""
        return self.valid_pixels / self.pixels if self.pixels else 0.0

    @property
    def cloud_fraction(self):
        """Share of valid pixels flagged as cloud."""
        return self.cloud_pixels / self.valid_pixels if self.valid_pixels else 0.0


def is_product(path: str) -> bool:
    """Whether `path` is an L1C product (SAFE folder or zip, MTD xml) rather than a raster."""
    return os.path.isdir(path) or path.lower().endswith(PRODUCT_SUFFIXES)


@uses_gdal_exceptions
@bounds_block_cache
def detect_clouds(source: str, mask_path: str, model_path: str,
                  options: 'DetectOptions | None' = None,
                  run_context: 'RunContext | None' = None) -> 'DetectionResult':
    """Detect clouds in `source` with the ONNX model at `model_path`.

    The model's metadata is checked before anything is read. Each pixel is classified from
    the 16 x 16 patch around it (zero outside the image and at no-data pixels), so the mask
    has the input's grid; no-data pixels are not inferred and stay no data (255 / NaN).

    Args:
        source: a raster with the model's bands (matched by band description), or an L1C
            product (SAFE folder or zip, MTD xml), stacked to a temporary 60 m raster first.
        mask_path: Byte GeoTIFF to write: 0 clear, 1 cloud, 255 no data.
            With options.cloud_shadow_path (products only) the cloud and shadow mask is
            written too (shadows.mask), from the product's sun and view angles.
        model_path: the .onnx model.
        options: DetectOptions.
        run_context: RunContext: progress after each block, cancel checked between batches,
            log for what a user should read (provider, fallbacks), warn for a problem the
            user asked to avoid (CUDA requested but not usable).

    Returns:
        DetectionResult.

    Raises:
        ModelError, BandMismatchError, InvalidRasterError, InvalidProductError, ExtentError,
        NoValidDataError, DependencyMissingError, CancelledError, OutputPathError; nothing
        is written then.

    """
    options = options or DetectOptions()
    run_context = context_or_silent(run_context)
    progress, is_canceled = run_context.progress, run_context.is_canceled
    log, warn, started = run_context.log, run_context.warn, time.perf_counter()
    _check_shadow_input(source, mask_path, options)
    model = load_model(model_path)
    metadata = model.metadata
    threshold = metadata.threshold if options.threshold is None else float(options.threshold)
    with tempfile.TemporaryDirectory(prefix='s2cloudcnn-') as scratch:
        raster, notes, angles = _raster_of(source, scratch, options, progress, is_canceled)
        start = _STACK_SHARE * 100 if raster != source else 0.0
        model_input = open_model_input(raster, metadata, warn)
        window = extent_window(model_input, _extent_in(options, model_input.projection))
        evaluator = _evaluator(model, options, log)
        _report_provider(evaluator, options.provider, log, warn)

        end = 100 * (1 - _SHADOW_SHARE) if angles else 100.0

        def step(percent):
            progress(start + percent * (end - start) / 100)

        counts = _write_outputs(model_input, window, evaluator, threshold, mask_path, options,
                                step, is_canceled, protected=(source, raster))
        model_input.dataset = None
        shadows = _cloud_shadow_mask(raster, mask_path, angles, options,
                                     run_context.within(end, 100)) if angles else None
    native = _native_mask(mask_path, options) if options.native_resolution else None
    return DetectionResult(
        mask_path, options.probability_path, native, metadata.model_id, threshold,
        evaluator.provider, evaluator.session.note, isinstance(evaluator, SharedConvEvaluator),
        counts[0], counts[1], time.perf_counter() - started, notes, shadows, counts[2])


def _check_shadow_input(source, mask_path, options):
    """Refuse a cloud and shadow mask that cannot be made, before any work.

    A plain raster carries no sun or view angles; the mask must not overwrite another output
    or the input; scipy must be there.
    """
    if not options.cloud_shadow_path:
        return
    if not is_product(source):
        raise InvalidRasterError(
            f'{os.path.basename(source)} is a raster without sun and view angles, which the '
            'cloud and shadow mask needs: give the Sentinel-2 L1C product (SAFE folder, .zip '
            'or MTD_MSIL1C.xml) instead, or leave the cloud and shadow mask empty')
    others = [p for p in (source, mask_path, options.probability_path) if p]
    if os.path.abspath(options.cloud_shadow_path) in {os.path.abspath(p) for p in others}:
        raise OutputPathError(f'the cloud and shadow mask {options.cloud_shadow_path} is also '
                              'the input or another output; choose another file')
    scipy_ndimage()


def _raster_of(source, scratch, options, progress, is_canceled):
    """Return (raster path, notes, angles) of `source`.

    A raster is used as it is (no angles); a product is stacked to 60 m in `scratch`, and its
    ProductAngles are read first when a cloud and shadow mask is asked for.
    """
    if not is_product(source):
        return source, [], None
    product = open_product(source)
    epsg = product.choose_epsg(None)
    angles = product_angles(product, epsg) if options.cloud_shadow_path else None
    extent = _extent_in(options, f'EPSG:{epsg}')
    result = stack_l1c(product, os.path.join(scratch, 'stack.tif'), StackOptions(extent=extent),
                       RunContext(lambda p: progress(p * _STACK_SHARE), is_canceled))
    return result.path, list(result.notes), angles


def _cloud_shadow_mask(raster, mask_path, angles, options, run_context):
    """Write the cloud and shadow mask; on failure remove the cloud mask just written too."""
    try:
        return write_cloud_shadow_mask(raster, mask_path, options.cloud_shadow_path, angles.at,
                                       options.dilation, run_context)
    except BaseException:
        for path in (mask_path, options.probability_path):
            with contextlib.suppress(FileNotFoundError, TypeError):
                os.remove(path)
        raise


def _extent_in(options, projection):
    """Return options.extent in the CRS `projection` (bounding box of its corners)."""
    if options.extent is None or not options.extent_crs:
        return options.extent
    return reproject_box(options.extent, options.extent_crs, projection)


def _evaluator(model, options, log):
    """Return the fastest exact evaluator the model allows: two, one or no shared layers."""
    if options.shared_conv and options.shared_second_layer:
        try:
            return build_second_layer_evaluator(model, options.provider, options.threads,
                                                options.first_layer_probe, options.io_binding)
        except SharedConvUnavailable as error:
            log(f'Second-layer fast path not used ({error}): only the first conv layer is '
                'shared.')
    if options.shared_conv:
        try:
            return build_shared_conv_evaluator(model, options.provider, options.threads,
                                               options.first_layer_probe, options.io_binding)
        except SharedConvUnavailable as error:
            log(f'Fast path not used ({error}): every patch runs through the whole model.')
    reuse = options.provider == 'cpu' and not options.threads and not options.io_binding
    session = model.cpu_session if reuse else open_session(
        model.model_bytes, options.provider, options.threads, model.path, options.io_binding)
    return PlainEvaluator(session, model.metadata)


def _report_provider(evaluator, requested, log, warn):
    """Say which execution provider runs, and why CUDA does not when it was wanted."""
    layers = 'first two conv layers' if isinstance(evaluator, SecondLayerEvaluator) else (
        'first conv layer')
    how = (f'{layers} shared between patches; first layer {evaluator.first_layer_source}'
           if isinstance(evaluator, SharedConvEvaluator) else 'whole model per patch')
    binding = ', through onnxruntime IOBinding' if evaluator.session.io_binding else ''
    log(f'Execution provider: {evaluator.provider} ({how}{binding}).')
    if evaluator.session.note:
        (warn if requested == 'cuda' else log)(f'CUDA not used: {evaluator.session.note}')


def _write_outputs(model_input, window, evaluator, threshold, mask_path, options, progress,
                   is_canceled, protected):
    """Create the outputs, fill them block by block; return (valid, cloud, all pixels)."""
    transform = window_transform(model_input.geotransform, window)
    with contextlib.ExitStack() as stack:
        mask_file = stack.enter_context(raster_io.atomic_output(mask_path, protected))
        paths = [(mask_file, gdal.GDT_Byte, MASK_NODATA)]
        if options.probability_path:
            paths.append((stack.enter_context(raster_io.atomic_output(
                options.probability_path, protected)), gdal.GDT_Float32, float('nan')))
        datasets = [raster_io.create_geotiff(path, window.width, window.height, 1, kind,
                                             transform, model_input.projection, nodata=nodata)
                    for path, kind, nodata in paths]
        try:
            counts = _fill(model_input, window, evaluator, threshold, datasets, options,
                           progress, is_canceled)
            if counts[0] == 0:
                raise NoValidDataError(
                    f'{os.path.basename(model_input.path)} has no valid pixel (every band must '
                    'be finite and not no data) in the requested area; choose another extent')
            counts = (*counts, window.width * window.height)
            _describe(datasets, evaluator, threshold, counts, options.metadata)
        finally:
            datasets.clear()  # closes the files before atomic_output moves or removes them
    return counts


def _fill(model_input, window, evaluator, threshold, datasets, options, progress, is_canceled):
    """Detect block by block and write each block; return (valid pixels, cloud pixels).

    The main thread reads and writes (GDAL datasets are not shared between threads); worker
    threads evaluate blocks, each with its own copy of the evaluator's per-block state.
    """
    size, pad = evaluator.metadata.patch_size, evaluator.metadata.padding
    blocks = list(iter_windows(window.width, window.height, options.block_size,
                               options.block_size))
    on_cpu = evaluator.provider == CPU_PROVIDER
    workers = _worker_count(options, on_cpu)
    batch_size = options.batch_size or (CPU_BATCH_SIZE if on_cpu else GPU_BATCH_SIZE)
    idle = queue.SimpleQueue()
    for _ in range(workers):
        idle.put(copy.copy(evaluator))
    totals, pending = [0, 0], collections.deque()
    with ThreadPoolExecutor(workers) as pool:
        for number, local in enumerate(blocks, start=1):
            if is_canceled():
                raise CancelledError('cancelled; no output was written')
            block = Window(window.col + local.col, window.row + local.row, local.width,
                           local.height)
            data, valid = read_context(model_input, block, pad, size - pad - 1)
            pending.append((number, local, pool.submit(
                _block_probability, idle, data, valid, (pad, size - pad - 1), batch_size,
                is_canceled)))
            while pending and (len(pending) > workers or number == len(blocks)):
                done, where, future = pending.popleft()
                _write_block(datasets, where, *future.result(), threshold, totals)
                progress(100.0 * done / len(blocks))
    return tuple(totals)


def _worker_count(options, on_cpu):
    """Blocks evaluated at once: one per CPU core on the CPU (see DetectOptions.workers)."""
    if not on_cpu:
        return 1  # one GPU stream; batches are large enough to keep it busy
    return options.workers or os.cpu_count() or 1


def _block_probability(idle, data, valid, context, batch_size, is_canceled):
    """Return (valid mask, P(cloud) with NaN at no data) of one block's output pixels.

    `context` = (pixels before, pixels after) the block in `data` and `valid`.
    """
    before, after = context
    inside = valid[before:valid.shape[0] - after, before:valid.shape[1] - after]
    probability = np.full(inside.shape, np.nan, np.float32)
    if inside.any():
        evaluator = idle.get()
        try:
            evaluator.begin_block(padded_block(data, valid))
            rows, cols = np.nonzero(inside)
            probability[rows, cols] = _run_batches(evaluator, rows, cols, batch_size,
                                                   is_canceled)
        finally:
            idle.put(evaluator)
    return inside, probability


def _write_block(datasets, where, inside, probability, threshold, totals):
    """Write one block of mask (and probability); add its valid and cloud pixels to totals."""
    mask = np.where(inside, probability >= threshold, MASK_NODATA).astype(np.uint8)
    totals[0] += int(inside.sum())
    totals[1] += int((mask == MASK_CLOUD).sum())
    for dataset, values in zip(datasets, (mask, probability)):
        dataset.GetRasterBand(1).WriteArray(values, where.col, where.row)


def _run_batches(evaluator, rows, cols, batch_size, is_canceled):
    """Evaluate the pixels in batches of `batch_size`, checking for cancel between batches."""
    result = np.empty(len(rows), np.float32)
    for start in range(0, len(rows), batch_size):
        if is_canceled():
            raise CancelledError('cancelled; no output was written')
        end = start + batch_size
        result[start:end] = evaluator.probabilities(rows[start:end], cols[start:end])
    return result


def _describe(datasets, evaluator, threshold, counts, extra):
    (valid, cloud, pixels), meta = counts, evaluator.metadata
    # repr: the fractions read back from the file equal the ones computed (a resumed job).
    items = {'MODEL_ID': meta.model_id, 'MODEL_VERSION': meta.version,
             'THRESHOLD': f'{threshold:g}', 'EXECUTION_PROVIDER': evaluator.provider,
             'VALID_FRACTION': repr(valid / pixels), 'CLOUD_FRACTION': repr(cloud / valid),
             **extra}
    names = ('cloud mask (0 clear, 1 cloud, 255 no data)', 'cloud probability')
    for dataset, name in zip(datasets, names):
        dataset.GetRasterBand(1).SetDescription(name)
        for key, value in items.items():
            dataset.SetMetadataItem(key, str(value))


def _native_mask(mask_path, options):
    """Write the mask again on the product's 10 m or 20 m grid (nearest neighbour)."""
    resolution = options.native_resolution
    path = options.native_mask_path or f'{os.path.splitext(mask_path)[0]}_{resolution}m.tif'
    with raster_io.atomic_output(path, protected=(mask_path,)) as temporary:
        gdal.Warp(temporary, outputs.readable(mask_path), xRes=resolution, yRes=resolution,
                  resampleAlg='near', targetAlignedPixels=False,
                  creationOptions=list(raster_io.GEOTIFF_OPTIONS))
    return path

