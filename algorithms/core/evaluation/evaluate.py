"""Compare a cloud mask with ground truth block by block: counts, per-class errors, error map."""

import math
import os
from dataclasses import dataclass, field

import numpy as np
from osgeo import gdal, osr

from .. import raster_io
from ..errors import CancelledError, ExtentError, InvalidRasterError, NoValidDataError
from ..grid import bounds, iter_windows, spatial_reference, transform_box
from ..raster_io import uses_gdal_exceptions
from ..run import RunContext, context_or_silent
from .metrics import CLEAR, CLOUD, IGNORED, Confusion

# Error-map codes: the mask's own 0 clear / 1 cloud for agreement, then the two errors.
TRUE_NEGATIVE, TRUE_POSITIVE, FALSE_NEGATIVE, FALSE_POSITIVE, NOT_EVALUATED = 0, 1, 2, 3, 255
ERROR_COLOURS = {TRUE_NEGATIVE: (46, 125, 50), TRUE_POSITIVE: (31, 120, 180),
                 FALSE_NEGATIVE: (228, 26, 28), FALSE_POSITIVE: (255, 176, 0)}
ERROR_CLASSES = {TRUE_NEGATIVE: 'TN: clear, correct', TRUE_POSITIVE: 'TP: cloud, correct',
                 FALSE_NEGATIVE: 'FN: cloud missed (omission)',
                 FALSE_POSITIVE: 'FP: false cloud (commission)', NOT_EVALUATED: 'not evaluated'}


@dataclass
class Evaluation:
    """What one prediction / ground-truth comparison found.

    Attributes:
        prediction, ground_truth: the compared files.
        prediction_mapping, truth_mapping: the ClassMapping of each.
        confusion: TP/TN/FP/FN over pixels valid in both.
        per_class: ground-truth value -> [pixels evaluated, pixels the prediction called cloud];
            empty when the ground truth is a probability.
        notes: what was done that the analyst should know (regridding, coverage).
        regridded: whether the ground truth was resampled onto the prediction's grid.
        grid_pixels: pixels in the prediction's grid.

    """

    prediction: str
    ground_truth: str
    prediction_mapping: object
    truth_mapping: object
    confusion: Confusion = field(default_factory=Confusion)
    per_class: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    regridded: bool = False
    grid_pixels: int = 0


def _open(path, what):
    try:
        dataset = gdal.Open(path)
    except RuntimeError as error:
        raise InvalidRasterError(f'cannot read the {what} {path!r} ({error}); give a raster file '
                                 'GDAL can open') from error
    if dataset is None or dataset.RasterCount < 1:
        raise InvalidRasterError(f'the {what} {path!r} has no raster band; give a raster file')
    return dataset


def _srs(dataset):
    wkt = dataset.GetProjection()
    return spatial_reference(wkt) if wkt else None


def _bounds(dataset):
    return bounds(dataset.GetGeoTransform(), dataset.RasterXSize, dataset.RasterYSize)


def _same_grid(first, second):
    """Tell whether two rasters share CRS, size and pixel grid (to a thousandth of a pixel)."""
    if (first.RasterXSize, first.RasterYSize) != (second.RasterXSize, second.RasterYSize):
        return False
    a, b = first.GetGeoTransform(), second.GetGeoTransform()
    tolerance = 1e-3 * (min(abs(a[1]), abs(a[5])) or 1.0)
    size = max(first.RasterXSize, first.RasterYSize)
    # Origins may differ by the tolerance; steps by so little that it holds across the raster.
    aligned = (all(abs(a[i] - b[i]) <= tolerance for i in (0, 3))
               and all(abs(a[i] - b[i]) * size <= tolerance for i in (1, 2, 4, 5)))
    srs_a, srs_b = _srs(first), _srs(second)
    # A raster without CRS on the very same grid is taken to share the other's (evaluate says so).
    same_crs = srs_a is None or srs_b is None or bool(srs_a.IsSame(srs_b))
    return aligned and same_crs


def _truth_bounds_in(prediction, truth):
    """Return the ground truth's bounding box in the prediction's CRS."""
    try:
        return transform_box(_bounds(truth),
                             osr.CoordinateTransformation(_srs(truth), _srs(prediction)))
    except RuntimeError as error:
        raise ExtentError(f'the ground truth\'s extent cannot be expressed in the prediction\'s '
                          f'CRS ({error}); check both CRSs') from error


def _regrid_truth(prediction, truth, names):
    """Warp the ground truth onto the prediction's grid (nearest; alpha band = coverage).

    Returns:
        (dataset, note): an in-memory VRT and a sentence saying what was done.

    Raises:
        InvalidRasterError: if a raster has no CRS, so the grids cannot be related.
        ExtentError: if the rasters do not overlap.

    """
    for dataset, name in ((prediction, names[0]), (truth, names[1])):
        if _srs(dataset) is None:
            raise InvalidRasterError(
                f'the {name} has no CRS and its grid differs from the other raster\'s, so they '
                f'cannot be compared; assign the right CRS (Raster > Projections > Assign '
                'Projection) or give rasters on the same grid')
    p_box, t_box = _bounds(prediction), _truth_bounds_in(prediction, truth)
    overlap_x = min(p_box[2], t_box[2]) - max(p_box[0], t_box[0])
    overlap_y = min(p_box[3], t_box[3]) - max(p_box[1], t_box[1])
    if overlap_x <= 0 or overlap_y <= 0:
        raise ExtentError(f'the {names[1]} {_describe_box(t_box)} does not overlap the '
                          f'{names[0]} {_describe_box(p_box)} (both in the {names[0]}\'s CRS); '
                          'check that they show the same place')
    covered = overlap_x * overlap_y / ((p_box[2] - p_box[0]) * (p_box[3] - p_box[1]))
    warped = gdal.Warp('', truth, format='VRT', outputBounds=p_box,
                       width=prediction.RasterXSize, height=prediction.RasterYSize,
                       dstSRS=prediction.GetProjection(), resampleAlg='near', dstAlpha=True)
    note = (f'The {names[1]} is on another grid than the {names[0]} '
            f'({_grid_differences(truth, prediction)}): it was resampled with nearest '
            f'neighbour onto the {names[0]}\'s grid; about '
            f'{100 * min(covered, 1):.1f} % of the {names[0]}\'s extent is covered by it.')
    if _srs(truth).IsSame(_srs(prediction)) and _finer(truth, prediction):
        note += (f' The {names[1]} is finer: each {names[0]} pixel is compared with the '
                 f'{names[1]} pixel at its centre.')
    return warped, note


def _grid_differences(truth, prediction):
    """Say what differs between two grids, e.g. 'its pixel size differs: 20 metre vs 10 metre'."""
    differences = []
    same_crs = _srs(truth).IsSame(_srs(prediction))
    if not same_crs:
        differences.append('its CRS differs')
    truth_pixel, prediction_pixel = _pixel_size(truth), _pixel_size(prediction)
    if truth_pixel != prediction_pixel:
        differences.append(f'its pixel size differs: {truth_pixel} vs {prediction_pixel}')
    tolerance = 1e-3 * abs(prediction.GetGeoTransform()[1])
    if same_crs and any(abs(a - b) > tolerance
                        for a, b in zip(_bounds(truth), _bounds(prediction))):
        differences.append(f'its extent differs: {_describe_box(_bounds(truth))} vs '
                           f'{_describe_box(_bounds(prediction))}')
    return '; '.join(differences) or 'its pixels are not aligned with the other raster\'s'


def _finer(first, second):
    """Tell whether `first` has smaller pixels than `second` (same CRS)."""
    return abs(first.GetGeoTransform()[1]) < abs(second.GetGeoTransform()[1]) - 1e-9


def _pixel_size(dataset):
    srs = _srs(dataset)
    unit = 'degree' if srs.IsGeographic() else srs.GetLinearUnitsName()
    return f'{abs(dataset.GetGeoTransform()[1]):.6g} {unit}'


def _describe_box(box):
    return '({:.1f}, {:.1f}, {:.1f}, {:.1f})'.format(*box)


def _read(dataset, window, band=1):
    return dataset.GetRasterBand(band).ReadAsArray(window.col, window.row,
                                                   window.width, window.height)


def _nodata(dataset):
    value = dataset.GetRasterBand(1).GetNoDataValue()
    return value if value is not None and math.isfinite(value) else None


def _accumulate_classes(per_class, truth_values, evaluated, predicted_cloud):
    """Add this block's pixels and cloud calls per ground-truth value."""
    values = truth_values[evaluated]
    if values.dtype.kind == 'u' and values.dtype.itemsize <= 2:  # fast path: Byte/UInt16
        pixels = np.bincount(values)
        called = np.bincount(truth_values[evaluated & predicted_cloud], minlength=len(pixels))
        present = np.flatnonzero(pixels)
        rows = zip(present.tolist(), pixels[present].tolist(), called[present].tolist())
    else:
        unique, index = np.unique(values, return_inverse=True)
        rows = zip(unique.tolist(), np.bincount(index, minlength=len(unique)).tolist(),
                   np.bincount(index, weights=predicted_cloud[evaluated],
                               minlength=len(unique)).tolist())
    for value, count, cloud in rows:
        entry = per_class.setdefault(value, [0, 0])
        entry[0] += count
        entry[1] += int(cloud)


# Error code of each (predicted, truth) class pair, at [predicted - IGNORED, truth - IGNORED].
_CODES = np.full((3, 3), NOT_EVALUATED, dtype=np.uint8)
_CODES[CLEAR - IGNORED, CLEAR - IGNORED] = TRUE_NEGATIVE
_CODES[CLOUD - IGNORED, CLOUD - IGNORED] = TRUE_POSITIVE
_CODES[CLEAR - IGNORED, CLOUD - IGNORED] = FALSE_NEGATIVE
_CODES[CLOUD - IGNORED, CLEAR - IGNORED] = FALSE_POSITIVE


def error_codes(predicted, truth):
    """Error-map codes for a block of CLOUD/CLEAR/IGNORED classes (one table look-up)."""
    return _CODES.ravel().take((predicted - IGNORED) * 3 + (truth - IGNORED))


def _confusion_of_codes(codes):
    """Count a block of error-map codes (other values, e.g. NOT_EVALUATED, are not counted)."""
    tp, tn, fp, fn = (int(np.count_nonzero(codes == code)) for code in (
        TRUE_POSITIVE, TRUE_NEGATIVE, FALSE_POSITIVE, FALSE_NEGATIVE))
    return Confusion(tp=tp, tn=tn, fp=fp, fn=fn)


@uses_gdal_exceptions
def evaluate(prediction_path: str, truth_path: str, prediction_mapping, truth_mapping,
             error_map: 'str | None' = None, run_context: 'RunContext | None' = None,
             block_size: int = 512) -> 'Evaluation':
    """Compare a predicted cloud mask with ground truth on the prediction's grid.

    Pixels count only where both rasters are valid (not no-data, not an ignored class, inside
    the ground truth's extent). A ground truth on another grid is resampled (nearest) onto the
    prediction's grid and a note says so.

    Args:
        prediction_path: the predicted mask (or probability) raster; band 1 is used.
        truth_path: the ground-truth raster; band 1 is used.
        prediction_mapping: metrics.ClassMapping of the prediction.
        truth_mapping: metrics.ClassMapping of the ground truth.
        error_map: optional GeoTIFF to write (Byte; see ERROR_CLASSES), atomically.
        run_context: RunContext (progress per block; cancel checked between blocks).
        block_size: pixels per block side.

    Returns:
        An Evaluation.

    Raises:
        InvalidRasterError, ExtentError: if the rasters cannot be read or related.
        NoValidDataError: if no pixel is valid in both.
        OutputPathError: if `error_map` is not a file name or is one of the inputs.
        CancelledError: if is_canceled() became true; nothing is left written.

    """
    prediction = _open(prediction_path, 'prediction')
    truth = _open(truth_path, 'ground truth')
    result = Evaluation(prediction_path, truth_path, prediction_mapping, truth_mapping,
                        grid_pixels=prediction.RasterXSize * prediction.RasterYSize)
    truth_nodata = _nodata(truth)
    per_class = (truth_mapping.threshold is None
                 and truth.GetRasterBand(1).DataType in raster_io.INTEGER_TYPES)
    result.notes += [f'The {what} has {dataset.RasterCount} bands; only band 1 was evaluated.'
                     for what, dataset in (('prediction', prediction), ('ground truth', truth))
                     if dataset.RasterCount > 1]
    coverage_band = None
    missing = [what for what, dataset in (('prediction', prediction), ('ground truth', truth))
               if _srs(dataset) is None]
    if len(missing) == 1 and _same_grid(prediction, truth):
        result.notes.append(f'The {missing[0]} has no CRS but exactly the other raster\'s grid '
                            '(size and geotransform): it was taken to share its CRS.')
    if not _same_grid(prediction, truth):
        truth, note = _regrid_truth(prediction, truth, ('prediction', 'ground truth'))
        result.notes.append(note)
        result.regridded = True
        coverage_band = truth.RasterCount  # the warped VRT's alpha band: 0 outside the truth
    compare = _Comparison(prediction, truth, truth_nodata, result, per_class, coverage_band)
    run_context = context_or_silent(run_context)
    progress, is_canceled = run_context.progress, run_context.is_canceled
    if not error_map:
        compare.run(None, progress, is_canceled, block_size)
        return result
    with raster_io.atomic_output(error_map, protected=(prediction_path, truth_path)) as temporary:
        output = _create_error_map(temporary, prediction)
        try:
            compare.run(output, progress, is_canceled, block_size)
        finally:
            output = None
    return result


def _create_error_map(path, prediction):
    output = raster_io.create_geotiff(path, prediction.RasterXSize, prediction.RasterYSize, 1,
                                      gdal.GDT_Byte, prediction.GetGeoTransform(),
                                      prediction.GetProjection(), nodata=NOT_EVALUATED)
    band = output.GetRasterBand(1)
    colours = gdal.ColorTable()
    for code, rgb in ERROR_COLOURS.items():
        # True negatives transparent: the image shows through where all is well.
        colours.SetColorEntry(code, (*rgb, 0 if code == TRUE_NEGATIVE else 255))
    colours.SetColorEntry(NOT_EVALUATED, (0, 0, 0, 0))
    band.SetRasterColorTable(colours)
    band.SetRasterColorInterpretation(gdal.GCI_PaletteIndex)
    band.SetCategoryNames([ERROR_CLASSES.get(code, '') for code in range(256)])
    band.SetDescription('evaluation: TN 0, TP 1, FN 2, FP 3, not evaluated 255')
    return output


class _Comparison:
    """The block loop of one evaluation (state shared by its few steps)."""

    def __init__(self, prediction, truth, truth_nodata, result, per_class, coverage_band):
        self.prediction, self.truth, self.result = prediction, truth, result
        self.truth_nodata, self.per_class = truth_nodata, per_class
        self.coverage_band = coverage_band
        mapping = result.truth_mapping
        self.outside = {} if mapping.threshold is None and mapping.other == IGNORED else None
        self.truth_valid = 0

    def run(self, output, progress, is_canceled, block_size):
        """Count every block, write its error codes to `output` if given."""
        prediction_nodata = _nodata(self.prediction)
        windows = list(iter_windows(self.prediction.RasterXSize, self.prediction.RasterYSize,
                                    block_size, block_size))
        for number, window in enumerate(windows, start=1):
            if is_canceled is not None and is_canceled():
                raise CancelledError('evaluation cancelled; no output was written')
            predicted = self.result.prediction_mapping.classify(
                _read(self.prediction, window), prediction_nodata)
            codes = self._count(window, predicted)
            if output is not None:
                output.GetRasterBand(1).WriteArray(codes, window.col, window.row)
            if progress is not None:
                progress(100.0 * number / len(windows))
        outside = self._outside_note()
        if outside:
            self.result.notes.append(outside)
        if self.result.confusion.total == 0:
            raise NoValidDataError(
                f'no pixel is valid in both {os.path.basename(self.result.prediction)} and '
                f'{os.path.basename(self.result.ground_truth)} (check the no-data values and '
                'the class mappings: every pixel was no-data or an ignored class) ' + outside)

    def _count_outside(self, values, actual, covered):
        """Count the ground truth's valid values that its classes do not name, per value."""
        mapping = self.result.truth_mapping
        valid = covered & (np.isfinite(values) if values.dtype.kind == 'f' else True)
        if self.truth_nodata is not None:
            valid &= values != self.truth_nodata
        self.truth_valid += int(np.count_nonzero(valid))
        outside = values[valid & (actual == IGNORED) & ~np.isin(values, list(mapping.ignore))]
        for value, count in zip(*np.unique(outside, return_counts=True)):
            self.outside[value.item()] = self.outside.get(value.item(), 0) + int(count)

    def _outside_note(self):
        """Say how many ground-truth pixels hold values outside the chosen classes, or ''."""
        if not self.outside:
            return ''
        total = sum(self.outside.values())
        values = ', '.join(f'{value:g}: {count:,}' for value, count in sorted(self.outside.items()))
        return (f'{total:,} of the ground truth\'s {self.truth_valid:,} valid pixels '
                f'({100 * total / max(self.truth_valid, 1):.1f} %) hold values outside its '
                f'classes "{self.result.truth_mapping.name}" and were not evaluated (value: '
                f'pixels {values}); choose the classes that match the ground truth or list its '
                'values as custom classes.')

    def _count(self, window, predicted):
        """Add the window's counts to the result; return its error codes."""
        truth_values = _read(self.truth, window)
        actual = self.result.truth_mapping.classify(truth_values, self.truth_nodata)
        covered = np.ones(actual.shape, bool)
        if self.coverage_band:
            covered = _read(self.truth, window, self.coverage_band) != 0
            actual[~covered] = IGNORED
        if self.outside is not None:
            self._count_outside(truth_values, actual, covered)
        codes = error_codes(predicted, actual)
        self.result.confusion += _confusion_of_codes(codes)
        if self.per_class:
            _accumulate_classes(self.result.per_class, truth_values, codes != NOT_EVALUATED,
                                predicted == CLOUD)
        return codes


@uses_gdal_exceptions
def confusion_of_error_map(path, block_size=1024):
    """Read an error map back (codes TN 0, TP 1, FN 2, FP 3) into its Confusion counts.

    Lets a chain that kept only the error map (e.g. the shipped graphical model) report the
    same numbers as the evaluation that wrote it.
    """
    dataset = _open(path, 'error map')
    counts = Confusion()
    for window in iter_windows(dataset.RasterXSize, dataset.RasterYSize, block_size, block_size):
        counts += _confusion_of_codes(_read(dataset, window))
    return counts
