"""Dataset classes: labelled rasters under a root, read by window as LabelledImage objects."""

import csv
import glob
import os
import re
from typing import Callable, Optional

import numpy as np
from osgeo import gdal

from algorithms.core.detection.model_input import open_bands
from algorithms.core.grid import Window
from algorithms.core.sentinel2.bands import L1C_BANDS

from .config import DATA_ENV
from .patches import CLEAR, CLOUD, IGNORED, LabelledImage

gdal.UseExceptions()

# Baetens et al. (2019) ALCD classes: 0 no data, 1 not used, 2 low cloud, 3 high cloud,
# 4 cloud shadow, 5 land, 6 water, 7 snow. Shadows are not cloud, so they count as clear.
ALCD_CLOUD = (2, 3)
ALCD_CLEAR = (4, 5, 6, 7)
ONCLOUDN_BANDS = ('B02', 'B03', 'B04', 'B08')
ONCLOUDN_SCALE = 1e-4  # L2A surface reflectance x 10000


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are not under the root it was given; says which option to change."""


def require(path: str, what: str, argument: str = '--data') -> str:
    """Return `path` if it exists.

    Raises:
        DatasetNotFoundError: naming `what` was looked for, where, and the option to change.

    """
    if not os.path.exists(path):
        raise DatasetNotFoundError(
            f'{what} not found: {path} does not exist; give the right folder with {argument}'
            + (f' (or set {DATA_ENV}, or link the shared data to data/ in the repository)'
               if argument == '--data' else ''))
    return path


def map_classes(values, cloud_values, clear_values):
    """Return int8 labels: 1 where `values` is a cloud class, 0 clear, -1 anything else."""
    if set(cloud_values) & set(clear_values):
        raise ValueError(f'values {sorted(set(cloud_values) & set(clear_values))} are both '
                         'cloud and clear; give each class value to one side only')
    labels = np.full(values.shape, IGNORED, np.int8)
    labels[np.isin(values, cloud_values)] = CLOUD
    labels[np.isin(values, clear_values)] = CLEAR
    return labels


def read_window(dataset: gdal.Dataset, window: Optional[Window] = None) -> np.ndarray:
    """The pixels of `window` (default: all) of every band of an open raster, [bands, h, w]."""
    window = window or Window(0, 0, dataset.RasterXSize, dataset.RasterYSize)
    data = dataset.ReadAsArray(window.col, window.row, window.width, window.height)
    return data.reshape(dataset.RasterCount, window.height, window.width)


def read_image(path: str, scale: float = 1.0, nodata_all_zero: bool = False,
               window: Optional[Window] = None) -> np.ndarray:
    """Read a multi-band raster as float32 reflectance [bands, h, w] with NaN for no data.

    Args:
        path: any GDAL raster.
        scale: factor to reflectance (unit 1), e.g. 1e-4 for reflectance x 10000.
        nodata_all_zero: also treat pixels that are 0 in every band as no data.
        window: the pixels to read (default: the whole raster).

    """
    dataset = gdal.Open(path)
    data = read_window(dataset, window).astype(np.float32)
    invalid = np.zeros(data.shape[1:], bool)
    for index in range(dataset.RasterCount):
        nodata = dataset.GetRasterBand(index + 1).GetNoDataValue()
        if nodata is not None and not np.isnan(nodata):
            invalid |= data[index] == nodata
    if nodata_all_zero:
        invalid |= (data == 0).all(axis=0)
    data *= scale
    data[:, invalid | ~np.isfinite(data).all(axis=0)] = np.nan
    return data


def select_bands(path, reflectance, wanted):
    """Return `reflectance` reordered to the band names `wanted`, matched as detection does.

    Raises:
        BandMismatchError: a band is missing from `path`'s band descriptions or given twice.

    """
    return reflectance[[index - 1 for index in open_bands(path, wanted).band_indexes]]


def labels_on_grid(label_path, image_path):
    """Read a label raster, warped by nearest neighbour onto the image's grid if it differs."""
    image, labels = gdal.Open(image_path), gdal.Open(label_path)
    same = (labels.RasterXSize, labels.RasterYSize, labels.GetGeoTransform()) == (
        image.RasterXSize, image.RasterYSize, image.GetGeoTransform())
    if not same:
        gt = image.GetGeoTransform()
        bounds = (gt[0], gt[3] + gt[5] * image.RasterYSize, gt[0] + gt[1] * image.RasterXSize,
                  gt[3])
        labels = gdal.Warp('', labels, format='MEM', outputBounds=bounds,
                           width=image.RasterXSize, height=image.RasterYSize,
                           dstSRS=image.GetProjection(), resampleAlg='near')
    return labels.GetRasterBand(1).ReadAsArray()


def read_pair(image_path, label_path, cloud_values, clear_values, bands=L1C_BANDS, scale=1.0,
              name=None):
    """Read a generic image + label raster pair with a class mapping as one LabelledImage.

    Args:
        image_path: raster whose band descriptions name the bands (e.g. a stack).
        label_path: class raster on the same area (warped onto the image grid if needed).
        cloud_values: label values meaning cloud.
        clear_values: label values meaning clear; all other values are ignored.
        bands: band names to take, in the model's order.
        scale: factor from the stored values to reflectance (unit 1).
        name: name in the metrics (default: the label file's name).

    """
    reflectance = select_bands(image_path, read_image(image_path, scale), bands)
    labels = map_classes(labels_on_grid(label_path, image_path), cloud_values, clear_values)
    labels[~np.isfinite(reflectance).all(axis=0)] = IGNORED
    name = name or os.path.splitext(os.path.basename(label_path))[0]
    return LabelledImage(name, reflectance, labels)


class OnCloudN:
    """The On Cloud N chips under `root`: features/<chip>/<band>.tif and labels/<chip>.tif.

    Items are LabelledImage objects (L2A surface reflectance, unit 1; label 1 cloud, 0 clear)
    of `window` of each chip (default: the whole chip), with the `bands` in that order.
    """

    def __init__(self, root: str, bands: tuple = ONCLOUDN_BANDS,
                 chips: Optional[list] = None, window: Optional[Window] = None):
        self.root, self.bands, self.window = root, tuple(bands), window
        features = require(os.path.join(root, 'features'),
                           'On Cloud N chips (features/<chip>/B0x.tif)')
        self.chips = chips or sorted(os.listdir(features))

    def __len__(self) -> int:
        return len(self.chips)

    def __getitem__(self, index: int) -> LabelledImage:
        chip = self.chips[index]
        paths = [os.path.join(self.root, 'features', chip, f'{band}.tif') for band in self.bands]
        reflectance = np.concatenate([read_image(require(path, f'band of chip {chip}'),
                                                 window=self.window)
                                      for path in paths]) * ONCLOUDN_SCALE
        reflectance[:, (reflectance == 0).all(axis=0)] = np.nan
        label_file = require(os.path.join(self.root, 'labels', f'{chip}.tif'),
                             f'label of chip {chip}')
        labels = map_classes(read_window(gdal.Open(label_file), self.window)[0], (1,), (0,))
        labels[~np.isfinite(reflectance).all(axis=0)] = IGNORED
        return LabelledImage(chip, reflectance, labels)


def read_chip_places(root: str) -> dict:
    """Chip id -> location, from the On Cloud N chips.csv in `root` (chip_id, location, ...).

    Raises:
        DatasetNotFoundError: there is no chips.csv (a location split needs it).

    """
    path = require(os.path.join(root, 'chips.csv'),
                   'chips.csv (chip_id,location,datetime) for a location split, or --split chip')
    with open(path, newline='') as handle:
        return {row['chip_id']: row['location'] for row in csv.DictReader(handle)}


def blue_rule_cloud(image, blue='B02', bands=ONCLOUDN_BANDS, threshold=0.15):
    """The crude rule 'cloud iff blue reflectance > 0.15' on every pixel of an image."""
    return image.reflectance[bands.index(blue)] > threshold


def blue_rule_agreement(image):
    """Share of an image's labelled pixels where the label matches 'cloud iff blue > 0.15'.

    A crude rule (bright surfaces fool it), used only to find label maps that grossly
    contradict their own image, e.g. a dark scene labelled cloud or bright cumulus labelled
    clear (chips whose labels belong to another date or place).
    """
    labelled = image.labels >= 0
    return float(np.mean(blue_rule_cloud(image)[labelled] == (image.labels[labelled] == CLOUD)))


_ALCD_NAME = re.compile(r'(\d{2}[A-Z]{3})_(\d{8})')


def find_l1c_product(product_dir):
    """Find the L1C product of an ALCD reference folder: inside it, else beside it.

    Raises:
        FileNotFoundError: saying where the product was looked for.

    """
    pattern = 'S2*_MSIL1C_*.SAFE*'
    inside = sorted(glob.glob(os.path.join(product_dir, pattern)))
    if inside:
        return inside[0]
    match = _ALCD_NAME.search(os.path.basename(os.path.normpath(product_dir)))
    if match:
        tile, date = match.groups()
        parent = os.path.dirname(os.path.normpath(product_dir))
        beside = sorted(glob.glob(os.path.join(parent, f'S2*_MSIL1C_{date}*_T{tile}_*.SAFE*')))
        if beside:
            return beside[0]
    raise FileNotFoundError(
        f'no L1C product (S2*_MSIL1C_*.SAFE or .SAFE.zip) for {product_dir}: put it inside '
        'that folder, or beside it with the same tile and date in its name')


class AlcdReferences:
    """The ALCD reference products under `root` (<product>/Classification/classification_map.tif).

    Items are LabelledImage objects (L1C TOA reflectance at 60 m, the `bands` in that order):
    each product's L1C (inside its folder or beside it) is stacked once into `stacks` by
    `stack_product(product_path, stack_path)`.
    """

    def __init__(self, root: str, stacks: str, stack_product: Callable[[str, str], None],
                 bands: tuple = L1C_BANDS):
        self.stacks, self.stack_product, self.bands = stacks, stack_product, tuple(bands)
        pattern = os.path.join(require(root, 'ALCD reference folder'), '*', 'Classification',
                               'classification_map.tif')
        self.maps = sorted(glob.glob(pattern))
        if not self.maps:
            raise DatasetNotFoundError(f'no <product>/Classification/classification_map.tif '
                                       f'under {root}; give the ALCD folder with --data')

    def __len__(self) -> int:
        return len(self.maps)

    def __getitem__(self, index: int) -> LabelledImage:
        class_map = self.maps[index]
        product_dir = os.path.dirname(os.path.dirname(class_map))
        name = os.path.basename(product_dir)
        stack = os.path.join(self.stacks, f'{name}_stack60.tif')
        if not os.path.exists(stack):
            os.makedirs(self.stacks, exist_ok=True)
            self.stack_product(find_l1c_product(product_dir), stack)
        return read_pair(stack, class_map, ALCD_CLOUD, ALCD_CLEAR, self.bands, name=name)


def valid_window(reflectance: np.ndarray) -> Window:
    """The smallest window holding every pixel valid in all bands of [bands, H, W]."""
    valid = np.isfinite(reflectance).all(axis=0)
    rows, columns = np.flatnonzero(valid.any(axis=1)), np.flatnonzero(valid.any(axis=0))
    return Window(int(columns[0]), int(rows[0]), int(columns[-1] - columns[0] + 1),
                  int(rows[-1] - rows[0] + 1))


def crop(array: np.ndarray, window: Window) -> np.ndarray:
    """The `window` of the last two axes of `array`."""
    return array[..., window.row:window.row + window.height, window.col:window.col + window.width]


def split_column(labels, fraction):
    """Return the column left of which lie (1 - fraction) of the labelled pixels."""
    per_column = np.cumsum((labels >= 0).sum(axis=0))
    if per_column[-1] == 0:
        raise ValueError('no labelled pixel to split')
    return int(np.searchsorted(per_column, per_column[-1] * (1 - fraction)))


def split_region(image, cut, gap=16):
    """Split an image's labels spatially: columns left of `cut` train, the rest held out.

    Both parts keep the whole image as input (so patches near the split see real
    neighbours); the `gap` columns before the cut are labelled in neither, so no training
    patch centre lies within a patch of a held-out one.
    """
    train, heldout = image.labels.copy(), image.labels.copy()
    train[:, max(0, cut - gap):] = IGNORED
    heldout[:, :cut] = IGNORED
    return (LabelledImage(f'{image.name} (train region)', image.reflectance, train, image.source),
            LabelledImage(f'{image.name} (held-out region)', image.reflectance, heldout,
                          image.source))


def split_rows(image, period=128, heldout=48, gap=16):
    """Split an image's labels by rows: in every `period` rows the last `heldout` are held out.

    The `gap` rows on either side of each held-out band are labelled in neither part (no
    training patch centre within a patch of a held-out one); both parts keep the whole image.
    """
    phase = np.arange(image.labels.shape[0]) % period
    train, held = image.labels.copy(), image.labels.copy()
    train[(phase >= period - heldout - gap) | (phase < gap)] = IGNORED
    held[phase < period - heldout] = IGNORED
    return (LabelledImage(f'{image.name} (train rows)', image.reflectance, train, image.source),
            LabelledImage(f'{image.name} (held-out rows)', image.reflectance, held,
                          image.source))
