"""A model's first conv layer read back from its graph: kernels, bias and activation, by probing.

Layer 1 is probed with impulses (exact, since conv1_linear is affine in the input). The kernel
database is built on these numbers; the fast detection path uses them (`probe_conv1`) only for
models whose metadata does not state the first layer (schema 1, custom models).
"""

import numpy as np

from ..detection.contract import FirstLayer
from ..errors import ModelError

# A probed layer must reproduce the model to this absolute tolerance (float32 graph).
PROBE_TOLERANCE = 1e-3
_PROBE_SEED = 20200915


def model_runner(session, meta):
    """Return run(patches, output_names) -> list of arrays over an inference.Session."""
    def run(patches, names):
        return session.session.run(list(names), {meta.input_name: patches})
    return run


def activation_of(run, meta, layer):
    """Probe the activation applied after conv `layer`: {'name', 'negative_slope'}.

    Args:
        run: callable(patches, output_names) -> list of arrays (the model session).
        meta: the model's ModelMetadata.
        layer: 1-based conv layer number.

    Raises:
        ModelError: if the activation is not max(x, slope * x).

    """
    patches = random_patches(meta, 16)
    act, linear = run(patches, [meta.feature_outputs[layer - 1], meta.linear_outputs[layer - 1]])
    negative = linear < -1e-3
    slope = float(np.median(act[negative] / linear[negative])) if negative.any() else 0.0
    expected = np.where(linear > 0, linear, slope * linear)
    error = float(np.max(np.abs(expected - act)))
    if error > PROBE_TOLERANCE:
        raise ModelError(f'conv{layer} is not max(x, a*x) of conv{layer}_linear '
                         f'(error {error:.2g}); the model breaks the S2 Cloud CNN contract')
    slope = round(slope, 6)
    return {'name': 'relu' if slope == 0 else 'leaky_relu', 'negative_slope': slope}


def random_patches(meta, count: int, scale: float = 1.5) -> np.ndarray:
    """Patches of reflectance spread around the training distribution (seeded)."""
    rng = np.random.default_rng(_PROBE_SEED)
    shape = (count, len(meta.bands), meta.patch_size, meta.patch_size)
    mean = np.asarray(meta.band_mean, np.float64)[None, :, None, None]
    std = np.asarray(meta.band_std, np.float64)[None, :, None, None]
    return (mean + scale * std * rng.standard_normal(shape)).astype(np.float32)


def _impulse_batch(meta, baseline, amplitudes):
    """Return a baseline patch, then one patch per band with `amplitudes[b]` added at the centre.

    With baseline = band_mean and amplitudes = band_std the impulses are unit steps of the
    normalised input; with baseline 0 and amplitudes 1, unit steps of reflectance.
    """
    bands, size, centre = len(meta.bands), meta.patch_size, meta.padding
    batch = np.repeat(np.asarray(baseline, np.float32)[None, :, None, None] *
                      np.ones((1, 1, size, size), np.float32), bands + 1, axis=0)
    for band in range(bands):
        batch[band + 1, band, centre, centre] += np.float32(amplitudes[band])
    return batch


def _normalised_steps(impulses, meta):
    """The z = (x - band_mean) / band_std each impulse gives, in float32 as the graph computes.

    float32(mean + std) is not exactly mean + std, so z is 1 only up to rounding; dividing by
    the z the graph really saw keeps the probed weights exact to the graph's own rounding.
    """
    centre, bands = meta.padding, np.arange(len(meta.bands))
    mean, std = (np.asarray(values, np.float32) for values in (meta.band_mean, meta.band_std))
    return ((impulses[bands, bands, centre, centre] - mean) / std).astype(np.float64)


def _kernels_from_impulses(response, meta):
    """Turn [bands + 1, F, S, S] unit-impulse responses into weights [F, bands, 3, 3], bias [F].

    Also returns the largest response outside the 3x3 window (zero for a 3x3 convolution).
    """
    centre = meta.padding
    bias = response[0, :, centre, centre].astype(np.float64)
    delta = response[1:].astype(np.float64) - response[:1]
    outside = delta.copy()
    outside[:, :, centre - 1:centre + 2, centre - 1:centre + 2] = 0
    # ONNX Conv is a cross-correlation: an impulse at c shows kernel[i, j] at c + 1 - i.
    window = delta[:, :, centre - 1:centre + 2, centre - 1:centre + 2][:, :, ::-1, ::-1]
    return np.transpose(window, (1, 0, 2, 3)), bias, float(np.max(np.abs(outside)))


def probe_first_layer(run, meta):
    """Read layer 1's kernels exactly, in normalised and in reflectance space.

    Normalised space: the network's own view, z = (x - band_mean) / band_std, zero 'same'
    padding in z. Reflectance space: the same affine map written on reflectance x, valid
    wherever the 3x3 neighbourhood lies in the scene or in the paper's zero-reflectance border.

    Returns:
        dict with 'normalised' and 'reflectance' = {'weights' [F, bands, 3, 3], 'bias' [F]},
        and 'residual', the largest disagreement found by the checks.

    Raises:
        ModelError: if conv1_linear is not a 3x3 convolution of the input.

    """
    mean = np.asarray(meta.band_mean, np.float64)
    std = np.asarray(meta.band_std, np.float64)
    ones = np.ones(len(meta.bands))
    batch = np.concatenate([_impulse_batch(meta, mean, std), _impulse_batch(meta, 0 * mean, ones)])
    response, = run(batch, [meta.linear_outputs[0]])
    count = len(meta.bands) + 1
    w_norm, b_norm, leak_norm = _kernels_from_impulses(response[:count], meta)
    w_norm /= _normalised_steps(batch[1:count], meta)[None, :, None, None]
    w_refl, b_refl, leak_refl = _kernels_from_impulses(response[count:], meta)
    # The two probes are independent: each space must predict the other.
    b_check = b_norm - np.einsum('fbij,b->f', w_norm, mean / std)
    residual = max(leak_norm, leak_refl, float(np.max(np.abs(b_check - b_refl))),
                   float(np.max(np.abs(w_refl * std[None, :, None, None] - w_norm))))
    if residual > PROBE_TOLERANCE:
        raise ModelError(f'conv1_linear does not behave as a 3x3 convolution of the normalised '
                         f'input (residual {residual:.2g}); the model breaks the contract')
    return {'normalised': {'weights': w_norm, 'bias': b_norm},
            'reflectance': {'weights': w_refl, 'bias': b_refl}, 'residual': residual}


def probe_conv1(session, meta) -> FirstLayer:
    """Return the first layer of a model whose metadata lacks it, read back by probing.

    The pooling after it is not probed: FirstLayer's default (2 x 2 max, stride 2) stands, and
    the fast path checks the graph's own pooling node against it.

    Raises:
        ModelError: if the first layer is not a 3x3 conv followed by max(x, a*x).

    """
    run = model_runner(session, meta)
    probed = probe_first_layer(run, meta)['normalised']
    slope = activation_of(run, meta, 1)['negative_slope']
    return FirstLayer(probed['weights'].astype(np.float32), probed['bias'].astype(np.float32),
                      float(np.float32(slope)))
