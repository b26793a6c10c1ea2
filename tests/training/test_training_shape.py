"""Training's shape: TrainConfig from the command line, dataset classes, missing data, reserved."""

import glob
import os
import pathlib

import numpy as np
import pytest
from conftest import REPO, data_path

from algorithms.core.grid import Window
from models.training import datasets, reserved, sources, train
from models.training.config import DATA_ENV, TrainConfig, default_data_root

BETSIBOKA = os.path.join(default_data_root(), *sources.BETSIBOKA)
ONCLOUDN = data_path('training', 'oncloudn')


def test_command_line_defaults_are_the_train_configs():
    assert train.parse_args([]) == TrainConfig()


def test_command_line_lists_become_tuples():
    config = train.parse_args(['--dataset', 'oncloudn', '--heldout', 'jaag,adwu',
                               '--filters', '4,8,16', '--cloud-values', '1',
                               '--cloud-types', 'cirrus', '--epochs', '2'])
    assert (config.dataset, config.heldout, config.filters) == (
        'oncloudn', ('jaag', 'adwu'), (4, 8, 16))
    assert (config.cloud_values, config.cloud_types, config.epochs) == ((1,), ('cirrus',), 2)


def test_only_a_shipped_model_is_rebuilt_into_models():
    assert train.default_output('s2cloudcnn-rgbn') == os.path.join(REPO, 'models',
                                                                   's2cloudcnn-rgbn.onnx')
    candidate = train.default_output('s2cloudcnn-l1c13-references')
    assert candidate == os.path.join(REPO, 'build', 'models', 's2cloudcnn-l1c13-references.onnx')


def test_data_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    assert TrainConfig().data_root('labelled') == os.path.join(str(tmp_path), 'labelled')
    assert TrainConfig(data='/x').data_root('labelled') == '/x'


@pytest.mark.parametrize('dataset', ['oncloudn', 'l1c-references', 'l1c-agreement', 'alcd'])
def test_missing_data_names_the_option_to_change(tmp_path, dataset):
    config = TrainConfig(dataset=dataset, data=str(tmp_path / 'nowhere'))
    with pytest.raises(datasets.DatasetNotFoundError, match='--data') as error:
        sources.load(config)
    assert str(tmp_path / 'nowhere') in str(error.value)


def test_missing_pair_raster_names_its_option(tmp_path):
    labels = data_path('training', 'oncloudn', 'labels', 'jaag.tif')
    config = TrainConfig(dataset='pair', image=str(tmp_path / 'image.tif'), labels=labels)
    with pytest.raises(datasets.DatasetNotFoundError, match='--image'):
        sources.load(config)


def test_oncloudn_reads_windows_and_bands_in_the_order_asked():
    whole = datasets.OnCloudN(ONCLOUDN)[1]
    window = Window(col=5, row=7, width=20, height=11)
    part = datasets.OnCloudN(ONCLOUDN, bands=('B08', 'B02'), window=window)[1]
    assert part.name == whole.name == 'jaag'
    np.testing.assert_array_equal(part.reflectance, datasets.crop(whole.reflectance[[3, 0]],
                                                                  window))
    np.testing.assert_array_equal(part.labels, datasets.crop(whole.labels, window))


def test_valid_window_is_the_box_of_pixels_valid_in_every_band():
    reflectance = np.full((2, 6, 9), np.nan, np.float32)
    reflectance[:, 2:5, 3:7] = 1
    reflectance[1, 2, 3] = np.nan  # one band missing still leaves the box
    assert datasets.valid_window(reflectance) == Window(col=3, row=2, width=4, height=3)


def test_the_reserved_product_is_never_a_scene(tmp_path):
    products = {'strip': reserved.RESERVED_PRODUCTS[0] + '.SAFE.zip',
                'free': 'S2A_free_product.SAFE.zip'}
    scenes = sources.L1cScenes(str(tmp_path), products)
    assert len(scenes) == 2 and list(scenes.products) == ['free']  # Betsiboka + the free one


@pytest.mark.skipif(not os.path.exists(BETSIBOKA), reason=f'needs the real data: data/ or '
                    f'${DATA_ENV}')
def test_reference_dataset_never_targets_a_reserved_pixel(monkeypatch):
    monkeypatch.setattr(sources, 'FREE_L1C', {})  # Betsiboka only: no product to stack
    dataset = sources.load(TrainConfig(dataset='l1c-references', synthetic=1, atmospheres=1,
                                       illuminations=1))
    scene = sources.L1cScenes(default_data_root(), {})[0]
    assert scene.reserved.any()
    images = dataset.train + dataset.heldout
    # The scene and its two sky variants, each with one synthetic layer, each in two parts.
    assert len(images) == 12 and sum('atmosphere' in image.name for image in images) == 4
    for image in images:
        targets = image.labels >= 0
        assert targets.any() and not (targets & scene.reserved).any(), image.name


def test_no_training_module_changes_sys_path():
    """Scripts run as modules (python -m models.training.<name>) from the repository root."""
    modules = glob.glob(os.path.join(REPO, 'models', 'training', '*.py'))
    changing = [os.path.basename(path) for path in modules
                if 'sys.path' in pathlib.Path(path).read_text()]
    assert len(modules) > 10 and changing == []
