"""Exact faster path: the first two conv layers computed once per block, shared by patches.

The first layer works as in fast_path: 9 pooled maps per block, one per (row, column) type of a
pooled cell (first, inner, last). The second 3x3 conv reads pooled cells one cell apart, i.e.
map positions 2 apart (a dilated conv), and its "same" padding at the patch border again leaves
a few classes of cell per axis, each reading fixed taps from fixed input types (first cell: taps
0 and +1 of a first- and an inner-type cell; inner cells: all three taps of inner cells...).
Every class is then a sum of small dilated convs, one per input type it reads, run densely
over the block by onnxruntime; zero pads place each class's output grid so that its 2x2 pooling
becomes an elementwise max. The pooling comes before the activation (the same values, as the
activation is increasing), which then starts the head: each pixel gathers its pooled
second-layer cells and only the rest of the model (activation, third conv, pooling, dense
layers) runs per pixel, through a head cut from the model's own graph after the second
pooling. Checked against the complete graph before use.
"""

from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import onnx_graph
from .fast_path import (
    HEAD_INPUT,
    FirstLayerProbe,
    SharedConvEvaluator,
    SharedConvUnavailable,
    check_against_graph,
    first_layer_of,
    load_graph,
)
from .inference import CPU_PROVIDER, LoadedModel, open_session

_TAPS = (-1, 0, 1)
_STEP = 2  # map positions between neighbouring first-layer pooled cells


def build_second_layer_evaluator(model: LoadedModel, provider: str, threads: int = 0,
                                 probe: Optional[FirstLayerProbe] = None
                                 ) -> 'SecondLayerEvaluator':
    """Return a SecondLayerEvaluator for the model, checked against the complete graph.

    Args: as fast_path.build_shared_conv_evaluator.

    Raises:
        SharedConvUnavailable: why this path cannot be used (the model's graph is not a
            3x3 conv, leaky ReLU and 2x2 max pooling after the first pooling, or lacks it).

    """
    first, how = first_layer_of(model, probe)
    graph = load_graph(model.model_bytes)
    layer = _second_layer(graph, model.metadata)
    cells = model.metadata.patch_size // 4
    head_bytes = onnx_graph.cut_head(graph, layer.pooled, model.metadata.output_name,
                                     HEAD_INPUT, (cells, cells, layer.weights.shape[0]),
                                     negative_slope=layer.negative_slope)
    dense = DenseSecondLayer(graph, layer, AxisPlan.of(model.metadata.patch_size // 2), threads)
    head = open_session(head_bytes, provider, threads, source=f'{model.path} (head)')
    if head.provider != CPU_PROVIDER:  # a GPU head would wait for the CPU's dense layers
        raise SharedConvUnavailable(f'the head runs on {head.provider}')
    evaluator = SecondLayerEvaluator(head, model.metadata, first, how, dense)
    check_against_graph(evaluator, model.cpu_session, model.metadata, layer=1)
    return evaluator


@dataclass(frozen=True)
class SecondLayer:
    """The second conv layer as read from the graph, and the name of its pooled output."""

    weights: np.ndarray  # [filters, channels, 3, 3]
    bias: np.ndarray
    negative_slope: float
    pooled: str


def _second_layer(graph, metadata):
    """Read the second layer's weights; refuse a graph of another shape."""
    nodes = {name: node for node in graph.graph.node for name in node.output}
    activation = nodes.get(metadata.feature_outputs[1])
    conv = nodes.get(activation.input[0]) if activation is not None else None
    first_pool = _only_pool(graph, metadata.feature_outputs[0])
    if (activation is None or activation.op_type not in ('LeakyRelu', 'Relu') or conv is None
            or conv.op_type != 'Conv' or first_pool is None
            or conv.input[0] != first_pool.output[0] or not _is_same_3x3(conv)):
        raise SharedConvUnavailable(
            f'{metadata.feature_outputs[1]} is not a 3x3 conv and leaky ReLU of the first pooling')
    pool = _only_pool(graph, metadata.feature_outputs[1])
    weights = onnx_graph.float_initializers(graph)
    if pool is None or any(name not in weights for name in conv.input[1:]):
        raise SharedConvUnavailable(f'{metadata.feature_outputs[1]} does not feed one 2x2 max '
                                    'pooling, or its conv weights are not stored constants')
    kernel = weights[conv.input[1]]
    bias = weights[conv.input[2]] if len(conv.input) > 2 else np.zeros(len(kernel), np.float32)
    slope = (onnx_graph.float_attribute(activation, 'alpha', 0.01)
             if activation.op_type == 'LeakyRelu' else 0.0)
    if slope < 0:  # pooling before the activation needs an increasing activation
        raise SharedConvUnavailable(f'the second layer\'s activation slope {slope} is negative')
    return SecondLayer(kernel, bias, slope, pool.output[0])


def _only_pool(graph, name):
    """Return the one 2x2 stride-2 unpadded MaxPool reading `name`, else None."""
    readers = onnx_graph.consumers(graph, name)
    if len(readers) != 1 or readers[0].op_type != 'MaxPool':
        return None
    found = onnx_graph.attributes(readers[0])
    plain = (found.get('kernel_shape') == [2, 2] and found.get('strides') == [2, 2]
             and not any(found.get('pads', [0])) and found.get('dilations', [1, 1]) == [1, 1]
             and not onnx_graph.int_attribute(readers[0], 'ceil_mode', 0))
    return readers[0] if plain else None


def _is_same_3x3(conv):
    found = onnx_graph.attributes(conv)
    return (found.get('kernel_shape') == [3, 3] and found.get('pads') == [1, 1, 1, 1]
            and found.get('strides', [1, 1]) == [1, 1] and found.get('dilations', [1, 1]) == [1, 1]
            and onnx_graph.int_attribute(conv, 'group', 1) == 1)


@dataclass(frozen=True)
class AxisPlan:
    """Along one axis: the second layer's cell classes, their taps, pooling and output grids.

    A class is a tuple of (tap, input type) pairs; `groups[c]` = [(input type, first tap,
    last tap)]; `origin[c]` = the map position of output index 0 of class c (its zero pads);
    `pooled[t]` = (class, class) of pooled type t; `pooled_cell[k]` = type of pooled cell k;
    `extra` = output length minus input length, the same for every class.
    """

    groups: tuple
    origin: tuple
    pooled: tuple
    pooled_cell: tuple
    extra: int

    @classmethod
    def of(cls, cells: int) -> 'AxisPlan':
        """Plan the axis of `cells` first-layer pooled cells (first, inner..., last types)."""
        types = [0] + [1] * (cells - 2) + [2]
        keys = [tuple((d, types[i + d]) for d in _TAPS if 0 <= i + d < cells)
                for i in range(cells)]
        classes = list(dict.fromkeys(keys))
        cell_class = [classes.index(key) for key in keys]
        pairs = [(cell_class[2 * k], cell_class[2 * k + 1]) for k in range(cells // 2)]
        pooled = list(dict.fromkeys(pairs))
        groups = [_type_groups(key) for key in classes]
        origin = _origins(groups, pooled)
        extra = max(max(-origin[c] for c in range(len(classes))),
                    max(_pad_before(origin[c], g) - _STEP * (g[2] - g[1])
                        for c in range(len(classes)) for g in groups[c]))
        return cls(tuple(groups), tuple(origin), tuple(pooled),
                   tuple(pooled.index(p) for p in pairs), extra)

    def pads(self, klass, group):
        """Return (before, after) zero pads of one group's conv on this axis."""
        before = _pad_before(self.origin[klass], group)
        pooled_alone = (klass, klass) in self.pooled  # its pooling shortens it by one step
        return before, (self.extra - before + _STEP * (group[2] - group[1])
                        + _STEP * pooled_alone)

    def cell_offsets(self):
        """Return output index minus pixel position of each second-layer pooled cell."""
        return np.array([2 * _STEP * k - self.origin[self.pooled[t][0]]
                         for k, t in enumerate(self.pooled_cell)])


def _type_groups(key):
    """Return [(input type, first tap, last tap)] of a class key, taps of one type adjacent."""
    groups = {}
    for tap, kind in key:
        groups.setdefault(kind, []).append(tap)
    return [(kind, min(taps), max(taps)) for kind, taps in groups.items()]


def _pad_before(origin, group):
    return -(origin + _STEP * group[1])


def _origins(groups, pooled):
    """Output grid origins: pads never negative, the second cell of a pooled pair one step on."""
    bound = [min(-_STEP * first for _, first, _ in class_groups) for class_groups in groups]
    origin = list(bound)
    for first, second in pooled:
        if first != second:
            origin[first] = min(bound[first], bound[second] - _STEP)
            origin[second] = origin[first] + _STEP
    for first, second in pooled:
        if first != second and origin[second] != origin[first] + _STEP:
            raise SharedConvUnavailable('a second-layer class belongs to two pooled pairs')
    return origin


def _dense_graph(graph, layer, plan, height, width):
    """Return the graph: 9 first-layer pooled maps [1, C, height, width] -> 9 pooled maps.

    The outputs, one per pooled (row type, column type) in row-major order, are second-layer
    maps max-pooled before the activation, [1, height + extra, width + extra, filters]. Shapes
    are fixed: onnxruntime then fuses each class's sum of convs into one accumulation.
    """
    writer = onnx_graph.GraphWriter(graph)
    channels = layer.weights.shape[1]
    inputs = {(r, c): writer.input(f'pooled_{r}{c}', [1, channels, height, width])
              for r in range(3) for c in range(3)}
    classes = range(len(plan.groups))
    maps = {(r, c): _class_map(writer, inputs, layer, plan, r, c) for r in classes for c in classes}
    types = range(len(plan.pooled))
    pooled = [writer.node('Transpose', [_pooled_map(writer, maps, plan, r, c)],
                          perm=[0, 2, 3, 1])[0] for r in types for c in types]
    return writer.serialize(pooled)


def _class_map(writer, inputs, layer, plan, row_class, col_class):
    """Return the second-layer map of one (row class, column class), before the activation."""
    total = None
    for row in plan.groups[row_class]:
        for col in plan.groups[col_class]:
            kernel = layer.weights[:, :, row[1] + 1:row[2] + 2, col[1] + 1:col[2] + 2]
            (top, bottom), (left, right) = plan.pads(row_class, row), plan.pads(col_class, col)
            weights = [writer.constant(kernel)]
            if total is None:
                weights.append(writer.constant(layer.bias))
            part = writer.node('Conv', [inputs[row[0], col[0]], *weights],
                               kernel_shape=list(kernel.shape[2:]), dilations=[_STEP, _STEP],
                               pads=[top, left, bottom, right])
            total = part if total is None else writer.node('Add', [part[0], total[0]])
    return total[0]


def _pooled_map(writer, maps, plan, row_type, col_type):
    """Return one pooled type's map: max over the pair's classes, shifted where they agree."""
    (top, bottom), (left, right) = plan.pooled[row_type], plan.pooled[col_type]
    parts = list(dict.fromkeys(maps[r, c] for r in (top, bottom) for c in (left, right)))
    value = parts[0] if len(parts) == 1 else writer.node('Max', parts)[0]
    kernel = [1 + (top == bottom), 1 + (left == right)]
    if kernel == [1, 1]:
        return value
    return writer.node('MaxPool', [value], kernel_shape=kernel, strides=[1, 1],
                       dilations=[_STEP, _STEP])[0]


class SecondLayerEvaluator(SharedConvEvaluator):
    """Same interface and probabilities as the plain path; the head starts at the third layer.

    The dense graph has fixed shapes, so there is one session per block shape (a scene has a
    few: full blocks and those at its right and bottom edges), opened when first needed.
    """

    pools_before_activation = True  # the head starts with the activation

    def __init__(self, session, metadata, first, first_layer_source, dense):
        super().__init__(session, metadata, first, metadata.patch_size // 4, first_layer_source)
        self.dense = dense
        plan = dense.plan
        self._types = len(plan.pooled)
        self._pooled_types = np.array(plan.pooled_cell)
        self._cell_offsets = plan.cell_offsets()

    def begin_block(self, padded):
        """Compute the pooled second-layer maps of the padded block [bands, H, W]."""
        first = self.first_layer_maps(padded)
        first = np.ascontiguousarray(first.transpose(0, 1, 4, 2, 3))  # to [3, 3, C, h, w]
        pooled = self.dense.run(first)
        height, width = pooled.shape[1:3]
        self._pooled = pooled.reshape(-1, pooled.shape[-1])
        offsets, kinds = self._cell_offsets, self._pooled_types
        self._offsets = ((kinds[:, None] * self._types + kinds[None, :]) * height * width
                         + offsets[:, None] * width + offsets[None, :])
        self._width = width


class DenseSecondLayer:
    """The dense second-layer graph, one onnxruntime session per block shape."""

    def __init__(self, graph, layer, plan, threads):
        self.graph, self.layer, self.plan, self.threads = graph, layer, plan, threads
        self._sessions = {}  # shared by the evaluator's copies; a duplicate open is harmless

    def run(self, first):
        """Return the pooled maps [types^2, h + extra, w + extra, filters] of [3, 3, C, h, w]."""
        height, width = first.shape[3:]
        session = self._session(height, width)
        extra, filters = self.plan.extra, self.layer.weights.shape[0]
        shape = [1, height + extra, width + extra, filters]
        pooled = np.empty((len(self.plan.pooled) ** 2, *shape[1:]), np.float32)
        binding = session.io_binding()  # outputs written in place: no copy into `pooled`
        for r in range(3):
            for c in range(3):
                binding.bind_cpu_input(f'pooled_{r}{c}', first[r, c][None])
        for index, output in enumerate(session.get_outputs()):
            binding.bind_output(output.name, 'cpu', 0, np.float32, shape,
                                pooled[index].ctypes.data)
        session.run_with_iobinding(binding)
        return pooled

    def _session(self, height, width):
        if (height, width) not in self._sessions:
            graph = _dense_graph(self.graph, self.layer, self.plan, height, width)
            self._sessions[height, width] = open_session(
                graph, 'cpu', self.threads, source='the dense second layer').session
        return self._sessions[height, width]
