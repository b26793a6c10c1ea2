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
# onnxruntime's fast (NCHWc) convs take channels in blocks (8 with AVX2, 16 with AVX-512):
# pad the bands with zeros.
_CHANNEL_BLOCK = 16
_STEP = 2  # map positions between neighbouring first-layer pooled cells


def build_second_layer_evaluator(model: LoadedModel, provider: str, threads: int = 0,
                                 probe: Optional[FirstLayerProbe] = None,
                                 io_binding: Optional[bool] = None) -> 'SecondLayerEvaluator':
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
    first_plan = AxisPlan.of([0] * model.metadata.patch_size, 1, (0,), (0,))
    dense = DenseLayers(graph, (first, layer), (first_plan, first_plan.next_layer()), threads)
    head = open_session(head_bytes, provider, threads, f'{model.path} (head)', io_binding)
    if head.provider != CPU_PROVIDER:  # a GPU head would wait for the CPU's dense layers
        raise SharedConvUnavailable(f'the head runs on {head.provider}')
    evaluator = SecondLayerEvaluator(head, model.metadata, first, how, dense)
    check_against_graph(evaluator, model.cpu_session, model.metadata, layer=1)
    return evaluator


@dataclass(frozen=True)
class ConvLayer:
    """A 3x3 conv layer: weights [filters, channels, 3, 3], bias, leaky ReLU slope."""

    weights: np.ndarray
    bias: np.ndarray
    negative_slope: float


@dataclass(frozen=True)
class SecondLayer(ConvLayer):
    """The second conv layer as read from the graph, and the name of its pooled output."""

    pooled: str = ''


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
    """Along one axis, one conv layer's cell classes, their taps, pooling and output grids.

    Positions count pixels of the block, from its first pixel; index i of an input map of type
    t is at position `in_origin[t] + i`, and the map is `in_extra[t]` longer than the block;
    neighbouring cells are `step` apart. A class's `groups` = [(input type, first tap, last
    tap)]; its conv map starts at position `origin[c]` (set by its zero pads) and is
    `extra + bonus[c]` longer than the block, `bonus` = one step more for classes that a pooling
    shortens; `pooled[t]` = (class, class) of pooled type t, `pooled_cell[k]` = type of cell k.
    """

    step: int
    in_origin: tuple
    in_extra: tuple
    groups: tuple
    origin: tuple
    bonus: tuple
    pooled: tuple
    pooled_cell: tuple
    extra: int

    @classmethod
    def of(cls, types: list, step: int, in_origin: tuple, in_extra: tuple) -> 'AxisPlan':
        """Plan a 3x3 conv and 2x2 pooling over cells of input `types`, `step` apart."""
        cells = len(types)
        keys = [tuple((d, types[i + d]) for d in _TAPS if 0 <= i + d < cells)
                for i in range(cells)]
        classes = list(dict.fromkeys(keys))
        cell_class = [classes.index(key) for key in keys]
        pairs = [(cell_class[2 * k], cell_class[2 * k + 1]) for k in range(cells // 2)]
        pooled = list(dict.fromkeys(pairs))
        groups = [_type_groups(key) for key in classes]
        bound = [min(in_origin[kind] - step * first for kind, first, _ in class_groups)
                 for class_groups in groups]
        origin = _origins(bound, pooled, step)
        bonus = _bonus(len(classes), pooled, step)
        ends = max(o + e for o, e in zip(in_origin, in_extra))  # input end - block length
        extra = max(max(ends - origin[c] - bonus[c] for c in range(len(classes))),
                    max(in_extra[g[0]] + in_origin[g[0]] - origin[c] - step * g[2] - bonus[c]
                        for c in range(len(classes)) for g in groups[c]))
        return cls(step, tuple(in_origin), tuple(in_extra), tuple(groups), tuple(origin),
                   tuple(bonus), tuple(pooled), tuple(pooled.index(p) for p in pairs), extra)

    def pads(self, klass, group):
        """Return (before, after) zero pads of one group's conv on this axis."""
        kind, first, last = group
        before = self.in_origin[kind] - self.origin[klass] - self.step * first
        after = (self.extra + self.bonus[klass] - self.in_extra[kind] - before
                 + self.step * (last - first))
        return before, after

    def pooled_origin(self):
        """Return the position of index 0 of each pooled type's map."""
        return tuple(self.origin[first] for first, _ in self.pooled)

    def pooled_extra(self):
        """Return how much longer than the block each pooled type's map is."""
        return tuple(self.extra + self.bonus[a] - self.step * (a == b) for a, b in self.pooled)

    def next_layer(self) -> 'AxisPlan':
        """Plan the next conv layer, which reads this layer's pooled cells."""
        return AxisPlan.of(list(self.pooled_cell), 2 * self.step, self.pooled_origin(),
                           self.pooled_extra())

    def cell_offsets(self):
        """Return each pooled cell's map index minus its pixel's position in the block."""
        origins = self.pooled_origin()
        return np.array([2 * self.step * k - origins[t] for k, t in enumerate(self.pooled_cell)])


def _bonus(count, pooled, step):
    """One step more length for classes a pooling shortens, and those max-ed with them."""
    bonus = [step if (c, c) in pooled else 0 for c in range(count)]
    for _ in range(count):
        for first, second in pooled:
            bonus[first] = bonus[second] = max(bonus[first], bonus[second])
    return bonus


def _type_groups(key):
    """Return [(input type, first tap, last tap)] of a class key, taps of one type adjacent."""
    groups = {}
    for tap, kind in key:
        groups.setdefault(kind, []).append(tap)
    return [(kind, min(taps), max(taps)) for kind, taps in groups.items()]


def _origins(bound, pooled, step):
    """Output grid origins: pads never negative, the second class of a pooled pair one step on."""
    origin = list(bound)
    for _ in range(len(origin) + 1):
        moved = False
        for first, second in pooled:
            if first != second and origin[second] != origin[first] + step:
                origin[first] = min(origin[first], origin[second] - step)
                origin[second] = origin[first] + step
                moved = True
        if not moved:
            return origin
    raise SharedConvUnavailable('the cell classes\' pooling pairs cannot share one grid')


def _dense_graph(graph, layers, plans, height, width):
    """Return the graph: a normalised block [1, bands, height, width] -> 9 pooled maps.

    The block's bands are padded with zeros to padded_channels(bands).
    `layers`, `plans`: the first and second conv layers and their AxisPlans. The outputs, one
    per pooled (row type, column type) of the second layer in row-major order, are its maps
    max-pooled before the activation, [1, height + extras, width + extras, filters]. Shapes
    are fixed: onnxruntime then fuses each class's sum of convs into one accumulation.
    """
    writer = onnx_graph.GraphWriter(graph)
    first = layers[0]
    weights = np.zeros((len(first.weights), padded_channels(first.weights.shape[1]), 3, 3),
                       np.float32)
    weights[:, :first.weights.shape[1]] = first.weights  # zero weights for the zero bands
    layers = (ConvLayer(weights, first.bias, first.negative_slope), *layers[1:])
    maps = {(0, 0): writer.input('block', [1, weights.shape[1], height, width])}
    for index, (layer, plan) in enumerate(zip(layers, plans)):
        activated = index + 1 < len(layers)  # the last activation waits for the head
        maps = _pooled_maps(writer, maps, layer, plan, activated)
    outputs = [writer.node('Transpose', [name], perm=[0, 2, 3, 1])[0] for name in maps.values()]
    return writer.serialize(outputs)


def _pooled_maps(writer, inputs, layer, plan, activated):
    """Return {(row type, column type): name} of one layer's pooled maps."""
    convs = {}

    def conv(row, col):
        # Made when a pooling first needs it: onnxruntime runs the nodes in this order, so
        # each class map is freed soon after its pooling (less memory than all at once).
        if (row, col) not in convs:
            convs[row, col] = _class_map(writer, inputs, layer, plan, row, col, activated)
        return convs[row, col]

    types = range(len(plan.pooled))
    return {(r, c): _pooled_map(writer, conv, plan, r, c) for r in types for c in types}


def padded_channels(bands: int) -> int:
    """Return the bands rounded up to whole channel blocks."""
    return -(-bands // _CHANNEL_BLOCK) * _CHANNEL_BLOCK


def _class_map(writer, inputs, layer, plan, row_class, col_class, activated):
    """Return the conv map of one (row class, column class): a sum of one conv per input type."""
    total = None
    for row in plan.groups[row_class]:
        for col in plan.groups[col_class]:
            kernel = layer.weights[:, :, row[1] + 1:row[2] + 2, col[1] + 1:col[2] + 2]
            (top, bottom), (left, right) = plan.pads(row_class, row), plan.pads(col_class, col)
            weights = [writer.constant(kernel)]
            if total is None:
                weights.append(writer.constant(layer.bias))
            part = writer.node('Conv', [inputs[row[0], col[0]], *weights],
                               kernel_shape=list(kernel.shape[2:]),
                               dilations=[plan.step, plan.step], pads=[top, left, bottom, right])
            total = part if total is None else writer.node('Add', [part[0], total[0]])
    if activated:
        total = writer.node('LeakyRelu', total, alpha=float(layer.negative_slope))
    return total[0]


def _pooled_map(writer, conv, plan, row_type, col_type):
    """Return one pooled type's map: max over the pair's classes, shifted where they agree.

    `conv(row class, column class)` returns the name of that class's conv map.
    """
    (top, bottom), (left, right) = plan.pooled[row_type], plan.pooled[col_type]
    parts = list(dict.fromkeys(conv(r, c) for r in (top, bottom) for c in (left, right)))
    value = parts[0] if len(parts) == 1 else writer.node('Max', parts)[0]
    kernel = [1 + (top == bottom), 1 + (left == right)]
    if kernel == [1, 1]:
        return value
    return writer.node('MaxPool', [value], kernel_shape=kernel, strides=[1, 1],
                       dilations=[plan.step, plan.step])[0]


class SecondLayerEvaluator(SharedConvEvaluator):
    """Same interface and probabilities as the plain path; the head starts at the third layer."""

    pools_before_activation = True  # the head starts with the second layer's activation

    def __init__(self, session, metadata, first, first_layer_source, dense):
        super().__init__(session, metadata, first, metadata.patch_size // 4, first_layer_source)
        self.dense = dense
        plan = dense.plans[-1]
        self._types = len(plan.pooled)
        self._pooled_types = np.array(plan.pooled_cell)
        self._cell_offsets = plan.cell_offsets()

    def begin_block(self, padded):
        """Compute the pooled second-layer maps of the padded block [bands, H, W]."""
        bands, height, width = padded.shape
        normalised = np.zeros((1, padded_channels(bands), height, width), np.float32)
        np.subtract(padded, self._mean, out=normalised[0, :bands])  # as the graph does
        np.divide(normalised[0, :bands], self._std, out=normalised[0, :bands])
        pooled = self.dense.run(normalised)
        height, width = pooled.shape[1:3]
        self._pooled = pooled.reshape(-1, pooled.shape[-1])
        offsets, kinds = self._cell_offsets, self._pooled_types
        self._offsets = ((kinds[:, None] * self._types + kinds[None, :]) * height * width
                         + offsets[:, None] * width + offsets[None, :])
        self._width = width


class DenseLayers:
    """The first two conv layers as one dense graph, one onnxruntime session per block shape.

    Fixed shapes let onnxruntime fuse the sums of convs; a scene has few block shapes (full
    blocks, those at its right and bottom edges), each opened when first needed.
    """

    def __init__(self, graph, layers, plans, threads):
        self.graph, self.layers, self.plans, self.threads = graph, layers, plans, threads
        extras = set(plans[-1].pooled_extra())
        if len(extras) != 1:
            raise SharedConvUnavailable('the pooled second-layer maps differ in length')
        self.output_extra = extras.pop()
        self._sessions = {}  # shared by the evaluator's copies; a duplicate open is harmless

    def run(self, normalised):
        """Return the pooled maps [types^2, h + extra, w + extra, filters] of [1, C, h, w].

        C = padded_channels(bands): the normalised block, zero in the padding channels.
        """
        height, width = normalised.shape[2:]
        session = self._session(height, width)
        extra = self.output_extra
        shape = [1, height + extra, width + extra, self.layers[-1].weights.shape[0]]
        pooled = np.empty((len(self.plans[-1].pooled) ** 2, *shape[1:]), np.float32)
        binding = session.io_binding()  # outputs written in place: no copy into `pooled`
        binding.bind_cpu_input('block', normalised)
        for index, output in enumerate(session.get_outputs()):
            binding.bind_output(output.name, 'cpu', 0, np.float32, shape,
                                pooled[index].ctypes.data)
        session.run_with_iobinding(binding)
        return pooled

    def _session(self, height, width):
        if (height, width) not in self._sessions:
            graph = _dense_graph(self.graph, self.layers, self.plans, height, width)
            self._sessions[height, width] = open_session(
                graph, 'cpu', self.threads, source='the dense first two layers').session
        return self._sessions[height, width]
