"""Exact fast path: the first conv layer and its pooling computed once per block, shared by patches.

Neighbouring pixels' 16 x 16 patches overlap by up to 15/16, so running the first 3x3 conv per
patch repeats the same sums ~256 times. Inside a patch the conv equals a convolution of the whole
zero-padded, normalised block; only on the patch's outer rows/columns does the conv's own "same"
padding cut taps off. So per block we compute 9 maps (kernel complete, or without its top/bottom
row and/or left/right column), apply the activation and a stride-1 2x2 max pool, and gather
every patch's pooled 8 x 8 cells from them. The rest of the graph (the "head", cut out of the
model after the first pool) then runs per pixel. The kernels, bias, leaky slope and pooling come
from the model contract (metadata schema 2); for a model whose metadata lacks them the caller
may give a probe (inspection.first_layer.probe_conv1) that reads them back from the graph.
Either way the result is checked against the complete graph before use.
"""

from typing import Callable, Optional

import numpy as np

from ..errors import ModelError
from . import onnx_graph
from .contract import FirstLayer, ModelMetadata
from .inference import LoadedModel, Session, open_session
from .patches import PlainEvaluator

# Row/column types of a patch position: first (T), inner (M), last (B).
_FIRST, _INNER, _LAST = 0, 1, 2
# Taps a conv at a position of each type keeps: -1, 0, +1 offsets.
_KEPT = {_FIRST: (0, 1), _INNER: (-1, 0, 1), _LAST: (-1, 0)}
# Which activation map each half of a 2x2 pooling window uses, per pooled cell type.
_POOL_PARTS = {_FIRST: (_FIRST, _INNER), _INNER: (_INNER, _INNER), _LAST: (_INNER, _LAST)}
SELF_CHECK_TOLERANCE = 1e-4
HEAD_INPUT = 'pooled_nhwc'  # the head's input: pooled cells, channels last


class SharedConvUnavailable(Exception):
    """The model's graph does not have the shape the fast path relies on (reason in args)."""


FirstLayerProbe = Callable[[Session, ModelMetadata], FirstLayer]


def build_shared_conv_evaluator(model: LoadedModel, provider: str, threads: int = 0,
                                probe: Optional[FirstLayerProbe] = None,
                                io_binding: Optional[bool] = None) -> 'SharedConvEvaluator':
    """Return a SharedConvEvaluator for the model, checked against the complete graph.

    Args:
        model: the model file, read once (its bytes give the head's session).
        provider: execution provider of the head (inference.open_session).
        threads: onnxruntime threads of the head.
        probe: reads the first layer from the graph when the metadata lacks it; None: such
            a model takes the plain path.
        io_binding: run the head through onnxruntime IOBinding (inference.open_session).

    Raises:
        SharedConvUnavailable: why the plain path must be used instead.

    """
    first, how = first_layer_of(model, probe)
    head_bytes, cells = _cut_head(model.model_bytes, model.metadata, first)
    head = open_session(head_bytes, provider, threads, f'{model.path} (head)', io_binding)
    evaluator = SharedConvEvaluator(head, model.metadata, first, cells, how)
    check_against_graph(evaluator, model.cpu_session, model.metadata)
    return evaluator


class SharedConvEvaluator:
    """Same interface as patches.PlainEvaluator, same probabilities, far fewer operations.

    `first_layer_source` says where the first layer came from (metadata or probing).
    """

    pools_before_activation = False  # its cells are activated, then max-pooled

    def __init__(self, session, metadata, first, cells, first_layer_source):
        self.session = session
        self.metadata = metadata
        self.provider = session.provider
        # [F, bands, i, j] -> [i, j, bands, F]: one matrix product per kernel tap.
        self.kernels = np.ascontiguousarray(first.weights.transpose(2, 3, 1, 0), np.float32)
        self.bias, self.slope = first.bias.astype(np.float32), np.float32(first.negative_slope)
        self.cells, self.first_layer_source = cells, first_layer_source
        self._mean, self._std = (np.asarray(values, np.float32)[:, None, None]
                                 for values in (metadata.band_mean, metadata.band_std))
        patch_cells = metadata.patch_size // 2
        self._cell_types = np.array([_FIRST] + [_INNER] * (patch_cells - 2) + [_LAST])
        self._pooled = self._offsets = self._width = None

    def begin_block(self, padded):
        """Compute the 9 pooled first-layer maps of the padded block [bands, H, W]."""
        pooled = self.first_layer_maps(padded)
        height, width, filters = pooled.shape[2:]
        self._pooled = pooled.reshape(-1, filters)
        steps = 2 * np.arange(self.cells)
        types = self._cell_types
        self._offsets = ((types[:, None] * 3 + types[None, :]) * height * width
                         + steps[:, None] * width + steps[None, :])
        self._width = width

    def first_layer_maps(self, padded):
        """Return the pooled first-layer maps [3, 3, H - 1, W - 1, filters] of every cell type."""
        height, width = padded.shape[1] - 1, padded.shape[2] - 1
        normalised = (padded - self._mean) / self._std  # as the graph does, zeros included
        maps = _activated_maps(normalised, self.kernels, self.bias, self.slope)
        pooled = np.empty((3, 3, height, width, maps.shape[-1]), np.float32)
        for rt in range(3):
            for ct in range(3):
                r0, r1 = _POOL_PARTS[rt]
                c0, c1 = _POOL_PARTS[ct]
                out = pooled[rt, ct]
                np.maximum(maps[r0, c0, :-1, :-1], maps[r0, c1, :-1, 1:], out=out)
                np.maximum(out, maps[r1, c0, 1:, :-1], out=out)
                np.maximum(out, maps[r1, c1, 1:, 1:], out=out)
        return pooled

    def pooled_cells(self, rows, cols):
        """Return the pooled first-layer cells float32 [n, cells, cells, filters] of the pixels."""
        index = (rows * self._width + cols)[:, None, None] + self._offsets[None]
        return self._pooled.take(index, axis=0)

    def probabilities(self, rows, cols):
        """Return P(cloud) float32 [n] of the block pixels (rows[k], cols[k])."""
        result = self.session.run(self.metadata.output_name,
                                  {HEAD_INPUT: self.pooled_cells(rows, cols)})
        return result.reshape(-1)


def _activated_maps(normalised, kernels, bias, slope):
    """Return the activated first-layer maps [3, 3, H, W, filters] for every row/col type."""
    bands, height, width = normalised.shape
    image = np.zeros((height + 2, width + 2, bands), np.float32)
    image[1:-1, 1:-1] = normalised.transpose(1, 2, 0)
    taps = {(dr, dc): image[1 + dr:1 + dr + height, 1 + dc:1 + dc + width] @ kernels[dr + 1, dc + 1]
            for dr in (-1, 0, 1) for dc in (-1, 0, 1)}
    maps = np.empty((3, 3, height, width, kernels.shape[-1]), np.float32)
    for rt in range(3):
        for ct in range(3):
            out = maps[rt, ct]
            out[...] = bias
            for dr in _KEPT[rt]:
                for dc in _KEPT[ct]:
                    out += taps[dr, dc]
            np.maximum(out, out * slope, out=out)
    return maps


def first_layer_of(model: LoadedModel, probe: Optional[FirstLayerProbe]) -> tuple:
    """Return (FirstLayer, where it came from) from the contract, else from the probe."""
    metadata = model.metadata
    if metadata.conv1 is not None:
        return metadata.conv1, "read from the model's metadata (schema 2)"
    if probe is None:
        raise SharedConvUnavailable(
            f'the model\'s metadata (schema {metadata.schema}) does not state its first layer')
    try:
        first = probe(model.cpu_session, metadata)
    except ModelError as error:  # not a 3x3 conv and a leaky ReLU: no fast path
        raise SharedConvUnavailable(str(error)) from error
    return first, f'probed from the graph (metadata schema {metadata.schema} states none)'


def load_graph(model_bytes: bytes):
    """Return the model's parsed graph (onnx_graph.load).

    Raises:
        SharedConvUnavailable: if protobuf, needed to read it, is missing.

    """
    try:
        return onnx_graph.load(model_bytes)
    except ImportError as error:  # protobuf normally comes with onnxruntime
        raise SharedConvUnavailable('the Python package protobuf is not installed') from error


def _cut_head(model_bytes, metadata, first):
    """Return (serialized head graph taking pooled cells NHWC, pooled side length)."""
    model = load_graph(model_bytes)
    name = metadata.feature_outputs[0]
    pools = onnx_graph.consumers(model, name)
    pool = pools[0] if len(pools) == 1 and pools[0].op_type == 'MaxPool' else None
    found = onnx_graph.attributes(pool) if pool else {}
    stated = (list(first.pool_kernel), list(first.pool_strides))
    if (pool is None or stated != ([2, 2], [2, 2]) or found.get('kernel_shape') != [2, 2]
            or found.get('strides') != [2, 2] or any(found.get('pads', [0]))):
        raise SharedConvUnavailable(f'{name} does not feed one 2x2 max pooling of stride 2')
    cells = metadata.patch_size // 2
    head = onnx_graph.cut_head(model, pool.output[0], metadata.output_name, HEAD_INPUT,
                               (cells, cells, metadata.filters[0]))
    return head, cells


def check_against_graph(evaluator, cpu_session: Session, metadata: ModelMetadata,
                        layer: int = 0) -> None:
    """Compare with the complete graph on random patches (zeros included, like image borders).

    P(cloud) alone can hide a wrong layer where it saturates at 0 or 1, so the evaluator's
    pooled cells are compared with the graph's own output of conv layer `layer` (0 = first),
    max-pooled, as well (its output before the activation where the evaluator pools first).

    Raises:
        SharedConvUnavailable: with both differences, when either exceeds the tolerance.

    """
    rng = np.random.default_rng(1)
    size, bands = metadata.patch_size, len(metadata.bands)
    padded = rng.uniform(0, 0.8, (bands, size + 7, size + 7)).astype(np.float32)
    padded[:, :, :5] = 0
    rows, cols = (a.ravel() for a in np.mgrid[0:8, 0:8])
    evaluator.begin_block(padded)
    reference = PlainEvaluator(cpu_session, metadata)
    reference.begin_block(padded)
    patches = reference.patches(rows, cols)
    outputs = (metadata.linear_outputs if evaluator.pools_before_activation
               else metadata.feature_outputs)
    graph_conv = cpu_session.run(outputs[layer], {metadata.input_name: patches})
    n, filters, cells = len(rows), graph_conv.shape[1], evaluator.cells
    graph_cells = graph_conv.reshape(n, filters, cells, 2, cells, 2).max(axis=(3, 5))
    cell_error = float(np.max(np.abs(evaluator.pooled_cells(rows, cols)
                                     - graph_cells.transpose(0, 2, 3, 1))))
    scale = max(1.0, float(np.max(np.abs(graph_cells))))
    worst = float(np.max(np.abs(evaluator.probabilities(rows, cols)
                                - reference.probabilities(rows, cols))))
    if not (worst <= SELF_CHECK_TOLERANCE and cell_error <= SELF_CHECK_TOLERANCE * scale):
        raise SharedConvUnavailable(
            f'its first layer ({evaluator.first_layer_source}) or conv layer {layer + 1} '
            f'differs from the complete graph by {cell_error:.2g} (conv{layer + 1}) and '
            f'{worst:.2g} (P)')
