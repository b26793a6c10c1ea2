"""Real L1C products of tests/data/l1c and helpers to unpack or damage copies in tmp folders."""

import glob
import os
import zipfile

import numpy as np
from conftest import data_path
from osgeo import gdal

TOULOUSE = data_path('l1c', 'S2A_MSIL1C_20240120T105341_N0510_R051_T31TCJ_20240120T125244.SAFE.zip')
TOULOUSE_B = data_path('l1c',
                       'S2B_MSIL1C_20240305T104819_N0510_R051_T31TCJ_20240305T125347.SAFE.zip')
T32UPV = data_path('l1c', 'S2A_MSIL1C_20170430T103021_N0205_R108_T32UPV_20170430T103024.SAFE.zip')
PDMC = data_path('l1c', 'S2A_OPER_PRD_MSIL1C_PDMC_20151207T180211_R108_V20151207T103733_'
                        '20151207T103733.SAFE.zip')
# The imaged strip of the T32UPV and PDMC tiles is their top-left corner: 160 x 100 pixels at
# 60 m there hold the swath edge (valid and no-data pixels).
T32UPV_CORNER = (600000.0, 5494020.0, 609600.0, 5500020.0)
T32UPV_ORIGIN = (600000.0, 5500020.0)
# Cumulus of the T32UPV strip and the ground north-west of them where their shadows fall.
T32UPV_CUMULUS = (600000.0, 5491620.0, 609000.0, 5500020.0)
# The imaged strip of the T32UPV product (as `make demo`) and ESA's own cloud polygons of it:
# an automatic detector's mask, used as a real "ground truth" raster, not as a reference.
T32UPV_STRIP = (600000.0, 5468520.0, 609240.0, 5500020.0)
T32UPV_STRIP_EXTENT = '600000,609240,5468520,5500020 [EPSG:32632]'
ESA_CLOUDS = (f'/vsizip/{T32UPV}/S2A_MSIL1C_20170430T103021_N0205_R108_T32UPV_20170430T103024.'
              'SAFE/GRANULE/L1C_T32UPV_A009686_20170430T103024/QI_DATA/MSK_CLOUDS_B00.gml')


def esa_cloud_truth(path):
    """Burn ESA's cloud polygons of the strip (1 cloud, 0 clear) on its 60 m grid at `path`."""
    gdal.Rasterize(str(path), ESA_CLOUDS, burnValues=[1], initValues=[0],
                   outputType=gdal.GDT_Byte, xRes=60, yRes=60, outputBounds=T32UPV_STRIP,
                   outputSRS='EPSG:32632')
    return str(path)


def extract(zip_path, folder):
    """Unzip a product into `folder` (without the __MACOSX entries); return the SAFE path."""
    with zipfile.ZipFile(zip_path) as archive:
        members = [n for n in archive.namelist() if not n.startswith('__MACOSX')]
        archive.extractall(folder, members)
    return os.path.join(folder, members[0].split('/')[0])


def band_file(safe_or_zip, band):
    """GDAL path of one band's JPEG2000 inside a SAFE folder or (through /vsizip/) a zip."""
    if safe_or_zip.endswith('.zip'):
        with zipfile.ZipFile(safe_or_zip) as archive:
            name = next(n for n in archive.namelist() if '/IMG_DATA/' in n
                        and n.endswith(f'_{band}.jp2') and not n.startswith('__MACOSX'))
        return f'/vsizip/{safe_or_zip}/{name}'
    return glob.glob(os.path.join(safe_or_zip, 'GRANULE', '*', 'IMG_DATA', f'*_{band}.jp2'))[0]


def raw_block(path, x, y, size_m):
    """DNs under the size_m x size_m square whose top-left corner is (x, y), read with GDAL."""
    dataset = gdal.Open(path)
    x0, res, _, y0, _, _ = dataset.GetGeoTransform()
    col, row, n = round((x - x0) / res), round((y0 - y) / res), round(size_m / res)
    return dataset.GetRasterBand(1).ReadAsArray(col, row, n, n).astype(np.float64)


def rezip(zip_path, target, drop=None, rename=None, add=None):
    """Copy a zipped product, leaving out names containing `drop`, renaming per `rename`."""
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(target, 'w') as copy:
        for item in source.infolist():
            if drop and drop in item.filename:
                continue
            name = item.filename
            for old, new in (rename or {}).items():
                name = name.replace(old, new)
            copy.writestr(name, source.read(item.filename))
        for name, text in (add or {}).items():
            copy.writestr(name, text)
    return str(target)


def read_stack(path):
    """(array [13, rows, cols], dataset) of a stack."""
    dataset = gdal.Open(str(path))
    return dataset.ReadAsArray(), dataset
