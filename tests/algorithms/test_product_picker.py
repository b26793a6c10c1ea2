"""The product fields' file browser lists every form of product it can pick (issue 13, 12)."""

import fnmatch
import os
import zipfile

import pytest
from l1c_fixtures import PDMC, TOULOUSE

PRODUCT_FIELDS = [('s2cloudcnn:stackl1c', 'INPUT'), ('s2cloudcnn:detectclouds', 'PRODUCT'),
                  ('s2cloudcnn:buildreference', 'PRODUCT')]


def patterns(definition):
    """The wildcard patterns of a file parameter's first filter ('Name (*.a b.xml)')."""
    first = definition.fileFilter().split(';;')[0]
    return first[first.index('(') + 1:first.index(')')].split()


def offered(definition, path):
    """Whether the browser's product filter shows the file `path`."""
    return any(fnmatch.fnmatchcase(os.path.basename(path), p) for p in patterns(definition))


def metadata_files(zip_path):
    """The product-level metadata files inside a zipped SAFE (what a user picks once unzipped)."""
    with zipfile.ZipFile(zip_path) as archive:
        return [n for n in archive.namelist() if n.count('/') == 1 and n.endswith('.xml')
                and 'MTD' in n and '__MACOSX' not in n]


@pytest.mark.parametrize('algorithm_id, name', PRODUCT_FIELDS)
def test_browser_offers_zips_and_the_metadata_of_unzipped_products(provider, algorithm_id, name):
    definition = provider.algorithm(algorithm_id.split(':')[1]).parameterDefinition(name)
    products = [TOULOUSE, PDMC, *metadata_files(TOULOUSE), *metadata_files(PDMC)]
    assert len(products) == 4
    assert [p for p in products if not offered(definition, p)] == []
    assert not offered(definition, 'stack.tif')
    assert 'All files (*)' in definition.fileFilter()
