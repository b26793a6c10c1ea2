"""s2cloudcnn:detectcloudsmany through processing.run and qgis_process."""

import os

import numpy as np
import pytest
from batch_fixtures import DAMAGED, GOOD, L2A, make_archive, read, single_product_masks
from conftest import qgis_process

ALG = 's2cloudcnn:detectcloudsmany'


def test_folder_job_table_layer_masks_and_resume(run_algorithm, tmp_path):
    from qgis.core import QgsVectorLayer

    archive = make_archive(str(tmp_path / 'l1c'))
    parameters = {'INPUT_FOLDER': str(tmp_path / 'l1c'), 'RECURSIVE': True,
                  'EXECUTION_PROVIDER': 'CPU', 'OUTPUT_FOLDER': str(tmp_path / 'out'),
                  'OUTPUT': str(tmp_path / 'products.gpkg')}
    result = run_algorithm(ALG, parameters)
    assert (result['DONE'], result['SKIPPED'], result['FAILED']) == (2, 0, 2)
    layer = QgsVectorLayer(result['OUTPUT'])
    rows = {os.path.basename(f['product']): f for f in layer.getFeatures()}
    assert sorted(rows) == sorted(os.path.basename(p) for p in archive.values())
    assert 'Level-2A' in rows[L2A]['error'] and 'not a readable zip' in rows[DAMAGED]['error']
    for name, expected in single_product_masks(str(tmp_path / 'single')).items():
        row = rows[os.path.basename(archive[name])]
        assert (row['status'], row['product_id'], row['tile']) == ('done', name, '31TCJ')
        np.testing.assert_array_equal(read(row['mask']), expected)
        assert row['cloud_fraction'] == pytest.approx(np.mean(expected[expected != 255] == 1))
        assert os.path.isfile(row['mask'][:-4] + '.qml')
    again = run_algorithm(ALG, {**parameters, 'OUTPUT': str(tmp_path / 'again.gpkg')})
    assert (again['DONE'], again['SKIPPED'], again['FAILED']) == (0, 2, 2)


def test_neither_folder_nor_products_is_refused(run_algorithm, tmp_path):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match='folder of L1C products'):
        run_algorithm(ALG, {'OUTPUT_FOLDER': str(tmp_path), 'OUTPUT': 'memory:'})


def test_qgis_process_with_a_list_of_products_and_a_csv_table(tmp_path):
    products = [str(p) for p in GOOD.values()]
    table = tmp_path / 'products.csv'
    qgis_process('run', ALG, '--', *[f'PRODUCTS={p}' for p in products],
                 'PROBABILITY=true', f'OUTPUT_FOLDER={tmp_path / "out"}', f'OUTPUT={table}')
    lines = table.read_text().splitlines()
    assert len(lines) == 1 + len(products) and lines[0].startswith('product,product_id')
    assert sorted(os.listdir(tmp_path / 'out')) == sorted(
        f'{name}_{kind}' for name in GOOD
        for kind in ('cloudmask.tif', 'cloudmask.qml', 'probability.tif'))
