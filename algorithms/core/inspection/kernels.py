"""The kernel database: conv kernels read back from an S2 Cloud CNN ONNX model by probing it.

Nothing here reads weights out of the file: every number comes from running the real graph.
Layer 1 is probed with impulses (exact, since conv1_linear is affine in the input); deeper
layers are solved by least squares from the model's own (input, output) pairs, and the fit's
residual proves the layer is what the contract says (a 3x3 'same' convolution over the 2x2
max-pooled activations of the layer before).
"""

import numpy as np

from ..errors import ModelError
from .first_layer import (
    PROBE_TOLERANCE,
    activation_of,
    probe_first_layer,
    random_patches,
)

KERNEL_FORMAT = 's2cloudcnn-kernels'
FORMAT_VERSION = 1
_PROBE_PATCHES = 192
_SUMMARY_TOP = 3
REFLECTANCE_MEANING = (
    'the same layer-1 map written on reflectance (unit 1) directly: exact wherever the 3x3 '
    'neighbourhood lies in the scene or in the paper\'s zero-reflectance border')
ACTIVATION_FORMULA = 'a(v) = v if v > 0 else negative_slope * v'
CONVOLUTION_FORMULA = (
    'map[f](r, c) = a(bias[f] + sum over inputs k and i, j in 0..2 of '
    'weights[f][k][i][j] * input[k](r + i - 1, c + j - 1)); i is the row (north to south), '
    'j the column (west to east), not flipped (cross-correlation)')
PROBE_METHODS = {
    True: 'unit impulses through conv1_linear of the ONNX graph (exact up to float32)',
    False: 'least squares of the ONNX graph\'s conv_linear on its 2x2-max-pooled previous '
           'activations over seeded random patches',
}


def max_pool2(array: np.ndarray) -> np.ndarray:
    """2 x 2 max pooling of [N, C, S, S] (S even), as between the network's conv blocks."""
    n, c, s, _ = array.shape
    return array.reshape(n, c, s // 2, 2, s // 2, 2).max(axis=(3, 5))


def _neighbourhoods(inputs):
    """Rows of the 3x3 zero-padded neighbourhoods of [N, C, S, S]: [N*S*S, C*9 + 1]."""
    n, c, s, _ = inputs.shape
    padded = np.pad(inputs.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    views = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))
    rows = np.transpose(views, (0, 2, 3, 1, 4, 5)).reshape(n * s * s, c * 9)
    return np.hstack([rows, np.ones((rows.shape[0], 1))])


def probe_deeper_layer(run, meta, layer: int) -> dict:
    """Solve layer `layer` (>= 2) as a 3x3 convolution over the pooled previous activations.

    The model's conv{layer-1} activations are max-pooled 2 x 2 (exact selection), and
    conv{layer}_linear is regressed on their 3x3 zero-padded neighbourhoods. The weights of
    an input filter that never varies on the probes (a dead ReLU) cannot be known and do not
    matter: they are NaN.

    Returns:
        dict with 'pooled' = {'weights' [F, F_prev, 3, 3], 'bias' [F]} and 'residual' (the
        largest absolute misfit on the probe patches).

    Raises:
        ModelError: if the fit does not reproduce the model (not the contract's architecture).

    """
    patches = random_patches(meta, _PROBE_PATCHES)
    previous, target = run(patches, [meta.feature_outputs[layer - 2],
                                     meta.linear_outputs[layer - 1]])
    pooled = max_pool2(previous)
    alive = np.ptp(pooled, axis=(0, 2, 3)) > 0
    design = _neighbourhoods(pooled[:, alive])
    filters = target.shape[1]
    observed = np.transpose(target, (0, 2, 3, 1)).reshape(-1, filters).astype(np.float64)
    coef, _, rank, _ = np.linalg.lstsq(design, observed, rcond=None)
    residual = float(np.max(np.abs(design @ coef - observed)))
    if rank < design.shape[1] or residual > PROBE_TOLERANCE * max(
            1.0, float(np.max(np.abs(observed)))):
        raise ModelError(f'conv{layer}_linear is not a 3x3 convolution of the 2x2-max-pooled '
                         f'conv{layer - 1} (residual {residual:.2g}, rank {rank} of '
                         f'{design.shape[1]}); the model breaks the S2 Cloud CNN contract')
    weights = np.full((filters, previous.shape[1], 3, 3), np.nan)
    weights[:, alive] = coef[:-1].T.reshape(filters, int(alive.sum()), 3, 3)
    return {'pooled': {'weights': weights, 'bias': coef[-1]}, 'residual': residual}


def band_summary(weights: np.ndarray, input_names: list) -> list:
    """Per filter, the L1 norm of each input's 3x3 kernel and the strongest inputs.

    Args:
        weights: [F, C, 3, 3] kernels in a space where the inputs are comparable (normalised).
        input_names: C names of the inputs.

    Returns:
        list of dicts, one per filter: filter (1-based), l1 {name: norm}, share {name: norm /
        the filter's total}, strongest (the top names by norm).

    """
    summary = []
    for index, kernel in enumerate(np.nansum(np.abs(weights), axis=(2, 3)), start=1):
        total = float(kernel.sum()) or 1.0
        order = np.argsort(-kernel, kind='stable')
        summary.append({
            'filter': index,
            'l1': {name: float(value) for name, value in zip(input_names, kernel)},
            'share': {name: float(value) / total for name, value in zip(input_names, kernel)},
            'strongest': [input_names[i] for i in order[:_SUMMARY_TOP]],
        })
    return summary


def _layer_meaning(layer, meta):
    """(space name, input names, meaning) of the kernels a layer's file holds."""
    if layer == 1:
        return 'normalised', list(meta.bands), (
            'act on z = (reflectance - band_mean) / band_std of each band, zero-padded in z '
            '(the network\'s own layer)')
    previous = meta.filters[layer - 2]
    return 'pooled', [f'conv{layer - 1} filter {i:02d}' for i in range(1, previous + 1)], (
        f'act on the conv{layer - 1} activations max-pooled 2 x 2 (one input per conv{layer - 1}'
        ' filter), zero-padded; they are not band kernels')


def build_database(run, meta, layer: int, model_file: str) -> dict:
    """Probe conv layer `layer` of a model and return the kernel database document (a dict).

    Args:
        run: callable(patches, output_names) -> list of arrays.
        meta: the model's ModelMetadata.
        layer: 1-based conv layer.
        model_file: the model's file name, recorded in the document.

    Raises:
        ModelError: if the layer does not exist or the model breaks the contract.

    """
    check_layer(meta, layer)
    probed = probe_first_layer(run, meta) if layer == 1 else probe_deeper_layer(run, meta, layer)
    space, inputs, meaning = _layer_meaning(layer, meta)
    kernels = {space: {'meaning': meaning, **probed[space]}}
    if layer == 1:
        kernels['reflectance'] = {'meaning': REFLECTANCE_MEANING, **probed['reflectance']}
    return {
        'format': KERNEL_FORMAT, 'format_version': FORMAT_VERSION,
        'model': {'model_id': meta.model_id, 'version': meta.version, 'file': model_file,
                  'variant': meta.variant, 'input_kind': meta.input_kind,
                  'resolution_m': meta.resolution_m, 'trained_on': meta.trained_on},
        'bands': list(meta.bands),
        'normalisation': {'band_mean': list(meta.band_mean), 'band_std': list(meta.band_std),
                          'formula': 'z = (reflectance - band_mean) / band_std'},
        'layer': layer, 'filters': meta.filters[layer - 1], 'kernel_size': 3,
        'activation': {**activation_of(run, meta, layer), 'formula': ACTIVATION_FORMULA},
        'convolution': CONVOLUTION_FORMULA,
        'inputs': inputs, 'kernels': kernels,
        'summary': band_summary(probed[space]['weights'], inputs),
        'probe': {'method': PROBE_METHODS[layer == 1], 'max_abs_residual': probed['residual']},
    }


def check_layer(meta, layer: int) -> None:
    """Raise ModelError unless `layer` is one of the model's conv layers (1-based)."""
    count = len(meta.filters)
    if not 1 <= layer <= count:
        raise ModelError(f'model {meta.model_id} has conv layers 1 to {count}, not {layer}; '
                         f'choose a layer from 1 to {count}')
