"""Build a cloud reference from a 13-band stack (or an L1C product) and seed polygons."""

import contextlib
import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from osgeo import gdal

from .. import html, raster_io
from ..detection.detect import is_product
from ..detection.model_input import open_bands, read_context
from ..errors import OutputPathError
from ..grid import Window
from ..raster_io import uses_gdal_exceptions
from ..run import RunContext, context_or_silent
from ..sentinel2.bands import L1C_BANDS
from ..sentinel2.stack import stack_l1c
from .classes import ALL_NAMES, CLASS_NAMES, NO_DATA, PALETTE
from .forest import ReferenceOptions, classify
from .seeds import SeedPolygons, check_seeds, rasterize_seeds

_STACK_SHARE = 0.3  # share of the progress bar given to stacking a product


@dataclass(frozen=True)
class ReferenceOutputs:
    """Where to write: the reference (required), the vote margin and the HTML report."""

    reference: str
    margin: Optional[str] = None
    report: Optional[str] = None


@dataclass
class ReferenceResult:
    """What a build wrote and what its report says."""

    outputs: ReferenceOutputs
    seed_pixels: dict
    class_pixels: dict
    oob_accuracy: float
    rule_pixels: dict
    options: ReferenceOptions
    seconds: float
    feature_names: list = field(default_factory=list)


@uses_gdal_exceptions
def build_reference(source: str, seeds: SeedPolygons, outputs: ReferenceOutputs,
                    options: Optional[ReferenceOptions] = None,
                    run_context: Optional[RunContext] = None) -> ReferenceResult:
    """Classify every valid pixel of `source` from seed polygons the ALCD way.

    Args:
        source: a raster with the 13 L1C bands (found by band description; integer rasters
            are reflectance x 10000), or an L1C product, stacked to a temporary 60 m raster.
        seeds: SeedPolygons (class code or name per polygon; any CRS GDAL knows).
        outputs: ReferenceOutputs. The reference is Byte in ALCD codes (0 no data, 1 not used,
            2..7); the margin Float32 (NaN no data).
        options: ReferenceOptions.
        run_context: RunContext.

    Raises:
        SeedError, BandMismatchError, InvalidRasterError, InvalidProductError,
        DependencyMissingError, CancelledError, OutputPathError; nothing is written then.

    """
    options = options or ReferenceOptions()
    run_context = context_or_silent(run_context)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix='s2cloudcnn-reference-') as scratch:
        raster = source
        if is_product(source):
            raster = stack_l1c(source, os.path.join(scratch, 'stack.tif'),
                               run_context=run_context.within(0, 100 * _STACK_SHARE)).path
        stage = run_context.within(100 * _STACK_SHARE if raster != source else 0, 100)
        image = open_bands(raster, L1C_BANDS, run_context.warn)
        reflectance, valid = read_context(image, Window(0, 0, image.width, image.height), 0, 0)
        reflectance[:, ~valid] = np.nan
        burned = rasterize_seeds(seeds, image.geotransform, image.projection, valid)
        seed_pixels = check_seeds(burned, options.min_seed_pixels)
        forest = classify(reflectance, burned, options, stage)
        class_pixels = {code: int((forest.classes == code).sum()) for code in ALL_NAMES}
        result = ReferenceResult(outputs, seed_pixels, class_pixels, forest.oob_accuracy,
                                 forest.rule_pixels, options, time.perf_counter() - started,
                                 forest.feature_names)
        _write_outputs(result, forest, image, protected=(source, raster))
    return result


def _write_outputs(result, forest, image, protected):
    """Write the rasters and the report; all of them appear only once every one is written."""
    outputs = result.outputs
    layers = [(outputs.reference, forest.classes, gdal.GDT_Byte, NO_DATA)]
    if outputs.margin:
        layers.append((outputs.margin, forest.margin, gdal.GDT_Float32, float('nan')))
    paths = [path for path in (outputs.reference, outputs.margin, outputs.report) if path]
    if len(set(map(os.path.abspath, paths))) < len(paths):
        raise OutputPathError('two outputs share one file name; give each its own file')
    with contextlib.ExitStack() as stack:
        for path, values, data_type, nodata in layers:
            temporary = stack.enter_context(raster_io.atomic_output(path, protected))
            dataset = raster_io.create_geotiff(temporary, image.width, image.height, 1,
                                               data_type, image.geotransform, image.projection,
                                               nodata=nodata)
            dataset.GetRasterBand(1).WriteArray(values)
            dataset = None
        if outputs.report:
            temporary = stack.enter_context(raster_io.atomic_output(outputs.report, protected))
            with open(temporary, 'w', encoding='utf-8') as stream:
                stream.write(reference_html(result))


def reference_html(result: ReferenceResult) -> str:
    """The HTML report of one build: seeds, out-of-bag accuracy, pixel counts, rules."""
    options = result.options
    legend = ''.join(f'<span class="swatch" style="background:{PALETTE[c]}"></span> {c} '
                     f'{html.esc(n)} &nbsp; ' for c, n in ALL_NAMES.items())
    total = sum(result.class_pixels.values()) or 1
    sections = [
        '<p>ALCD method (Baetens et al. 2019): a random forest trained on the seed pixels '
        'classifies every valid pixel; uncertain pixels and cloud/clear edges become 1 (not '
        'used). Look at the map and the vote margin, add seeds where they are wrong or low, '
        'run again.</p>',
        f'<p>{legend}</p>',
        '<h2>Seeds</h2>' + html.table(
            ('class', 'seed pixels'), [(f'{c} {CLASS_NAMES[c]}', f'{n:,}')
                                       for c, n in result.seed_pixels.items()]),
        f'<h2>Forest</h2><p>{options.trees} trees, class-balanced, at most '
        f'{options.max_samples_per_class:,} seed pixels per class, features: '
        f'{html.esc(", ".join(result.feature_names))}.</p>'
        f'<p>Out-of-bag accuracy on the seed pixels: <b>{html.fmt(result.oob_accuracy)}</b> '
        '(optimistic: pixels of one polygon are alike; it says whether the seeds are '
        'consistent, not how good the map is).</p>',
        '<h2>Reference pixels per class</h2>' + html.table(
            ('class', 'pixels', 'share'),
            [(f'{c} {n}', f'{result.class_pixels[c]:,}',
              f'{100 * result.class_pixels[c] / total:.2f} %') for c, n in ALL_NAMES.items()]),
        '<h2>Rules (pixels set to 1, not used)</h2>' + html.table(
            ('rule', 'pixels'), [(k, f'{v:,}') for k, v in result.rule_pixels.items()]),
        f'<p>Built in {result.seconds:.1f} s.</p>']
    return html.page('Cloud reference (ALCD method)', sections)
