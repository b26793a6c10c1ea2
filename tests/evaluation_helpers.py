"""Rasters and counts shared by the evaluation tests (real OnCloudN labels, numpy truths)."""

import atexit
import os
import shutil
import tempfile

import numpy as np
from conftest import data_path
from osgeo import gdal
from qgis.core import QgsProcessingFeedback

gdal.UseExceptions()

# A private copy: QGIS writes statistics (.aux.xml) beside rasters it loads as layers.
TRUTHS = tempfile.mkdtemp(prefix='oncloudn-')
shutil.copytree(data_path('oncloudn'), TRUTHS, dirs_exist_ok=True)
atexit.register(shutil.rmtree, TRUTHS, True)
LABEL = os.path.join(TRUTHS, 'kgvd.tif')  # Eswatini, about half cloud, no no-data
CHIPS = ('jaag', 'kgqd', 'kgvd', 'khcn')


def read(path):
    return gdal.Open(path).ReadAsArray()


def write(path, array, template=LABEL, geotransform=None, wkt=None, nodata=255):
    """Write `array` as a GeoTIFF on the template's grid, or on the given one."""
    source = gdal.Open(template)
    kind = {'f': gdal.GDT_Float32, 'i': gdal.GDT_Int16}.get(array.dtype.kind, gdal.GDT_Byte)
    dataset = gdal.GetDriverByName('GTiff').Create(str(path), array.shape[1], array.shape[0],
                                                   1, kind)
    dataset.SetGeoTransform(geotransform or source.GetGeoTransform())
    dataset.SetProjection(wkt if wkt is not None else source.GetProjection())
    if nodata is not None:
        dataset.GetRasterBand(1).SetNoDataValue(nodata)
    dataset.GetRasterBand(1).WriteArray(array)
    dataset = None
    return str(path)


def expected_counts(predicted_cloud, truth_cloud, valid):
    """TP, TN, FP, FN counted directly with numpy, independently of the core."""
    return {'TP': int(np.sum(valid & predicted_cloud & truth_cloud)),
            'TN': int(np.sum(valid & ~predicted_cloud & ~truth_cloud)),
            'FP': int(np.sum(valid & predicted_cloud & ~truth_cloud)),
            'FN': int(np.sum(valid & ~predicted_cloud & truth_cloud))}


class Recording(QgsProcessingFeedback):
    """Feedback that keeps what the algorithm said, and can cancel at a given progress."""

    def __init__(self, cancel_after=None):
        super().__init__()
        self.lines, self.cancel_after = [], cancel_after

    def pushWarning(self, text):
        self.lines.append(text)

    def pushInfo(self, text):
        self.lines.append(text)

    def setProgress(self, value):
        super().setProgress(value)
        if self.cancel_after is not None and value >= self.cancel_after:
            self.cancel()


def shifted_and_perturbed(label):
    """The label moved 7 columns right (the gap is no data) with a block flipped."""
    prediction = np.full_like(label, 255)
    prediction[:, 7:] = label[:, :-7]
    prediction[100:160, 200:330] = 1 - prediction[100:160, 200:330]
    return prediction


def text(path):
    """Return a written text file's content."""
    with open(path, encoding='utf-8') as stream:
        return stream.read()


def csv_rows(path):
    """Return a CSV file's rows as dicts."""
    import csv

    with open(path, encoding='utf-8', newline='') as stream:
        return list(csv.DictReader(stream))
