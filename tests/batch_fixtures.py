"""A small archive of real L1C products for the many-products job: two good, two bad."""

import os
import shutil

import numpy as np
from l1c_fixtures import TOULOUSE, TOULOUSE_B, rezip
from osgeo import gdal

from algorithms.core.detection.detect import DetectOptions, detect_clouds
from algorithms.support.paths import bundled_model_path

MODEL = bundled_model_path('s2cloudcnn-l1c13')
GOOD = {os.path.basename(p)[:-len('.SAFE.zip')]: p for p in (TOULOUSE, TOULOUSE_B)}
DAMAGED, L2A = 'truncated.SAFE.zip', 'S2A_MSIL2A_20240120T105341_N0510_R051_T31TCJ_x.SAFE.zip'


def make_archive(folder):
    """Fill `folder`: the Toulouse A product, a truncated zip, an L2A product at the top, the
    Toulouse B product in a sub-folder; return {output name: product path}."""
    os.makedirs(os.path.join(folder, '2024-03'))
    paths = {}
    for name, source in GOOD.items():
        where = folder if source == TOULOUSE else os.path.join(folder, '2024-03')
        paths[name] = shutil.copy(source, where)
    with open(TOULOUSE, 'rb') as product, open(os.path.join(folder, DAMAGED), 'wb') as copy:
        copy.write(product.read()[:50000])
    paths['truncated'] = os.path.join(folder, DAMAGED)
    paths[L2A[:-len('.SAFE.zip')]] = rezip(TOULOUSE, os.path.join(folder, L2A), drop='_B10.jp2',
                                          rename={'MTD_MSIL1C.xml': 'MTD_MSIL2A.xml'})
    return paths


def single_product_masks(folder):
    """Return {output name: mask array} of the good products, each run alone by detect_clouds."""
    masks = {}
    for name, product in GOOD.items():
        path = os.path.join(folder, f'{name}.tif')
        detect_clouds(product, path, MODEL, DetectOptions(provider='cpu'))
        masks[name] = read(path)
    return masks


def read(path):
    """First band of a raster as an array."""
    dataset = gdal.Open(str(path))
    return dataset.GetRasterBand(1).ReadAsArray()


def assert_rows_match_archive(rows, paths, statuses=('done', 'done')):
    """Good products have `statuses`; the damaged and L2A ones failed with what is wrong."""
    by_name = {os.path.basename(r.product): r for r in rows}
    assert sorted(by_name) == sorted(os.path.basename(p) for p in paths.values())
    for (name, product), status in zip(GOOD.items(), statuses):
        row = by_name[os.path.basename(product)]
        assert (row.status, row.product_id, row.tile, row.error) == (status, name, '31TCJ', ''), row
        date = name.split('_')[2]  # the sensing start in the product id: 20240120T105341
        assert row.sensing_time[:10] == f'{date[:4]}-{date[4:6]}-{date[6:8]}'
        assert 0 < row.valid_fraction <= 1 and 0 <= row.cloud_fraction <= 1
        assert np.isfinite(row.seconds)
    assert by_name[DAMAGED].status == 'failed' and 'not a readable zip' in by_name[DAMAGED].error
    assert by_name[L2A].status == 'failed' and 'Level-2A' in by_name[L2A].error
