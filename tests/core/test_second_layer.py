"""The two-shared-layer fast path equals the plain per-patch path on real crops, or steps aside."""

import dataclasses

import numpy as np
import onnx
import pytest
from detect_helpers import CROP, RGBN_CROP, RGBN_MODEL, SHIPPED_MODEL, read, read_all

from algorithms.core.detection import second_layer
from algorithms.core.detection.detect import DetectOptions, detect_clouds
from algorithms.core.detection.fast_path import SharedConvUnavailable
from algorithms.core.detection.inference import load_model
from algorithms.core.detection.patches import PlainEvaluator, padded_block
from algorithms.core.run import RunContext

# Both paths sum the same products in another order: float32 rounding only.
TOLERANCE = 1e-5
# (first row, first column, rows, columns) of output pixels: image corners and edges (zero
# padding), a block around the no-data hole, a single last pixel.
WINDOWS = [(0, 0, 40, 52), (100, 90, 28, 38), (30, 20, 64, 70), (127, 127, 1, 1)]


def padded_window(image, top, left, height, width):
    """Return the padded block of the window's pixels, zero outside the image and at NaN."""
    bands, rows, cols = image.shape
    data = np.full((bands, height + 15, width + 15), np.nan, np.float32)
    r0, c0 = top - 8, left - 8
    rs, re, cs, ce = max(r0, 0), min(r0 + height + 15, rows), max(c0, 0), min(c0 + width + 15, cols)
    data[:, rs - r0:re - r0, cs - c0:ce - c0] = image[:, rs:re, cs:ce]
    valid = np.isfinite(data).all(axis=0)
    return padded_block(np.nan_to_num(data), valid)


@pytest.fixture(scope='module', params=[(CROP, SHIPPED_MODEL), (RGBN_CROP, RGBN_MODEL)],
                ids=['l1c13', 'rgbn'])
def scene(request):
    source, path = request.param
    raw = read_all(source)
    image = raw.astype(np.float32)
    if np.issubdtype(raw.dtype, np.integer):  # reflectance x 10000, 0 = no data
        image = np.where(raw == 0, np.nan, image / 10000).astype(np.float32)
    image[:, 40:44, 50:53] = np.nan  # a no-data hole inside the third window
    model = load_model(str(path))
    fast = second_layer.build_second_layer_evaluator(model, 'cpu', threads=1)
    return image, fast, PlainEvaluator(model.cpu_session, model.metadata)


@pytest.mark.parametrize('window', WINDOWS, ids=lambda w: 'x'.join(map(str, w)))
def test_two_shared_layers_equal_the_plain_path_on_real_crops(scene, window):
    image, fast, plain = scene
    padded = padded_window(image, *window)
    rows, cols = (axis.ravel() for axis in np.mgrid[0:window[2], 0:window[3]])
    results = []
    for evaluator in (fast, plain):
        evaluator.begin_block(padded)
        results.append(evaluator.probabilities(rows, cols))
    worst = float(np.max(np.abs(results[0] - results[1])))
    assert worst <= TOLERANCE, (window, worst)
    # P(cloud) saturates on clear ground: the second layer's pooled cells must agree too.
    some = slice(None, None, 7)
    name = plain.metadata.linear_outputs[1]
    graph = plain.session.run(name, {plain.metadata.input_name: plain.patches(rows[some],
                                                                              cols[some])})
    n, filters, size = graph.shape[:3]
    expected = graph.reshape(n, filters, size // 2, 2, size // 2, 2).max(axis=(3, 5))
    cells = fast.pooled_cells(rows[some], cols[some]).transpose(0, 3, 1, 2)
    scale = max(1.0, float(np.abs(expected).max()))
    assert float(np.max(np.abs(cells - expected))) <= TOLERANCE * scale


def test_self_check_catches_a_wrong_second_layer(monkeypatch):
    real = second_layer._second_layer

    def shifted_bias(graph, metadata):
        layer = real(graph, metadata)
        return dataclasses.replace(layer, bias=layer.bias + 0.5)

    monkeypatch.setattr(second_layer, '_second_layer', shifted_bias)
    with pytest.raises(SharedConvUnavailable, match='conv layer 2 differs from the complete'):
        second_layer.build_second_layer_evaluator(load_model(str(SHIPPED_MODEL)), 'cpu', 1)


def test_a_model_of_another_shape_falls_back_to_the_first_layer_path(tmp_path):
    # An Identity between the second conv and its activation: not the graph this path reads.
    proto = onnx.load(str(SHIPPED_MODEL))
    conv = next(node for node in proto.graph.node if node.output[0] == 'conv2_linear')
    conv.output[0] = 'conv2_raw'
    proto.graph.node.insert(list(proto.graph.node).index(conv) + 1,
                            onnx.helper.make_node('Identity', ['conv2_raw'], ['conv2_linear']))
    other = tmp_path / 'other.onnx'
    onnx.save(proto, str(other))
    results, log = {}, []
    for name, path in (('fast', other), ('plain', SHIPPED_MODEL)):
        (tmp_path / name).mkdir()
        options = DetectOptions(provider='cpu', probability_path=str(tmp_path / name / 'p.tif'),
                                shared_conv=name == 'fast')
        result = detect_clouds(str(CROP), str(tmp_path / name / 'mask.tif'), str(path), options,
                               RunContext(log=log.append))
        results[name] = (result, read(tmp_path / name / 'p.tif'))
    assert results['fast'][0].fast_path and not results['plain'][0].fast_path
    assert any('Second-layer fast path not used (conv2 is not a 3x3 conv' in line
               for line in log), log
    assert any('first conv layer shared between patches' in line for line in log), log
    worst = float(np.max(np.abs(results['fast'][1] - results['plain'][1])))
    assert worst <= TOLERANCE, worst


def test_the_first_layer_path_can_still_be_chosen_and_agrees(tmp_path):
    probabilities, log = [], []
    for name, second in (('two', True), ('one', False)):
        (tmp_path / name).mkdir()
        options = DetectOptions(provider='cpu', probability_path=str(tmp_path / name / 'p.tif'),
                                shared_second_layer=second)
        result = detect_clouds(str(CROP), str(tmp_path / name / 'mask.tif'), str(SHIPPED_MODEL),
                               options, RunContext(log=log.append))
        assert result.fast_path
        probabilities.append(read(tmp_path / name / 'p.tif'))
    providers = [line for line in log if line.startswith('Execution provider')]
    assert ['first two conv layers' in line for line in providers] == [True, False], providers
    worst = float(np.max(np.abs(probabilities[0] - probabilities[1])))
    assert worst <= TOLERANCE, worst
