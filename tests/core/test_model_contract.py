"""Model contract schema 2: the first layer in the metadata, read exactly and checked; schema 1
models still take the fast path through probing, and the model file is read once per run."""

import base64
import builtins
import json
import os

import numpy as np
import onnx
import pytest
from detect_helpers import CROP, RGBN_CROP, RGBN_MODEL, SHIPPED_MODEL, read

from algorithms.core.detection.contract import CONV1_KEYS, FirstLayer, parse_metadata
from algorithms.core.detection.detect import DetectOptions, detect_clouds
from algorithms.core.detection.inference import import_onnxruntime, read_model
from algorithms.core.errors import ModelError
from algorithms.core.inspection.first_layer import probe_conv1
from algorithms.core.run import RunContext

# The metadata path and the probing path must give the same probabilities as before.
SAME_PROBABILITY = 1e-6


def shipped_props(model=SHIPPED_MODEL):
    return {prop.key: prop.value for prop in onnx.load(str(model)).metadata_props}


def rewrite_props(model, path, change):
    """Copy `model` to `path` with its metadata changed by change(props) (in place)."""
    proto = onnx.load(str(model))
    props = {prop.key: prop.value for prop in proto.metadata_props}
    change(props)
    onnx.helper.set_model_props(proto, props)
    onnx.save(proto, str(path))
    return str(path)


def as_schema1(props):
    for key in CONV1_KEYS:
        del props[key]
    props['schema'] = '1'


def detect(tmp_path, source, model, **options):
    """Run detection on the CPU; return (result, P(cloud), log lines)."""
    messages = []
    result = detect_clouds(str(source), str(tmp_path / 'mask.tif'), str(model),
                           DetectOptions(provider='cpu', probability_path=str(tmp_path / 'p.tif'),
                                         **options), RunContext(log=messages.append))
    return result, read(tmp_path / 'p.tif'), messages


def test_first_layer_round_trips_bit_for_bit():
    rng = np.random.default_rng(3)
    weights = rng.normal(0, 1, (8, 13, 3, 3)).astype(np.float32)
    weights[0, 0, 0, 0] = np.float32(1e-38)  # subnormal-near values survive too
    bias = rng.normal(0, 1, 8).astype(np.float32)
    props = {**shipped_props(), **FirstLayer(weights, bias, 0.3).to_props()}
    read_back = parse_metadata(props).conv1
    assert read_back.weights.dtype == np.float32 and read_back.weights.shape == (8, 13, 3, 3)
    assert read_back.weights.tobytes() == weights.tobytes()
    assert read_back.bias.tobytes() == bias.tobytes()
    assert read_back.negative_slope == float(np.float32(0.3))
    assert (read_back.pool_kernel, read_back.pool_strides) == ((2, 2), (2, 2))


def test_schema1_metadata_is_read_without_a_first_layer():
    props = shipped_props()
    as_schema1(props)
    meta = parse_metadata(props)
    assert meta.conv1 is None and meta.schema == '1'
    assert parse_metadata(meta.to_props()).schema == '1'


def _array_record(props, key, **changes):
    record = json.loads(props[key])
    record.update(changes)
    return json.dumps(record)


def _array_json(values):
    data = np.asarray(values, '<f4')
    return json.dumps({'shape': list(data.shape), 'dtype': '<f4',
                       'base64': base64.b64encode(data.tobytes()).decode()})


NAN_WEIGHTS = np.zeros((8, 13, 3, 3))
NAN_WEIGHTS[3, 2, 1, 1] = np.nan
MALFORMED = {
    'missing key': (lambda p: p.pop('conv1_bias'), r"lacks \['conv1_bias'\]"),
    'unknown schema': (lambda p: p.update(schema='3'), 'schema 3; this plugin reads 1 and 2'),
    'not json': (lambda p: p.update(conv1_weights='{shape'), 'conv1_weights is not JSON'),
    'not an object': (lambda p: p.update(conv1_pooling='[2, 2]'), 'must be a JSON object'),
    'wrong shape': (lambda p: p.update(conv1_weights=_array_record(
        p, 'conv1_weights', shape=[8, 12, 3, 3])), r'has shape \[8, 12, 3, 3\].*\[8, 13, 3, 3\]'),
    'float64': (lambda p: p.update(conv1_bias=_array_record(p, 'conv1_bias', dtype='<f8')),
                'little-endian float32'),
    'bad base64': (lambda p: p.update(conv1_bias=_array_record(p, 'conv1_bias', base64='@@@')),
                   'not valid base64'),
    'short data': (lambda p: p.update(conv1_bias=_array_record(
        p, 'conv1_bias', base64=base64.b64encode(b'\0' * 28).decode())),
        'holds 28 bytes; shape \\[8\\] needs 32'),
    'not finite': (lambda p: p.update(conv1_weights=_array_json(NAN_WEIGHTS)),
                   'conv1_weights holds values that are not finite'),
    'slope': (lambda p: p.update(conv1_activation='{"negative_slope": 1.5}'),
              'negative_slope from 0 to below 1, not 1.5'),
    'pooling': (lambda p: p.update(conv1_pooling='{"op": "AveragePool", "kernel_shape": [2, 2], '
                                                 '"strides": [2, 2]}'), 'conv1_pooling must be'),
}


@pytest.mark.parametrize('case', MALFORMED, ids=list(MALFORMED))
def test_malformed_first_layer_is_a_clear_model_error(case):
    change, message = MALFORMED[case]
    props = shipped_props()
    change(props)
    with pytest.raises(ModelError, match=message):
        parse_metadata(props, 'model.onnx')


def test_shipped_first_layer_equals_the_graphs_probe():
    meta, session = read_model(str(SHIPPED_MODEL))
    probed = probe_conv1(session, meta)
    assert meta.schema == '2'
    np.testing.assert_allclose(meta.conv1.weights, probed.weights, rtol=0, atol=1e-6)
    np.testing.assert_allclose(meta.conv1.bias, probed.bias, rtol=0, atol=1e-6)
    assert meta.conv1.negative_slope == pytest.approx(probed.negative_slope, abs=1e-6)


@pytest.mark.parametrize('source, model', [(CROP, SHIPPED_MODEL), (RGBN_CROP, RGBN_MODEL)],
                         ids=['l1c13', 'rgbn'])
def test_metadata_path_equals_probing_path_on_the_test_scenes(tmp_path, source, model):
    schema1 = rewrite_props(model, tmp_path / 'schema1.onnx', as_schema1)
    ways = {}
    for name, path, probe in (('metadata', model, None), ('probed', schema1, probe_conv1),
                              ('plain', schema1, None)):
        (tmp_path / name).mkdir()
        ways[name] = detect(tmp_path / name, source, path, first_layer_probe=probe)
    (metadata, p_meta, log_meta), (probed, p_probe, log_probe), (plain, p_plain, log_plain) = (
        ways['metadata'], ways['probed'], ways['plain'])
    assert metadata.fast_path and probed.fast_path and not plain.fast_path
    assert any("read from the model's metadata (schema 2)" in line for line in log_meta), log_meta
    assert any('probed from the graph (metadata schema 1' in line for line in log_probe), log_probe
    assert any('does not state its first layer' in line for line in log_plain), log_plain
    assert np.isfinite(p_meta).all()
    assert float(np.max(np.abs(p_meta - p_probe))) <= SAME_PROBABILITY
    assert float(np.max(np.abs(p_meta - p_plain))) <= 1e-5  # another summation order


def test_self_check_still_guards_a_first_layer_that_lies(tmp_path):
    def scaled(props):
        first = parse_metadata(props).conv1
        props.update(FirstLayer(first.weights * 1.5, first.bias, first.negative_slope).to_props())

    liar = rewrite_props(SHIPPED_MODEL, tmp_path / 'liar.onnx', scaled)
    result, probability, log = detect(tmp_path, CROP, liar)
    assert not result.fast_path and np.isfinite(probability).all()
    assert any('differs from the complete graph' in line for line in log), log


@pytest.mark.parametrize('options', [{}, {'shared_conv': False, 'threads': 2}],
                         ids=['fast', 'plain-own-session'])
def test_the_model_file_is_read_once_per_run(tmp_path, monkeypatch, options):
    model = os.path.realpath(SHIPPED_MODEL)
    opened, session_sources = [], []
    real_open, ort = builtins.open, import_onnxruntime()
    real_session = ort.InferenceSession

    def counting_open(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and os.path.realpath(file) == model:
            opened.append(file)
        return real_open(file, *args, **kwargs)

    def recording_session(source, *args, **kwargs):
        session_sources.append(type(source).__name__)
        return real_session(source, *args, **kwargs)

    monkeypatch.setattr(builtins, 'open', counting_open)
    monkeypatch.setattr(ort, 'InferenceSession', recording_session)
    result, _, _ = detect(tmp_path, CROP, model, **options)
    assert result.fast_path == (not options)
    assert len(opened) == 1, opened
    # fast: the model, its head, the dense second layer for the self-check's block shape
    # and for the crop's one block shape; plain: the model and its own session
    assert len(session_sources) == (2 if options else 4), session_sources
    assert set(session_sources) == {'bytes'}, session_sources
