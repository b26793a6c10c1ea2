"""Build small ONNX models with the S2 Cloud CNN contract (random weights) for tests.

The shipped models come from models/training; these stand-ins exist only for bad-input cases
(a model without metadata, a model at another resolution).
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from algorithms.core.detection.contract import ModelMetadata
from algorithms.core.sentinel2.bands import L1C_BANDS


def _tensor(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def _conv_block(index, in_name, channels_in, filters, rng, nodes, inits):
    w = rng.normal(0, np.sqrt(2.0 / (9 * channels_in)), (filters, channels_in, 3, 3))
    b = rng.normal(0, 0.05, filters)
    inits += [_tensor(f'w{index}', w), _tensor(f'b{index}', b)]
    linear, act, pooled = f'conv{index}_linear', f'conv{index}', f'pool{index}'
    nodes += [
        helper.make_node('Conv', [in_name, f'w{index}', f'b{index}'], [linear],
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node('LeakyRelu', [linear], [act], alpha=0.3),
        helper.make_node('MaxPool', [act], [pooled], kernel_shape=[2, 2], strides=[2, 2]),
    ]
    return pooled


def _dense(index, in_name, n_in, n_out, rng, nodes, inits, activation):
    inits += [_tensor(f'fc{index}_w', rng.normal(0, np.sqrt(2.0 / n_in), (n_out, n_in))),
              _tensor(f'fc{index}_b', rng.normal(0, 0.05, n_out))]
    out = f'fc{index}'
    nodes.append(helper.make_node('Gemm', [in_name, f'fc{index}_w', f'fc{index}_b'], [out],
                                  transB=1))
    nodes.append(helper.make_node(activation, [out], [out + '_act']))
    return out + '_act'


def build_model(path, bands=L1C_BANDS, filters=(8, 16, 32), resolution_m=60.0, seed=0,
                metadata=True, model_id='test-random', mean=0.2, std=0.1):
    """Write a randomly initialised contract-shaped model to `path` and return its metadata."""
    rng = np.random.default_rng(seed)
    n = len(bands)
    nodes, inits = [], [_tensor('mean', np.full((1, n, 1, 1), mean)),
                        _tensor('std', np.full((1, n, 1, 1), std))]
    nodes += [helper.make_node('Sub', ['patches', 'mean'], ['centred']),
              helper.make_node('Div', ['centred', 'std'], ['normalised'])]
    current, channels = 'normalised', n
    for index, count in enumerate(filters, start=1):
        current = _conv_block(index, current, channels, count, rng, nodes, inits)
        channels = count
    nodes.append(helper.make_node('Flatten', [current], ['flat']))
    hidden = _dense(1, 'flat', channels * 4, 50, rng, nodes, inits, 'Relu')
    hidden = _dense(2, hidden, 50, 50, rng, nodes, inits, 'Relu')
    logit = _dense(3, hidden, 50, 1, rng, nodes, inits, 'Sigmoid')
    nodes.append(helper.make_node('Identity', [logit], ['probability']))
    size = 16
    outputs = [helper.make_tensor_value_info('probability', TensorProto.FLOAT, ['N', 1])]
    for index, count in enumerate(filters, start=1):
        for name in (f'conv{index}', f'conv{index}_linear'):
            outputs.append(helper.make_tensor_value_info(
                name, TensorProto.FLOAT, ['N', count, size, size]))
        size //= 2
    graph = helper.make_graph(nodes, 'tiny', [helper.make_tensor_value_info(
        'patches', TensorProto.FLOAT, ['N', n, 16, 16])], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    model.ir_version = 8
    meta = ModelMetadata(model_id=model_id, version='0', bands=tuple(bands),
                         resolution_m=resolution_m, patch_size=16, padding=8,
                         input_kind='toa_reflectance', band_mean=(mean,) * n,
                         band_std=(std,) * n, threshold=0.5, variant='leakyrelu',
                         filters=tuple(filters), trained_on='nothing: random weights')
    if metadata:
        onnx.helper.set_model_props(model, meta.to_props())
    onnx.save(model, str(path))
    return meta


def graph_first_layer(path):
    """Return (weights, bias, negative slope) of conv1 as the graph's own nodes hold them."""
    proto = onnx.load(str(path))
    made_by = {node.output[0]: node for node in proto.graph.node}
    constants = {tensor.name: numpy_helper.to_array(tensor) for tensor in proto.graph.initializer}
    conv, activation = made_by['conv1_linear'], made_by['conv1']
    attributes = {a.name: helper.get_attribute_value(a) for a in activation.attribute}
    alpha = attributes['alpha'] if activation.op_type == 'LeakyRelu' else 0.0
    return constants[conv.input[1]], constants[conv.input[2]], alpha
