"""The On Cloud N location split: no place in both parts, screened chips, seeded choice."""

import shutil

import numpy as np
import pytest
from conftest import data_path
from osgeo import gdal

from models.training import cross_location, datasets, sources, train
from models.training.patches import LabelledImage


@pytest.fixture
def chips(tmp_path):
    """The bundled chips adwu (Chifunfu) and jaag (Senanga), plus 'jinv': jaag's image with its
    labels inverted (a label map that contradicts its image), also at Senanga."""
    root = tmp_path / 'oncloudn'
    shutil.copytree(data_path('training', 'oncloudn'), root)
    shutil.copytree(root / 'features' / 'jaag', root / 'features' / 'jinv')
    labels = gdal.Open(str(root / 'labels' / 'jaag.tif'))
    inverted = gdal.GetDriverByName('GTiff').CreateCopy(str(root / 'labels' / 'jinv.tif'), labels)
    inverted.GetRasterBand(1).WriteArray(1 - labels.ReadAsArray())
    inverted = None
    with open(root / 'chips.csv', 'a') as handle:
        handle.write('jinv,Senanga,2019-12-17T08:44:40Z\n')
    return str(root)


def _load(root, *options):
    dataset = sources.load(train.parse_args(['--dataset', 'oncloudn', '--data', root,
                                             '--split', 'location', *options]))
    return ([i.name for i in dataset.train], [(i.name, i.source) for i in dataset.heldout],
            dataset)


def test_held_out_place_gives_all_its_chips_to_the_held_out_part(chips):
    trained, held, dataset = _load(chips, '--heldout-places', 'Senanga')
    assert trained == ['adwu']
    assert held == [('jaag', 'labelled'), ('jinv', 'label-conflict')]
    assert "held-out places ['Senanga']" in dataset.trained_on
    assert 'not trained on: [\'jinv\']' in dataset.trained_on


def test_screened_out_chips_of_a_training_place_are_neither_trained_on_nor_scored(chips):
    trained, held, _ = _load(chips, '--heldout-places', 'Chifunfu')
    assert trained == ['jaag'] and held == [('adwu', 'labelled')]


def test_default_choice_is_seeded_and_never_splits_a_place(chips):
    places = datasets.read_chip_places(chips)
    draws = [_load(chips, '--seed', str(seed))[:2] for seed in (0, 0, 1, 2, 3)]
    assert draws[0] == draws[1]
    for trained, held in draws:
        held_places = {places[name] for name, _ in held}
        assert held_places and not held_places & {places[name] for name in trained}


@pytest.mark.parametrize('options, message', [
    (['--heldout-places', 'Paris'], r"--heldout-places names \['Paris'\] are not among"),
    (['--heldout-places', 'Chifunfu,Senanga'], 'leaves no place to train on'),
    (['--heldout', 'jaag'], 'use --heldout-places, or --split chip'),
])
def test_bad_location_options_say_what_to_do(chips, options, message):
    with pytest.raises(ValueError, match=message):
        _load(chips, *options)


def test_chip_split_still_takes_chip_names(chips):
    trained, held, _ = _load(chips, '--split', 'chip', '--heldout', 'jaag')
    assert trained == ['adwu'] and ('jaag', 'labelled') in held


def test_blue_rule_baseline_counts_only_labelled_pixels():
    reflectance = np.zeros((4, 2, 3), np.float32)
    reflectance[0] = [[0.2, 0.1, 0.3], [0.16, 0.0, 0.5]]
    labels = np.array([[1, 1, 0], [-1, 0, 1]], np.int8)
    counts = cross_location.rule_counts(LabelledImage('t', reflectance, labels))
    assert (counts.tp, counts.tn, counts.fp, counts.fn) == (2, 1, 1, 1)
    every_other = cross_location.rule_counts(LabelledImage('t', reflectance, labels), stride=2)
    assert (every_other.tp, every_other.tn, every_other.fp, every_other.fn) == (1, 0, 1, 0)
