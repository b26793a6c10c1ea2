"""Contract schema 2 for the shipped models without retraining: the upgrade tool and its checks."""

import os

import numpy as np
import onnx
import pytest
from conftest import REPO
from onnx import numpy_helper
from onnx_builder import build_model, graph_first_layer

from algorithms.core.detection.contract import CONV1_KEYS
from algorithms.core.detection.inference import read_model
from models.training.report import sha256
from models.training.upgrade_contract import GraphShapeError, first_layer_of, upgrade

MODELS = os.path.join(REPO, 'models')
SHIPPED = ('s2cloudcnn-l1c13', 's2cloudcnn-rgbn')


def as_schema1(source, target):
    """Write `source` as the schema 1 file it was before the upgrade (graph untouched)."""
    proto = onnx.load(str(source))
    props = {p.key: p.value for p in proto.metadata_props if p.key not in CONV1_KEYS}
    onnx.helper.set_model_props(proto, {**props, 'schema': '1'})
    onnx.save(proto, str(target))
    return str(target)


@pytest.mark.parametrize('model_id', SHIPPED)
def test_shipped_metadata_weights_are_the_graphs_conv1_initializers(model_id):
    path = os.path.join(MODELS, f'{model_id}.onnx')
    meta, _ = read_model(path)
    weights, bias, alpha = graph_first_layer(path)
    assert meta.schema == '2'
    assert meta.conv1.weights.shape == weights.shape == (meta.filters[0], len(meta.bands), 3, 3)
    assert meta.conv1.weights.tobytes() == weights.tobytes()
    assert meta.conv1.bias.tobytes() == bias.tobytes()
    assert meta.conv1.negative_slope == alpha
    assert (meta.conv1.pool_kernel, meta.conv1.pool_strides) == ((2, 2), (2, 2))


@pytest.mark.parametrize('model_id', SHIPPED)
def test_upgrading_the_schema1_file_gives_the_shipped_bytes(tmp_path, model_id):
    shipped = os.path.join(MODELS, f'{model_id}.onnx')
    old = as_schema1(shipped, tmp_path / 'old.onnx')
    assert read_model(old)[0].conv1 is None
    report = upgrade(old, str(tmp_path / 'new.onnx'))
    assert sha256(str(tmp_path / 'new.onnx')) == sha256(shipped)
    assert report['probability_change'] == 0.0 and report['weights_vs_probe'] < 1e-6, report
    assert sorted(os.listdir(tmp_path)) == ['new.onnx', 'old.onnx']


def test_a_graph_whose_normalisation_differs_from_its_metadata_is_refused(tmp_path):
    path = tmp_path / 'random.onnx'
    meta = build_model(path, mean=0.2, std=0.1)
    proto = onnx.load(str(path))
    assert first_layer_of(proto, meta).weights.shape == (8, 13, 3, 3)
    mean = next(t for t in proto.graph.initializer if t.name == 'mean')
    mean.CopyFrom(numpy_helper.from_array(np.full((1, 13, 1, 1), 0.25, np.float32), 'mean'))
    with pytest.raises(GraphShapeError, match="mean differs from the metadata's band_mean"):
        first_layer_of(proto, meta)


def test_a_first_layer_without_a_leaky_relu_is_refused_and_the_file_kept(tmp_path):
    path = tmp_path / 'random.onnx'
    build_model(path)
    proto = onnx.load(str(path))
    activation = next(node for node in proto.graph.node if node.output[0] == 'conv1')
    activation.op_type = 'Sigmoid'
    del activation.attribute[:]
    onnx.save(proto, str(path))
    before = sha256(str(path))
    with pytest.raises(GraphShapeError, match='conv1 is not the output of a LeakyRelu or Relu'):
        upgrade(str(path))
    assert sha256(str(path)) == before
    assert os.listdir(tmp_path) == ['random.onnx']  # no partial file left
