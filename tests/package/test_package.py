"""`make zip` builds a plugin zip that QGIS's installer accepts."""

import configparser
import os
import subprocess
import zipfile

import pytest
from conftest import REPO

ZIP = os.path.join(REPO, 'build', 's2cloudcnn.zip')


@pytest.fixture(scope='module')
def plugin_zip():
    subprocess.run(['make', '--no-print-directory', 'zip'], cwd=REPO, check=True,
                   capture_output=True, timeout=120)
    with zipfile.ZipFile(ZIP) as archive:
        yield archive


def test_zip_has_one_plugin_folder_with_metadata(plugin_zip):
    names = plugin_zip.namelist()
    assert {name.split('/')[0] for name in names} == {'s2cloudcnn'}
    for required in ('metadata.txt', '__init__.py', 'plugin.py', 'algorithms/provider.py',
                     'resources/icon.svg'):
        assert f's2cloudcnn/{required}' in names
    parser = configparser.ConfigParser()
    parser.read_string(plugin_zip.read('s2cloudcnn/metadata.txt').decode('utf-8'))
    assert parser['general']['name'] == 'S2 Cloud CNN'


def test_zip_leaves_out_development_files(plugin_zip):
    names = plugin_zip.namelist()
    unwanted = ('s2cloudcnn/tests/', 's2cloudcnn/models/training/', 's2cloudcnn/.ci/',
                's2cloudcnn/Makefile', '__pycache__', '.pyc')
    assert [n for n in names if any(u in n for u in unwanted)] == []
    binaries = ('.so', '.pyd', '.dll', '.pt', '.pth', '.exe')
    assert [n for n in names if n.endswith(binaries)] == []


def test_zip_is_small_enough(plugin_zip):
    assert os.path.getsize(ZIP) < 25 * 1024 * 1024
