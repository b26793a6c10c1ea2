"""GDAL's block cache is bounded only while our reads and writes run, then given back."""

import pytest
from detect_helpers import CROP, SHIPPED_MODEL
from l1c_fixtures import T32UPV, T32UPV_CORNER
from osgeo import gdal

from algorithms.core import errors
from algorithms.core.detection.detect import detect_clouds
from algorithms.core.raster_io import BLOCK_CACHE_BYTES, bounded_block_cache
from algorithms.core.run import RunContext
from algorithms.core.sentinel2.stack import StackOptions, stack_l1c

LARGE = 1024 * 2**20


@pytest.fixture
def large_cache():
    previous = gdal.GetCacheMax()
    gdal.SetCacheMax(LARGE)
    yield
    gdal.SetCacheMax(previous)


def test_overlapping_runs_share_one_bound_and_restore_after_the_last(large_cache):
    first, second = bounded_block_cache(), bounded_block_cache()
    first.__enter__()
    assert gdal.GetCacheMax() == BLOCK_CACHE_BYTES
    second.__enter__()
    first.__exit__(None, None, None)  # the first run ends while the second still reads
    assert gdal.GetCacheMax() == BLOCK_CACHE_BYTES
    second.__exit__(None, None, None)
    assert gdal.GetCacheMax() == LARGE


def test_a_smaller_cache_is_never_raised(large_cache):
    gdal.SetCacheMax(16 * 2**20)
    with bounded_block_cache():
        assert gdal.GetCacheMax() == 16 * 2**20
    assert gdal.GetCacheMax() == 16 * 2**20


def test_stack_runs_bounded_and_restores_on_success_and_failure(tmp_path, large_cache):
    seen = set()
    stack_l1c(T32UPV, str(tmp_path / 'a.tif'), StackOptions(extent=T32UPV_CORNER),
              RunContext(progress=lambda _: seen.add(gdal.GetCacheMax())))
    assert seen == {BLOCK_CACHE_BYTES} and gdal.GetCacheMax() == LARGE
    with pytest.raises(errors.NoValidDataError):
        stack_l1c(T32UPV, str(tmp_path / 'b.tif'),
                  StackOptions(extent=(700000, 5400000, 709800, 5409800)))
    assert gdal.GetCacheMax() == LARGE


def test_detect_runs_bounded_and_restores(tmp_path, large_cache):
    seen = set()
    detect_clouds(str(CROP), str(tmp_path / 'mask.tif'), SHIPPED_MODEL,
                  run_context=RunContext(progress=lambda _: seen.add(gdal.GetCacheMax())))
    assert seen == {BLOCK_CACHE_BYTES} and gdal.GetCacheMax() == LARGE
