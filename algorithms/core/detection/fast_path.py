"""Exact fast path: the first conv layer and its pooling computed once per block, shared by patches.

Neighbouring pixels' 16 x 16 patches overlap by up to 15/16, so running the first 3x3 conv per
patch repeats the same sums ~256 times. Inside a patch the conv equals a convolution of the whole
zero-padded, normalised block; only on the patch's outer rows/columns does the conv's own "same"
padding cut taps off. So per block we compute 9 maps (kernel complete, or without its top/bottom
row and/or left/right column), apply the activation and a stride-1 2x2 max pool, and gather
every patch's pooled 8 x 8 cells from them. The rest of the graph (the "head", cut out of the
model after the first pool) then runs per pixel. The kernels, bias and leaky slope are read back
from the model by probing its `conv1_linear`/`conv1` outputs (first_layer.py), and the result is
checked against the complete graph before use.
"""

import numpy as np

from ..errors import ModelError
from . import onnx_graph
from .first_layer import activation_of, model_runner, probe_first_layer
from .inference import open_session
from .patches import PlainEvaluator

# Row/column types of a patch position: first (T), inner (M), last (B).
_FIRST, _INNER, _LAST = 0, 1, 2
# Taps a conv at a position of each type keeps: -1, 0, +1 offsets.
_KEPT = {_FIRST: (0, 1), _INNER: (-1, 0, 1), _LAST: (-1, 0)}
# Which activation map each half of a 2x2 pooling window uses, per pooled cell type.
_POOL_PARTS = {_FIRST: (_FIRST, _INNER), _INNER: (_INNER, _INNER), _LAST: (_INNER, _LAST)}
SELF_CHECK_TOLERANCE = 1e-4
_NHWC_INPUT = 'pooled_nhwc'


class SharedConvUnavailable(Exception):
    """The model's graph does not have the shape the fast path relies on (reason in args)."""


def build_shared_conv_evaluator(model_path, metadata, cpu_session, provider, threads=0):
    """Return a SharedConvEvaluator for the model, checked against the complete graph.

    Raises:
        SharedConvUnavailable: why the plain path must be used instead.

    """
    head_bytes, cells = _cut_head(model_path, metadata)
    kernels, bias, slope = _probe_first_layer(cpu_session, metadata)
    head = open_session(head_bytes, provider, threads, source=f'{model_path} (head)')
    evaluator = SharedConvEvaluator(head, metadata, kernels, bias, slope, cells)
    _self_check(evaluator, cpu_session, metadata)
    return evaluator


class SharedConvEvaluator:
    """Same interface as patches.PlainEvaluator, same probabilities, far fewer operations."""

    def __init__(self, session, metadata, kernels, bias, slope, cells):
        self.session = session
        self.metadata = metadata
        self.provider = session.provider
        self.kernels, self.bias, self.slope, self.cells = kernels, bias, slope, cells
        self._mean, self._std = (np.asarray(values, np.float32)[:, None, None]
                                 for values in (metadata.band_mean, metadata.band_std))
        types = [_FIRST] + [_INNER] * (cells - 2) + [_LAST]
        self._cell_types = np.array(types)
        self._pooled = self._offsets = self._width = None

    def begin_block(self, padded):
        """Compute the 9 pooled first-layer maps of the padded block [bands, H, W]."""
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
        self._pooled = pooled.reshape(-1, maps.shape[-1])
        steps = 2 * np.arange(self.cells)
        types = self._cell_types
        self._offsets = ((types[:, None] * 3 + types[None, :]) * height * width
                         + steps[:, None] * width + steps[None, :])
        self._width = width

    def probabilities(self, rows, cols):
        """Return P(cloud) float32 [n] of the block pixels (rows[k], cols[k])."""
        index = (rows * self._width + cols)[:, None, None] + self._offsets[None]
        cells = self._pooled.take(index, axis=0)
        result = self.session.run(self.metadata.output_name, {_NHWC_INPUT: cells})
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


def _cut_head(model_path, metadata):
    """Return (serialized head graph taking pooled cells NHWC, pooled side length)."""
    with open(model_path, 'rb') as stream:
        model_bytes = stream.read()
    try:
        model = onnx_graph.load(model_bytes)
    except ImportError as error:  # protobuf normally comes with onnxruntime
        raise SharedConvUnavailable('the Python package protobuf is not installed') from error
    first = metadata.feature_outputs[0]
    pools = onnx_graph.consumers(model, first)
    pool = pools[0] if len(pools) == 1 and pools[0].op_type == 'MaxPool' else None
    found = onnx_graph.attributes(pool) if pool else {}
    if (pool is None or found.get('kernel_shape') != [2, 2] or found.get('strides') != [2, 2]
            or any(found.get('pads', [0]))):
        raise SharedConvUnavailable(f'{first} does not feed one 2x2 max pooling')
    cells = metadata.patch_size // 2
    head = onnx_graph.cut_head(model, pool.output[0], metadata.output_name, _NHWC_INPUT,
                               (cells, cells, metadata.filters[0]))
    return head, cells


def _probe_first_layer(session, metadata):
    """Read conv1's kernels [3, 3, bands, filters], bias [filters] and leaky slope.

    kernels.py reads them back from the graph (impulses in its normalised space, exact to
    float32 rounding); a first layer that is not a 3x3 conv and a leaky ReLU rules out the
    fast path.
    """
    run = model_runner(session, metadata)
    try:
        probed = probe_first_layer(run, metadata)['normalised']
        slope = activation_of(run, metadata, 1)['negative_slope']
    except ModelError as error:
        raise SharedConvUnavailable(str(error)) from error
    weights = probed['weights'].transpose(2, 3, 1, 0)  # [F, bands, i, j] -> [i, j, bands, F]
    return (np.ascontiguousarray(weights, np.float32), probed['bias'].astype(np.float32),
            np.float32(slope))


def _self_check(evaluator, cpu_session, metadata):
    """Compare with the complete graph on random patches (zeros included, like image borders)."""
    rng = np.random.default_rng(1)
    size, bands = metadata.patch_size, len(metadata.bands)
    padded = rng.uniform(0, 0.8, (bands, size + 7, size + 7)).astype(np.float32)
    padded[:, :, :5] = 0
    rows, cols = (a.ravel() for a in np.mgrid[0:8, 0:8])
    evaluator.begin_block(padded)
    fast = evaluator.probabilities(rows, cols)
    reference = PlainEvaluator(cpu_session, metadata)
    reference.begin_block(padded)
    plain = reference.probabilities(rows, cols)
    worst = float(np.max(np.abs(fast - plain)))
    if not worst <= SELF_CHECK_TOLERANCE:
        raise SharedConvUnavailable(f'it differs from the complete graph by {worst:.2g}')
