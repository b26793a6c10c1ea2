"""The output transaction: all outputs or none, never onto an input, leftovers of killed runs."""

import os
import shutil

import numpy as np
import pytest
from conftest import data_path
from filesystems import read_only_folder, small_disk
from osgeo import gdal

from algorithms.core import outputs, raster_io
from algorithms.core.errors import CancelledError, OutputPathError, OutputWriteError
from algorithms.core.outputs import OutputTransaction

CROP = data_path('detect', 'betsiboka_crop_toa13.tif')


@pytest.fixture(autouse=True)
def exceptions():
    with raster_io.gdal_exceptions():
        yield


def write_raster(path, size=300):
    with raster_io.atomic_output(path) as temporary:
        dataset = raster_io.create_geotiff(temporary, size, size, 2, gdal.GDT_Float32,
                                           (0, 60, 0, 0, 0, -60), '')
        for index in (1, 2):
            dataset.GetRasterBand(index).WriteArray(
                np.random.default_rng(index).random((size, size), np.float32))
        dataset = None


def write_report(path, text='<html></html>'):
    with raster_io.atomic_output(path) as temporary:
        with open(temporary, 'w') as stream:
            stream.write(text)


def declared(folder):
    return {'OUTPUT': str(folder / 'a.tif'), 'REPORT': str(folder / 'a.html')}


def run(folder, fail=None, **extra):
    with OutputTransaction(declared(folder), **extra):
        write_raster(str(folder / 'a.tif'))
        write_report(str(folder / 'a.html'))
        write_report(str(folder / 'a_plot.txt'))  # derived from a declared output: waits too
        assert not (folder / 'a.tif').exists() and not (folder / 'a_plot.txt').exists()
        assert gdal.Open(outputs.readable(str(folder / 'a.tif'))).RasterCount == 2
        if fail:
            raise fail


def test_outputs_appear_together_and_only_on_success(tmp_path):
    (tmp_path / 'a.html').write_text('old report')
    with pytest.raises(CancelledError):
        run(tmp_path, CancelledError('cancelled'))
    assert sorted(os.listdir(tmp_path)) == ['a.html']
    assert (tmp_path / 'a.html').read_text() == 'old report'
    run(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ['a.html', 'a.tif', 'a_plot.txt']
    assert gdal.Open(str(tmp_path / 'a.tif')).RasterCount == 2


def test_scratch_files_outside_the_declared_outputs_are_in_place_at_once(tmp_path):
    (tmp_path / 'out').mkdir()
    with OutputTransaction(declared(tmp_path / 'out')):
        write_raster(str(tmp_path / 'scratch.tif'))
        assert (tmp_path / 'scratch.tif').is_file()


def test_an_output_reaching_an_input_through_a_symlink_or_dots_is_refused(tmp_path):
    inputs = tmp_path / 'inputs'
    inputs.mkdir()
    shutil.copy(CROP, inputs / 'crop.tif')
    (tmp_path / 'link').symlink_to(inputs, target_is_directory=True)
    for alias in (tmp_path / 'link' / 'crop.tif', inputs / '..' / 'inputs' / 'crop.tif'):
        with pytest.raises(OutputPathError, match='OUTPUT: .* is also an input'):
            with OutputTransaction({'OUTPUT': str(alias)}, inputs=[str(inputs / 'crop.tif')]):
                pytest.fail('the run must not start')
        with pytest.raises(OutputPathError, match='is also an input'):
            raster_io.atomic_output(str(alias), protected=[str(inputs / 'crop.tif')]).__enter__()


def test_an_input_inside_a_zip_is_protected_by_the_zip(tmp_path):
    archive = tmp_path / 'product.zip'
    archive.write_bytes(b'PK')
    with pytest.raises(OutputPathError, match='is also an input'):
        with OutputTransaction({'OUTPUT': str(archive)},
                               inputs=[f'/vsizip/{archive}/GRANULE/B01.jp2']):
            pass


def test_two_outputs_on_one_file_are_refused(tmp_path):
    with pytest.raises(OutputPathError, match='OUTPUT and PROBABILITY are the same file'):
        with OutputTransaction({'OUTPUT': str(tmp_path / 'm.tif'),
                                'PROBABILITY': str(tmp_path / '.' / 'm.tif')}):
            pass


def test_leftovers_of_a_killed_run_are_removed_but_nothing_else(tmp_path):
    ours = ['a.partial-0123abcd.tif', 'a.partial-0123abcd.tif.aux.xml', 'a.partial-ffffffff.html']
    others = ['a.partial-notours.tif', 'b.partial-0123abcd.tif', 'a.tif.partial-0123abcd',
              'a.partial-0123abcd.tif.bak']
    for name in ours + others:
        (tmp_path / name).write_text('left over')
    lines = []
    run(tmp_path, log=lines.append)
    assert sorted(os.listdir(tmp_path)) == sorted(others + ['a.tif', 'a.html', 'a_plot.txt'])
    assert len(lines) == len(ours)


def test_a_truncated_raster_or_png_is_refused(tmp_path):
    with pytest.raises(OutputWriteError, match='not written completely'):
        with raster_io.atomic_output(str(tmp_path / 'a.tif')) as temporary:
            write_raster(str(tmp_path / 'whole.tif'))
            data = (tmp_path / 'whole.tif').read_bytes()
            with open(temporary, 'wb') as stream:
                stream.write(data[:len(data) * 3 // 4])
    with pytest.raises(OutputWriteError, match='cut short'):
        with raster_io.atomic_output(str(tmp_path / 'p.png')) as temporary:
            with open(temporary, 'wb') as stream:
                stream.write(b'\x89PNG\r\n\x1a\n' + b'\0' * 100)
    assert os.listdir(tmp_path) == ['whole.tif']


def test_a_read_only_folder_is_reported_before_any_work(tmp_path):
    with read_only_folder(tmp_path / 'ro') as folder:
        with pytest.raises(OutputPathError, match='choose a folder you can write to'):
            with OutputTransaction(declared(folder)):
                pytest.fail('the run must not start')


def test_a_full_disk_gives_one_clear_error_and_leaves_nothing(tmp_path):
    with small_disk(tmp_path / 'disk', '64k') as folder:
        with pytest.raises(OutputWriteError, match='is full.*free some space'):
            run(folder)
        assert os.listdir(folder) == []
