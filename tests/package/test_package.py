"""`make zip` builds a plugin zip that QGIS's installer accepts."""

import configparser
import os
import re
import subprocess
import zipfile

import pytest
from conftest import REPO

ZIP = os.path.join(REPO, 'build', 's2cloudcnn.zip')
# The rules of plugins.qgis.org's upload validator (QGIS-Django plugins/validator.py).
MAX_UPLOAD_BYTES = 25_000_000
VALIDATOR_REQUIRED = ('name', 'description', 'version', 'qgisMinimumVersion', 'author', 'email',
                      'about', 'tracker', 'repository')
# There is no public repository or tracker yet; the validator needs reachable addresses for
# both, so they are left out rather than invented (the lead adds them with the first upload).
NO_PUBLIC_ADDRESS_YET = ('tracker', 'repository')


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
    assert os.path.getsize(ZIP) <= MAX_UPLOAD_BYTES


def _metadata(plugin_zip):
    parser = configparser.ConfigParser()
    parser.optionxform = str  # the validator reads keys case-sensitively
    parser.read_string(plugin_zip.read('s2cloudcnn/metadata.txt').decode('utf-8'))
    return parser['general']


def test_zip_passes_the_plugin_repository_validator_rules(plugin_zip):
    names = plugin_zip.namelist()
    assert plugin_zip.testzip() is None
    assert [n for n in names if '..' in n or n.startswith('/')] == []
    assert [n for n in names if {'__MACOSX', '.git', '__pycache__'} & set(n.split('/'))] == []
    assert 's2cloudcnn/LICENSE' in names and 's2cloudcnn/__init__.py' in names
    assert re.match(r'^[A-Za-z][A-Za-z0-9-_]+$', names[0].split('/')[0])
    general = _metadata(plugin_zip)
    missing = [key for key in VALIDATOR_REQUIRED if not general.get(key, '').strip()]
    assert missing == list(NO_PUBLIC_ADDRESS_YET)
    assert '/' not in general['author']
    assert general['icon'] and f's2cloudcnn/{general["icon"]}' in names
    for flag in ('experimental', 'deprecated'):
        assert general[flag] in ('True', 'False')


def test_license_file_is_the_license_metadata_names(plugin_zip):
    text = plugin_zip.read('s2cloudcnn/LICENSE').decode('utf-8')
    assert _metadata(plugin_zip)['license'] == 'GPL-2.0-or-later'
    assert 'GNU GENERAL PUBLIC LICENSE' in text and 'Version 2, June 1991' in text
    assert 'any later version' in text


def test_qgis4_metadata(plugin_zip):
    general = _metadata(plugin_zip)
    assert general['qgisMinimumVersion'] == '3.22'
    assert general['qgisMaximumVersion'] == '4.99'
    assert general['supportsQt6'] == 'True'
