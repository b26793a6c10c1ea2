"""Cloud detection over many L1C products: one row per product, failures recorded, resumable."""

import hashlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass
from typing import Optional

from osgeo import gdal, ogr

from .. import raster_io
from ..detection.detect import DetectOptions, detect_clouds
from ..detection.fast_path import FirstLayerProbe
from ..detection.inference import read_model
from ..errors import CancelledError, OutputPathError, S2CloudCnnError
from ..raster_io import uses_gdal_exceptions
from ..run import RunContext, context_or_silent
from ..sentinel2.product import open_product

DONE, SKIPPED, FAILED = 'done', 'skipped', 'failed'
# Metadata item of every mask and probability: the model and settings that made it.
SETTINGS_KEY = 'S2CLOUDCNN_JOB_SETTINGS'
_PRODUCT_KEYS = {'product_id': 'PRODUCT_ID', 'sensing_time': 'SENSING_TIME', 'tile': 'TILE'}
_TILE = re.compile(r'(?:^|_)T(\d{2}[A-Z]{3})_')
_SUFFIXES = ('.safe.zip', '.zip', '.safe')
_MTD = re.compile(r'^(MTD_MSIL[12][AC]\.xml|S2[A-D]_OPER_MTD_SAFL[12][AC]_.*\.xml)$', re.I)


@dataclass(frozen=True)
class JobSettings:
    """What every product of a job is run with.

    Attributes:
        model_path: the .onnx model.
        threshold: cloud if P >= threshold; None: the model's own.
        probability: also write each product's P(cloud) raster.
        provider: 'auto', 'cpu' or 'cuda' (not part of the settings a resume compares).
        cores: CPU cores one product may use (blocks at once, GDAL threads); 0 = all.
        first_layer_probe: DetectOptions.first_layer_probe (for models whose metadata does
            not state the first layer).

    """

    model_path: str
    threshold: Optional[float] = None
    probability: bool = False
    provider: str = 'auto'
    cores: int = 0
    first_layer_probe: Optional[FirstLayerProbe] = None


@dataclass
class ProductRow:
    """One product's line of the job table."""

    product: str
    product_id: str = ''
    sensing_time: str = ''
    tile: str = ''
    valid_fraction: Optional[float] = None
    cloud_fraction: Optional[float] = None
    seconds: float = 0.0
    status: str = FAILED
    error: str = ''
    mask: str = ''
    probability: str = ''


COLUMNS = tuple(ProductRow.__dataclass_fields__)
FLOAT_COLUMNS = ('valid_fraction', 'cloud_fraction', 'seconds')


def find_products(sources: list, recursive: bool = False) -> list:
    """Return the products named in `sources`, in order, each once.

    Args:
        sources: product paths (SAFE folder or zip, MTD xml) and folders of products.
        recursive: also look for products in the sub-folders of a folder.

    Returns:
        list of paths; a folder contributes every .zip, every .SAFE folder and every folder
        holding product metadata in it (L2A and damaged ones too: the job reports them).

    """
    found = []
    for source in sources:
        source = os.path.abspath(str(source))
        found += _products_in(source, recursive) if _is_folder_of_products(source) else [source]
    return list(dict.fromkeys(found))


def _is_folder_of_products(path):
    return os.path.isdir(path) and not _is_product(path)


def _is_product(path):
    if os.path.isdir(path):
        return path.lower().endswith('.safe') or any(_MTD.match(n) for n in os.listdir(path))
    return path.lower().endswith('.zip')


def _products_in(folder, recursive):
    found = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if _is_product(path):
            found.append(path)
        elif recursive and os.path.isdir(path):
            found += _products_in(path, recursive)
    return found


def output_name(product: str) -> str:
    """Return the name a product's outputs start with: its SAFE name (the ESA product id)."""
    path = product.rstrip('/\\')
    if path.lower().endswith('.xml'):
        path = os.path.dirname(path)
    name = os.path.basename(path)
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix):
            return name[:-len(suffix)]
    return name


def name_clashes(products):
    """Return {product: why it is not run} for products named like an earlier one."""
    first, clashes = {}, {}
    for product in products:
        name = output_name(product)
        if name in first:
            clashes[product] = (f'its outputs would be named like those of {first[name]} '
                                f'({name}): give only one copy of a product')
        first.setdefault(name, product)
    return clashes


def output_paths(product: str, folder: str) -> tuple:
    """Return (mask, probability) paths of `product` in the output `folder`."""
    stem = os.path.join(folder, output_name(product))
    return f'{stem}_cloudmask.tif', f'{stem}_probability.tif'


def settings_record(settings: JobSettings, metadata) -> str:
    """Return the text stored in the outputs: what makes two runs' masks the same."""
    with open(settings.model_path, 'rb') as stream:
        digest = hashlib.sha256(stream.read()).hexdigest()
    threshold = metadata.threshold if settings.threshold is None else float(settings.threshold)
    return json.dumps({'model_id': metadata.model_id, 'model_version': metadata.version,
                       'model_sha256': digest, 'threshold': threshold}, sort_keys=True)


@uses_gdal_exceptions
def run_job(products: list, folder: str, settings: JobSettings,
            run_context: 'RunContext | None' = None) -> list:
    """Detect clouds in every product, one after the other; return one ProductRow each.

    A product that fails is recorded with its error and the job goes on; a product whose
    outputs already exist with the same model and settings is skipped. Progress runs over
    the whole job; each finished product is logged.

    Raises:
        ModelError, DependencyMissingError: before any product, if the model cannot run.
        OutputPathError: if `folder` cannot be created.
        CancelledError: on cancel (between products or inside one); finished products'
            outputs are kept, the one in progress leaves nothing.

    """
    run_context = context_or_silent(run_context)
    record = prepare_job(folder, settings)
    clashes, rows, share = name_clashes(products), [], 100.0 / max(1, len(products))
    for index, product in enumerate(products):
        if run_context.is_canceled():
            raise _cancelled(index, len(products))
        # The product's own log lines (provider, fallbacks) would repeat for every product.
        quiet = RunContext(run_context.progress, run_context.is_canceled).within(
            index * share, (index + 1) * share)
        try:
            row = (ProductRow(product, error=clashes[product]) if product in clashes else
                   run_product(product, folder, settings, record, quiet))
        except CancelledError as error:
            raise _cancelled(index, len(products)) from error
        run_context.log(describe_row(row))
        run_context.progress((index + 1) * share)
        rows.append(row)
    return rows


def prepare_job(folder: str, settings: JobSettings) -> str:
    """Check the model and the output folder once; return the settings record."""
    metadata, _session = read_model(settings.model_path)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise OutputPathError(f'cannot create the output folder {folder} ({error}); '
                              f'choose a folder you can write to') from error
    return settings_record(settings, metadata)


def _cancelled(done, total):
    return CancelledError(f'cancelled after {done} of {total} products; the finished products\' '
                          f'outputs are kept: run the job again to resume')


@uses_gdal_exceptions
def run_product(product: str, folder: str, settings: JobSettings, record: str,
                run_context: 'RunContext | None' = None) -> ProductRow:
    """Detect clouds in one product; return its ProductRow (failures included).

    `record` is prepare_job's: the settings a finished product's outputs must hold to be
    skipped.

    Raises:
        CancelledError: on cancel; the product's outputs are not written.

    """
    started = time.perf_counter()
    mask, probability = output_paths(product, folder)
    row = ProductRow(product, mask=mask, probability=probability if settings.probability else '')
    try:
        if _already_done(row, record):
            row.status = SKIPPED
        else:
            _detect(product, row, settings, record, run_context)
            row.status = DONE
    except CancelledError:
        raise
    except Exception as error:  # noqa: BLE001 - one bad product must not stop an archive job
        row.status, row.error = FAILED, error_message(error)
        row.mask = row.probability = ''
    row.seconds = round(time.perf_counter() - started, 3)
    return row


def error_message(error: BaseException) -> str:
    """Return the table's text for an error: the core's own message, else type and text."""
    if isinstance(error, S2CloudCnnError):
        return str(error)
    return f'{type(error).__name__}: {error}'


def _detect(product, row, settings, record, run_context):
    described = open_product(product)
    row.product_id, row.sensing_time = described.product_id, described.sensing_time
    row.tile = product_tiles(described)
    cores = settings.cores or os.cpu_count() or 1
    options = DetectOptions(
        probability_path=row.probability or None, threshold=settings.threshold,
        provider=settings.provider, workers=cores,
        first_layer_probe=settings.first_layer_probe,
        metadata={SETTINGS_KEY: record, **{key: getattr(row, attr)
                                            for attr, key in _PRODUCT_KEYS.items()}})
    result = detect_clouds(product, row.mask, settings.model_path, options, run_context)
    row.valid_fraction = result.valid_fraction
    row.cloud_fraction = result.cloud_fraction


def product_tiles(product) -> str:
    """Return the product's MGRS tile(s), e.g. '32UPV', read from its band file names."""
    paths = [p for bands in product.band_files.values() for files in bands.values() for p in files]
    return ','.join(sorted({m.group(1) for p in paths for m in [_TILE.search(
        os.path.basename(p))] if m}))


def _already_done(row, record):
    """Whether row's outputs exist and were made with `record`; fill row from them if so."""
    paths = [row.mask] + ([row.probability] if row.probability else [])
    if not all(os.path.isfile(p) for p in paths):
        return False
    items = [gdal.Info(p, format='json').get('metadata', {}).get('', {}) for p in paths]
    if any(i.get(SETTINGS_KEY) != record for i in items):
        return False
    for attr, key in _PRODUCT_KEYS.items():
        setattr(row, attr, items[0].get(key, ''))
    row.valid_fraction = float(items[0]['VALID_FRACTION'])
    row.cloud_fraction = float(items[0]['CLOUD_FRACTION'])
    return True


def describe_row(row: 'ProductRow') -> str:
    """Return one line for the log: product, status and what came out."""
    name = output_name(row.product)
    if row.status == FAILED:
        return f'{name}: failed: {row.error}'
    return (f'{name}: {row.status}, {row.cloud_fraction:.1%} cloud of '
            f'{row.valid_fraction:.1%} valid pixels, {row.seconds:.1f} s')


@uses_gdal_exceptions
def write_table(rows: list, path: str) -> None:
    """Write the job table as CSV or GeoPackage (by the extension of `path`), atomically."""
    driver = 'GPKG' if path.lower().endswith('.gpkg') else 'CSV'
    with raster_io.atomic_output(path) as temporary:
        source = ogr.GetDriverByName(driver).CreateDataSource(temporary)
        layer = source.CreateLayer(os.path.splitext(os.path.basename(path))[0],
                                   geom_type=ogr.wkbNone)
        for column in COLUMNS:
            kind = ogr.OFTReal if column in FLOAT_COLUMNS else ogr.OFTString
            layer.CreateField(ogr.FieldDefn(column, kind))
        for row in rows:
            feature = ogr.Feature(layer.GetLayerDefn())
            for column, value in asdict(row).items():
                if value is not None:
                    feature.SetField(column, value)
            layer.CreateFeature(feature)
        source = layer = None
