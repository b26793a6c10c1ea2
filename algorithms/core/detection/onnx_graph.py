"""Cut an ONNX graph after its first pooling layer, with protobuf alone (no `onnx` package).

onnxruntime already depends on protobuf, so declaring the few ONNX message fields we touch is
enough to edit a model: every other field (weights, shapes, metadata) is kept as it was read,
as protobuf carries unknown fields through parsing and serialising unchanged. Field numbers
are those of onnx/onnx.proto (stable since IR version 3).
"""

import numpy as np

_FLOAT, _INTS = 1, 7  # TensorProto.FLOAT, AttributeProto.INTS
_ATTRIBUTE_FLOAT, _ATTRIBUTE_INT = 1, 2  # AttributeProto.FLOAT, AttributeProto.INT
_FIELDS = {  # message: [(name, number, type, label, message type)]
    'ModelProto': [('graph', 7, 'message', 'optional', 'GraphProto')],
    'GraphProto': [('node', 1, 'message', 'repeated', 'NodeProto'),
                   ('initializer', 5, 'message', 'repeated', 'TensorProto'),
                   ('input', 11, 'message', 'repeated', 'ValueInfoProto'),
                   ('output', 12, 'message', 'repeated', 'ValueInfoProto')],
    'NodeProto': [('input', 1, 'string', 'repeated', None),
                  ('output', 2, 'string', 'repeated', None),
                  ('op_type', 4, 'string', 'optional', None),
                  ('attribute', 5, 'message', 'repeated', 'AttributeProto')],
    'AttributeProto': [('name', 1, 'string', 'optional', None),
                       ('f', 2, 'float', 'optional', None),
                       ('i', 3, 'int64', 'optional', None),
                       ('ints', 8, 'int64', 'repeated', None),
                       ('type', 20, 'int32', 'optional', None)],
    'TensorProto': [('dims', 1, 'int64', 'repeated', None),
                    ('data_type', 2, 'int32', 'optional', None),
                    ('float_data', 4, 'float', 'repeated', None),
                    ('name', 8, 'string', 'optional', None),
                    ('raw_data', 9, 'bytes', 'optional', None)],
    'ValueInfoProto': [('name', 1, 'string', 'optional', None),
                       ('type', 2, 'message', 'optional', 'TypeProto')],
    'TypeProto': [('tensor_type', 1, 'message', 'optional', 'TensorTypeProto')],
    'TensorTypeProto': [('elem_type', 1, 'int32', 'optional', None),
                        ('shape', 2, 'message', 'optional', 'TensorShapeProto')],
    'TensorShapeProto': [('dim', 1, 'message', 'repeated', 'DimensionProto')],
    'DimensionProto': [('dim_value', 1, 'int64', 'optional', None),
                       ('dim_param', 2, 'string', 'optional', None)],
}
_PACKAGE = 's2cloudcnn_onnx_subset'
_classes = {}


def _message_classes():
    """Build (once) Python classes for the ONNX message subset above."""
    if _classes:
        return _classes
    # Imported here: protobuf comes with onnxruntime, which the plugin may not have yet.
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    types = descriptor_pb2.FieldDescriptorProto
    file_proto = descriptor_pb2.FileDescriptorProto(
        name=f'{_PACKAGE}.proto', package=_PACKAGE, syntax='proto2')
    for message, fields in _FIELDS.items():
        proto = file_proto.message_type.add(name=message)
        for name, number, kind, label, type_name in fields:
            field = proto.field.add(name=name, number=number,
                                    type=getattr(types, f'TYPE_{kind.upper()}'),
                                    label=getattr(types, f'LABEL_{label.upper()}'))
            if type_name:
                field.type_name = f'.{_PACKAGE}.{type_name}'
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_proto)
    for message in _FIELDS:
        descriptor = pool.FindMessageTypeByName(f'{_PACKAGE}.{message}')
        _classes[message] = message_factory.GetMessageClass(descriptor)
    return _classes


def attributes(node) -> 'dict[str, list[int]]':
    """Return a node's integer-list attributes as {name: [ints]}."""
    return {attribute.name: list(attribute.ints) for attribute in node.attribute}


def float_attribute(node, name: str, default: float) -> float:
    """Return a node's float attribute `name`, or `default` where the node does not set it."""
    found = [attribute.f for attribute in node.attribute if attribute.name == name]
    return found[0] if found else default


def int_attribute(node, name: str, default: int) -> int:
    """Return a node's integer attribute `name`, or `default` where the node does not set it."""
    found = [attribute.i for attribute in node.attribute if attribute.name == name]
    return found[0] if found else default


def float_initializers(model) -> 'dict[str, np.ndarray]':
    """Return the graph's float32 initializers (weights, biases) as {name: array}."""
    arrays = {}
    for tensor in model.graph.initializer:
        if tensor.data_type == _FLOAT:
            values = (np.frombuffer(tensor.raw_data, '<f4') if tensor.raw_data
                      else np.asarray(tensor.float_data, np.float32))
            arrays[tensor.name] = values.reshape(tuple(tensor.dims)).astype(np.float32)
    return arrays


def load(model_bytes: bytes):
    """Parse serialized ONNX bytes into the subset ModelProto."""
    model = _message_classes()['ModelProto']()
    model.ParseFromString(model_bytes)
    return model


def consumers(model, value_name: str) -> list:
    """Return the nodes that read the value `value_name`."""
    return [node for node in model.graph.node if value_name in node.input]


def cut_head(model, start: str, output: str, nhwc_input: str, shape,
             negative_slope: 'float | None' = None) -> bytes:
    """Return serialized bytes of the subgraph from value `start` to value `output`.

    The new graph input `nhwc_input` is float32 [N, *shape] channels-last; a Transpose turns it
    into the NCHW value `start`, so callers can gather cells channels-last without a copy.
    With `negative_slope`, a leaky ReLU of that slope follows the Transpose: for callers that
    max-pool before the activation (the same values, as the activation is increasing).
    """
    needed, wanted = [], {output}
    for node in reversed(model.graph.node):
        if wanted.intersection(node.output):
            needed.append(node)
            wanted.update(name for name in node.input if name != start)
    classes = _message_classes()
    head = classes['ModelProto']()
    head.CopyFrom(model)
    graph = head.graph
    del graph.node[:], graph.input[:]
    transposed = start if negative_slope is None else f'{nhwc_input}_nchw'
    transpose = graph.node.add(op_type='Transpose', input=[nhwc_input], output=[transposed])
    transpose.attribute.add(name='perm', ints=[0, 3, 1, 2], type=_INTS)
    if negative_slope is not None:
        activation = graph.node.add(op_type='LeakyRelu', input=[transposed], output=[start])
        activation.attribute.add(name='alpha', f=negative_slope, type=_ATTRIBUTE_FLOAT)
    graph.node.extend(reversed(needed))
    value = graph.input.add(name=nhwc_input)
    value.type.tensor_type.elem_type = _FLOAT
    value.type.tensor_type.shape.dim.add(dim_param='N')
    for size in shape:
        value.type.tensor_type.shape.dim.add(dim_value=size)
    kept = [value for value in graph.output if value.name == output]
    del graph.output[:]
    graph.output.extend(kept)
    return head.SerializeToString()


class GraphWriter:
    """A new graph in a copy of `model` (same IR and opset versions): nodes, weights, outputs."""

    def __init__(self, model):
        self.model = _message_classes()['ModelProto']()
        self.model.CopyFrom(model)
        graph = self.model.graph
        del graph.node[:], graph.input[:], graph.output[:], graph.initializer[:]
        self._count = 0

    def input(self, name: str, shape: list) -> str:
        """Declare a float32 graph input of a fixed shape; return its name."""
        value = self.model.graph.input.add(name=name)
        value.type.tensor_type.elem_type = _FLOAT
        for size in shape:
            value.type.tensor_type.shape.dim.add(dim_value=size)
        return name

    def constant(self, array: np.ndarray) -> str:
        """Add a float32 initializer; return its name."""
        array = np.ascontiguousarray(array, '<f4')
        name = self._name('weights')
        self.model.graph.initializer.add(name=name, dims=list(array.shape), data_type=_FLOAT,
                                         raw_data=array.tobytes())
        return name

    def node(self, op_type: str, inputs: list, outputs: int = 1, **attributes) -> list:
        """Add a node with float, int or int-list attributes; return its output names."""
        names = [self._name(op_type) for _ in range(outputs)]
        node = self.model.graph.node.add(op_type=op_type, input=inputs, output=names)
        for key, value in attributes.items():
            if isinstance(value, float):
                node.attribute.add(name=key, f=value, type=_ATTRIBUTE_FLOAT)
            elif isinstance(value, int):
                node.attribute.add(name=key, i=value, type=_ATTRIBUTE_INT)
            else:
                node.attribute.add(name=key, ints=list(value), type=_INTS)
        return names

    def serialize(self, outputs: list) -> bytes:
        """Return the model bytes with `outputs` as float32 graph outputs."""
        for name in outputs:
            self.model.graph.output.add(name=name).type.tensor_type.elem_type = _FLOAT
        return self.model.SerializeToString()

    def _name(self, prefix):
        self._count += 1
        return f'{prefix}_{self._count}'
