"""Shared pieces of the detection tests: the real crop, the model, a naive reference."""

import os
import shutil

import numpy as np
from conftest import data_path
from osgeo import gdal

from algorithms.support.paths import DEFAULT_MODEL_ID, MODELS_DIR

CROP = data_path('detect', 'betsiboka_crop_toa13.tif')
SHIPPED_MODEL = os.path.join(MODELS_DIR, f'{DEFAULT_MODEL_ID}.onnx')
RGBN_CROP = data_path('detect', 'oncloudn_jaag_crop_rgbn.tif')
RGBN_MODEL = os.path.join(MODELS_DIR, 's2cloudcnn-rgbn.onnx')


def read(path, band=1):
    """Return one band of a raster as an array."""
    dataset = gdal.Open(str(path))
    return dataset.GetRasterBand(band).ReadAsArray()


def band_names(path):
    """Return the band descriptions of a raster."""
    dataset = gdal.Open(str(path))
    return [dataset.GetRasterBand(i).GetDescription() for i in range(1, dataset.RasterCount + 1)]


def read_all(path):
    """Return [bands, rows, cols] of a raster."""
    return gdal.Open(str(path)).ReadAsArray()


def copy_crop(tmp_path, name='crop.tif'):
    """Copy the real crop so a test may change it."""
    target = tmp_path / name
    shutil.copyfile(CROP, target)
    return target


def write_like(path, like, bands, descriptions=None, nodata=float('nan'), data_type=None,
               pixel_size=None):
    """Write `bands` [n, rows, cols] with the grid of raster `like`."""
    source = gdal.Open(str(like))
    transform = list(source.GetGeoTransform())
    if pixel_size:
        transform[1], transform[5] = pixel_size, -pixel_size
    kind = data_type or gdal.GDT_Float32
    dataset = gdal.GetDriverByName('GTiff').Create(str(path), bands.shape[2], bands.shape[1],
                                                   bands.shape[0], kind)
    dataset.SetGeoTransform(transform)
    dataset.SetProjection(source.GetProjection())
    for index, values in enumerate(bands, start=1):
        band = dataset.GetRasterBand(index)
        band.WriteArray(values)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        if descriptions:
            band.SetDescription(descriptions[index - 1])
    dataset = None
    return path


def naive_probabilities(model_path, image, rows, cols):
    """P(cloud) of each pixel, one 16x16 patch and one onnxruntime call at a time.

    The paper's rule written out plainly: zero-pad the whole image by 8 pixels (7 after),
    set no-data pixels to zero, cut rows r-8..r+7 and cols c-8..c+7, run the full model.
    """
    import onnxruntime

    session = onnxruntime.InferenceSession(str(model_path), providers=['CPUExecutionProvider'])
    image = np.where(np.isfinite(image).all(axis=0), image, 0).astype(np.float32)
    padded = np.pad(image, ((0, 0), (8, 7), (8, 7)))
    result = []
    for r, c in zip(rows, cols):
        patch = padded[None, :, r:r + 16, c:c + 16]
        result.append(session.run(['probability'], {'patches': patch})[0][0, 0])
    return np.array(result, np.float32)
