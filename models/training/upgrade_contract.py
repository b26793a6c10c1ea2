"""Model contract schema 2 from a graph's own initializers, for the export and old files.

The export writes it; `upgrade` adds it to an exported schema 1 file without retraining.

`first_layer_of` reads conv1's weights, bias, activation slope and pooling from the ONNX nodes
and initializers (the onnx package, a development dependency). `upgrade` adds them to a file's
metadata and leaves the graph untouched, then checks the result with the plugin's own loader.

    python -m models.training.upgrade_contract models/s2cloudcnn-l1c13.onnx [--output other.onnx]
"""

import argparse
import os

import numpy as np
import onnx
from onnx import numpy_helper

from algorithms.core.detection.contract import SCHEMA_VERSION, FirstLayer, parse_metadata
from algorithms.core.detection.inference import load_model
from algorithms.core.inspection.first_layer import PROBE_TOLERANCE, probe_conv1, random_patches

_CONV = {'kernel_shape': [3, 3], 'pads': [1, 1, 1, 1], 'strides': [1, 1], 'dilations': [1, 1],
         'group': 1}
_CONV_DEFAULTS = {'pads': [0, 0, 0, 0], 'strides': [1, 1], 'dilations': [1, 1], 'group': 1}
_ONNX_LEAKY_DEFAULT = 0.01  # LeakyRelu's alpha when the node does not set it


class GraphShapeError(ValueError):
    """The graph's first layer is not what contract schema 2 can describe."""


def first_layer_of(proto: onnx.ModelProto, metadata) -> FirstLayer:
    """Return conv1 as the graph computes it, read from its nodes and initializers.

    Raises:
        GraphShapeError: naming the node that breaks the contract's first layer
            (normalise -> 3x3 'same' Conv -> LeakyRelu/Relu -> MaxPool).

    """
    producer = {name: node for node in proto.graph.node for name in node.output}
    constants = {tensor.name: numpy_helper.to_array(tensor) for tensor in proto.graph.initializer}
    conv = _node(producer, metadata.linear_outputs[0], ('Conv',))
    found = {**_CONV_DEFAULTS, **_attributes(conv)}
    _require(all(found.get(key) == value for key, value in _CONV.items()),
             f'{conv.output[0]} is not a 3x3 stride-1 zero-padded Conv ({found})')
    _require_normalised_input(producer, constants, conv.input[0], metadata)
    weights = _constant(constants, conv.input[1])
    bias = (_constant(constants, conv.input[2]) if len(conv.input) > 2 and conv.input[2]
            else np.zeros(weights.shape[0], np.float32))
    activation = _node(producer, metadata.feature_outputs[0], ('LeakyRelu', 'Relu'))
    _require(list(activation.input) == [conv.output[0]],
             f'{activation.output[0]} is not computed from {conv.output[0]} alone')
    slope = (_attributes(activation).get('alpha', _ONNX_LEAKY_DEFAULT)
             if activation.op_type == 'LeakyRelu' else 0.0)
    pools = [node for node in proto.graph.node if activation.output[0] in node.input]
    _require(len(pools) == 1 and pools[0].op_type == 'MaxPool',
             f'{activation.output[0]} does not feed exactly one MaxPool')
    pool = _attributes(pools[0])
    _require(not any(pool.get('pads', [0])), 'the first MaxPool pads its input')
    return FirstLayer(weights.astype(np.float32), bias.astype(np.float32),
                      float(np.float32(slope)), tuple(pool['kernel_shape']),
                      tuple(pool.get('strides', (1, 1))))


def _require(condition, message):
    if not condition:
        raise GraphShapeError(message)


def _attributes(node):
    return {attribute.name: onnx.helper.get_attribute_value(attribute)
            for attribute in node.attribute}


def _node(producer, value, op_types):
    node = producer.get(value)
    _require(node is not None and node.op_type in op_types,
             f'{value} is not the output of a {" or ".join(op_types)} node')
    return node


def _constant(constants, name):
    _require(name in constants, f'{name} is not an initializer of the graph')
    return constants[name]


def _require_normalised_input(producer, constants, value, metadata):
    """The conv must read (input - band_mean) / band_std, as FirstLayer's weights assume."""
    div = _node(producer, value, ('Div',))
    sub = _node(producer, div.input[0], ('Sub',))
    _require(sub.input[0] == metadata.input_name,
             f'{sub.output[0]} does not subtract from the input {metadata.input_name}')
    for name, stated in ((sub.input[1], metadata.band_mean), (div.input[1], metadata.band_std)):
        values = _constant(constants, name).reshape(-1)
        _require(np.array_equal(values, np.asarray(stated, np.float32)),
                 f'{name} differs from the metadata\'s band_mean/band_std')


def with_first_layer(proto: onnx.ModelProto) -> onnx.ModelProto:
    """Return a copy of `proto` whose metadata is schema 2, the graph itself untouched."""
    props = {prop.key: prop.value for prop in proto.metadata_props}
    metadata = parse_metadata(props, 'the model')
    props.update(first_layer_of(proto, metadata).to_props())
    props['schema'] = SCHEMA_VERSION
    upgraded = onnx.ModelProto()
    upgraded.CopyFrom(proto)
    onnx.helper.set_model_props(upgraded, props)
    return upgraded


def upgrade(path: str, output: str = '') -> dict:
    """Write `path`'s model with schema 2 metadata to `output` (default: in place) and check it.

    Returns:
        dict: the largest differences between the stated first layer and probing the graph
        (weights, bias) and between the two files' probabilities on seeded random patches.

    Raises:
        GraphShapeError, ModelError: the model cannot be described or read.
        AssertionError: the check failed (the output is then removed).

    """
    output = output or path
    before = load_model(path)
    proto = with_first_layer(onnx.load_from_string(before.model_bytes))
    onnx.checker.check_model(proto)
    partial = f'{output}.partial-upgrade'
    onnx.save(proto, partial)
    try:
        report = _compare(before, load_model(partial))
    except BaseException:
        os.remove(partial)
        raise
    os.replace(partial, output)
    return report


def _compare(before, after):
    """Check the schema 2 file against the graph and against the file it came from."""
    meta = after.metadata
    probed = probe_conv1(after.cpu_session, meta)
    report = {
        'weights_vs_probe': float(np.max(np.abs(meta.conv1.weights - probed.weights))),
        'bias_vs_probe': float(np.max(np.abs(meta.conv1.bias - probed.bias))),
        'slope_vs_probe': abs(meta.conv1.negative_slope - probed.negative_slope),
    }
    patches = random_patches(meta, 256)
    old, new = (model.cpu_session.run(meta.output_name, {meta.input_name: patches})
                for model in (before, after))
    report['probability_change'] = float(np.max(np.abs(old - new)))
    assert max(report.values()) <= PROBE_TOLERANCE and report['probability_change'] == 0, report
    return report


def main(argv=None):
    """Upgrade the model files named on the command line; print each check."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('models', nargs='+', help='.onnx files with schema 1 metadata')
    parser.add_argument('--output', default='', help='write here instead of in place '
                                                     '(one model only)')
    args = parser.parse_args(argv)
    if args.output and len(args.models) > 1:
        parser.error('--output takes one model')
    for path in args.models:
        print(path, upgrade(path, args.output), flush=True)


if __name__ == '__main__':
    main()
