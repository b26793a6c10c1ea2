"""The shipped models: contract metadata, card, and sensible output on real patches."""

import os
import re

import numpy as np
import pytest
from conftest import REPO, data_path

from algorithms.core.detection.inference import read_model
from algorithms.core.sentinel2.bands import L1C_BANDS
from models.training.datasets import read_image
from models.training.report import sha256

MODELS = os.path.join(REPO, 'models')
# model id: (bands, resolution, scale of the stored test patches, patch file prefix)
SHIPPED = {
    's2cloudcnn-l1c13': (L1C_BANDS, 60.0, 1e-4, 'l1c13'),
    's2cloudcnn-rgbn': (('B02', 'B03', 'B04', 'B08'), 10.0, 1e-4, 'rgbn'),
}


@pytest.mark.parametrize('model_id', sorted(SHIPPED))
def test_shipped_model_declares_the_contract(model_id):
    path = os.path.join(MODELS, f'{model_id}.onnx')
    bands, resolution, _, _ = SHIPPED[model_id]
    meta, _ = read_model(path)
    assert meta.model_id == model_id
    assert meta.bands == bands and meta.resolution_m == resolution
    assert meta.patch_size == 16 and meta.padding == 8 and meta.threshold == 0.5
    assert len(meta.filters) == 3 and meta.variant == 'leakyrelu'
    assert 'labelled' in meta.heldout_metrics and meta.heldout_metrics['nature']
    assert os.path.getsize(path) < 1024 * 1024  # the plugin zip must stay small


@pytest.mark.parametrize('model_id', sorted(SHIPPED))
def test_model_card_gives_the_files_sha256(model_id):
    with open(os.path.join(MODELS, 'README.md')) as handle:
        card = handle.read()
    digest = sha256(os.path.join(MODELS, f'{model_id}.onnx'))
    assert re.search(rf'{model_id}.onnx.*?sha256.*?{digest}', card, re.S), (
        f'models/README.md does not give the current sha256 of {model_id}.onnx: {digest}')


@pytest.mark.parametrize('model_id', sorted(SHIPPED))
def test_shipped_model_separates_a_real_cloudy_and_a_real_clear_patch(model_id):
    _, _, scale, prefix = SHIPPED[model_id]
    meta, session = read_model(os.path.join(MODELS, f'{model_id}.onnx'))
    patches = np.stack([read_image(data_path('training', f'{prefix}_{kind}.tif'), scale)
                        for kind in ('cloudy', 'clear')])
    outputs = session.session.run(None, {'patches': patches})
    probability = outputs[0][:, 0]
    assert probability[0] > 0.9, f'cloudy patch: P(cloud) = {probability[0]:.3f}'
    assert probability[1] < 0.1, f'clear patch: P(cloud) = {probability[1]:.3f}'
    filters = meta.filters
    assert [o.shape[1:] for o in outputs[1:4]] == [
        (filters[0], 16, 16), (filters[1], 8, 8), (filters[2], 4, 4)]
