"""Build a fully imaged 10980 x 10980 Level-1C tile for the benchmarks (never committed).

The bundled T32UPV products hold data only in a strip at the swath edge. The benchmark tile
keeps the SAFE layout and real metadata of the 2017 product (MTD_MSIL1C.xml, MTD_TL.xml,
QI_DATA, AUX_DATA; the TCI preview is left out, nothing reads it) and refills its 13 band
JP2s with real pixels: a 240 x 80-pixel (60 m) block of the 2015 strip, which is free data
(the 2017 strip is reserved), mirrored over the whole tile so that the content stays
continuous. The JP2s are written like ESA's: lossless (reversible 5/3 wavelet), 15 bits,
5 resolution levels and the originals' tiles (1024, 640 and 192 pixels), with the originals'
georeferencing. The block's B10 has a few real DN 0 pixels, so about 0.4 % of the stack is no data.

Built once under build/bench/ (630 MB, 2 minutes on 2 cores); `python full_tile.py` builds it.
"""

import os
import shutil
import sys
import zipfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
L1C = os.path.join(REPO, 'tests', 'data', 'l1c')
LAYOUT = os.path.join(L1C, 'S2A_MSIL1C_20170430T103021_N0205_R108_T32UPV_20170430T103024.SAFE.zip')
CONTENT = os.path.join(
    L1C, 'S2A_OPER_PRD_MSIL1C_PDMC_20151207T180211_R108_V20151207T103733_20151207T103733.SAFE.zip')
FOLDER = os.path.join(REPO, 'build', 'bench', 'full_tile')
SAFE = os.path.join(FOLDER, os.path.basename(LAYOUT)[:-len('.zip')])
COMPLETE = os.path.join(FOLDER, 'complete')
BLOCK_60M = (240, 80)  # rows, cols of the fully imaged corner of the 2015 strip, at 60 m
JP2_OPTIONS = ['REVERSIBLE=YES', 'QUALITY=100', 'RESOLUTIONS=5', 'NBITS=15']


def full_tile() -> str:
    """The benchmark tile's SAFE folder, built on first use."""
    if not os.path.exists(COMPLETE):
        _build()
    return SAFE


def _build():
    from osgeo import gdal

    from algorithms.core.sentinel2.product import open_product

    gdal.UseExceptions()
    gdal.SetConfigOption('GDAL_PAM_ENABLED', 'NO')  # georeferencing goes in the JP2, not .aux.xml
    shutil.rmtree(FOLDER, ignore_errors=True)
    os.makedirs(FOLDER)
    band_names = _copy_layout()
    layout = open_product(LAYOUT).band_files[32632]
    content = open_product(CONTENT).band_files[32632]
    for band, (path,) in layout.items():
        target = os.path.join(FOLDER, band_names[os.path.basename(path)])
        print(f'writing {band} -> {os.path.relpath(target, REPO)}', flush=True)
        _write_band(gdal.Open(path), gdal.Open(content[band][0]), target)
    with open(COMPLETE, 'w') as marker:
        marker.write('all 13 bands written\n')


def _copy_layout():
    """Extract everything but the band JP2s and TCI; return {band file name: SAFE-relative path}."""
    band_names = {}
    with zipfile.ZipFile(LAYOUT) as archive:
        for name in archive.namelist():
            if name.startswith('__MACOSX') or name.endswith('/'):
                continue
            if name.endswith('.jp2'):
                band_names[os.path.basename(name)] = name
                continue
            archive.extract(name, FOLDER)
    return band_names


def _write_band(original, source, target):
    """Write `source`'s fully imaged block, mirrored over `original`'s grid, as JPEG2000."""
    from osgeo import gdal

    factor = 10980 // original.RasterXSize
    rows, cols = (6 // factor * n for n in BLOCK_60M)
    block = source.GetRasterBand(1).ReadAsArray(0, 0, cols, rows)
    mirrored = np.block([[block, block[:, ::-1]], [block[::-1], block[::-1, ::-1]]])
    size = original.RasterXSize
    mosaic = np.tile(mirrored, (size // (2 * rows) + 1, size // (2 * cols) + 1))[:size, :size]
    memory = gdal.GetDriverByName('MEM').Create('', size, size, 1, gdal.GDT_UInt16)
    memory.SetGeoTransform(original.GetGeoTransform())
    memory.SetProjection(original.GetProjection())
    memory.GetRasterBand(1).WriteArray(mosaic)
    tile_x, tile_y = original.GetRasterBand(1).GetBlockSize()
    partial = target[:-len('.jp2')] + '.partial.jp2'  # the driver writes JP2 boxes for .jp2 only
    os.makedirs(os.path.dirname(target), exist_ok=True)
    gdal.GetDriverByName('JP2OpenJPEG').CreateCopy(
        partial, memory, options=JP2_OPTIONS + [f'BLOCKXSIZE={tile_x}', f'BLOCKYSIZE={tile_y}'])
    os.replace(partial, target)


if __name__ == '__main__':
    print(full_tile())
