"""The model contract: what an S2 Cloud CNN ONNX file declares in its custom metadata.

Every value is stored as a string in the ONNX `metadata_props` (lists and dicts as JSON),
written by the training export and checked here before any inference work starts.
Schema 2 adds the first conv layer (weights, bias, activation slope, pooling), so the fast
detection path reads it instead of probing the graph; schema 1 files (and custom models that
cannot state it) are still read, without it.
"""

import base64
import binascii
import json
import math
from dataclasses import dataclass, field, fields, replace
from typing import Optional

import numpy as np

from ..errors import ModelError
from ..sentinel2.bands import canonical_band_name

SCHEMA_VERSION = '2'
SCHEMAS = ('1', SCHEMA_VERSION)
# Schema 2's first-layer keys; arrays are {"shape", "dtype": "<f4", "base64"}: exact float32.
CONV1_KEYS = ('conv1_weights', 'conv1_bias', 'conv1_activation', 'conv1_pooling')
_FLOAT32_LE = '<f4'
VARIANTS = ('leakyrelu', 'relu', 'bn_leakyrelu')
_JSON_KEYS = ('bands', 'filters', 'band_mean', 'band_std', 'heldout_metrics', 'feature_outputs',
              'linear_outputs')
_NUMBER_KEYS = {'resolution_m': float, 'patch_size': int, 'padding': int, 'threshold': float}


@dataclass(frozen=True, eq=False)
class FirstLayer:
    """The first conv layer as the graph computes it, and the pooling after it.

    `weights` float32 [filters, bands, 3, 3] act on the normalised input z = (reflectance -
    band_mean) / band_std like ONNX Conv (cross-correlation, zero 'same' padding in z), plus
    `bias` float32 [filters]; then a(v) = max(v, negative_slope * v) (0: ReLU) and a max
    pooling of `pool_kernel` with `pool_strides`.
    """

    weights: np.ndarray
    bias: np.ndarray
    negative_slope: float
    pool_kernel: tuple = (2, 2)
    pool_strides: tuple = (2, 2)

    def to_props(self) -> dict:
        """Return the schema 2 keys (CONV1_KEYS) as stored in the ONNX file."""
        return {
            'conv1_weights': _encode_array(self.weights),
            'conv1_bias': _encode_array(self.bias),
            'conv1_activation': json.dumps({'negative_slope': float(self.negative_slope)}),
            'conv1_pooling': json.dumps({'op': 'MaxPool', 'kernel_shape': list(self.pool_kernel),
                                         'strides': list(self.pool_strides)}),
        }


@dataclass(frozen=True)
class ModelMetadata:
    """What a model expects and what it was trained on.

    The graph takes `input_name` = float32 [N, len(bands), patch_size, patch_size] patches of
    reflectance (unit 1, not x10000), zero outside the image, and returns `output_name` =
    float32 [N, 1] P(cloud) of each patch's centre pixel (row/col `padding`). Per-band
    normalisation (x - band_mean) / band_std is part of the graph. `feature_outputs` name the
    graph outputs holding each conv layer's activations [N, filters[i], size, size] (before
    pooling); `linear_outputs` the same layers before the activation (after batch norm, if
    any), from which the kernels can be read back exactly by probing with impulses.
    `conv1` is the first layer itself (schema 2); None for a schema 1 model.
    """

    model_id: str
    version: str
    bands: tuple
    resolution_m: float
    patch_size: int
    padding: int
    input_kind: str
    band_mean: tuple
    band_std: tuple
    threshold: float
    variant: str
    filters: tuple
    trained_on: str
    heldout_metrics: dict = field(default_factory=dict)
    input_name: str = 'patches'
    output_name: str = 'probability'
    feature_outputs: tuple = ('conv1', 'conv2', 'conv3')
    linear_outputs: tuple = ('conv1_linear', 'conv2_linear', 'conv3_linear')
    conv1: Optional[FirstLayer] = None

    @property
    def schema(self) -> str:
        """'2' when the metadata states the first layer, else '1'."""
        return SCHEMA_VERSION if self.conv1 is not None else '1'

    def to_props(self) -> dict:
        """Return the metadata as the str -> str mapping stored in the ONNX file."""
        props = {}
        for key in _PLAIN_FIELDS:
            value = getattr(self, key)
            if key in _JSON_KEYS:
                value = json.dumps(list(value) if isinstance(value, tuple) else value)
            props[key] = str(value)
        props['schema'] = self.schema
        if self.conv1 is not None:
            props.update(self.conv1.to_props())
        return props


_PLAIN_FIELDS = tuple(f.name for f in fields(ModelMetadata) if f.name != 'conv1')


def _check(condition, message):
    if not condition:
        raise ModelError(message)


def _encode_array(array):
    """JSON record of a float32 array: shape, dtype and its little-endian bytes in base64."""
    data = np.ascontiguousarray(array, dtype=_FLOAT32_LE)
    return json.dumps({'shape': list(data.shape), 'dtype': _FLOAT32_LE,
                       'base64': base64.b64encode(data.tobytes()).decode('ascii')})


def parse_metadata(props: dict, source: str = 'the model') -> 'ModelMetadata':
    """Build and validate ModelMetadata from an ONNX custom metadata mapping.

    Raises:
        ModelError: naming the missing or inconsistent key.
    """
    required = [name for name in (*_PLAIN_FIELDS, 'schema') if name != 'heldout_metrics']
    missing = [key for key in required if key not in props]
    _check(not missing, f'{source} lacks S2 Cloud CNN metadata {missing}; export it with '
                        "'make train' (models/training/export.py), which embeds it")
    _check(props['schema'] in SCHEMAS,
           f"{source} uses metadata schema {props['schema']}; this plugin reads "
           f"{' and '.join(SCHEMAS)}")
    values = {}
    try:
        for key in _PLAIN_FIELDS:
            if key not in props:
                continue
            raw = props[key]
            if key in _JSON_KEYS:
                value = json.loads(raw)
                values[key] = tuple(value) if isinstance(value, list) else value
            else:
                values[key] = _NUMBER_KEYS.get(key, str)(raw)
    except (ValueError, TypeError) as error:
        raise ModelError(f'{source} has unreadable metadata: {error}') from error
    meta = ModelMetadata(**values)
    _validate(meta, source)
    if props['schema'] == SCHEMA_VERSION:
        meta = replace(meta, conv1=_parse_first_layer(props, meta, source))
    return meta


def _validate(meta, source):
    unknown = [b for b in meta.bands if canonical_band_name(b) != b]
    _check(meta.bands and not unknown, f'{source} names unknown bands {unknown}')
    _check(len(meta.band_mean) == len(meta.band_std) == len(meta.bands),
           f'{source}: band_mean/band_std must have one value per band')
    _check(meta.resolution_m > 0, f'{source}: resolution_m must be positive')
    _check(meta.patch_size > 0 and 0 <= meta.padding < meta.patch_size,
           f'{source}: padding must lie inside the patch')
    _check(0.0 < meta.threshold < 1.0, f'{source}: threshold must be between 0 and 1')
    _check(meta.variant in VARIANTS, f'{source}: variant must be one of {VARIANTS}')
    _check(len(meta.filters) == len(meta.feature_outputs) == len(meta.linear_outputs),
           f'{source}: one feature output and one linear output per conv layer are required')


def _parse_first_layer(props, meta, source):
    """Read and check schema 2's conv1 keys against the rest of the metadata."""
    missing = [key for key in CONV1_KEYS if key not in props]
    _check(not missing, f'{source} declares metadata schema 2 but lacks {missing}; export it '
                        'again with models/training/export.py')
    filters = meta.filters[0]
    weights = _decode_array(props, 'conv1_weights', (filters, len(meta.bands), 3, 3), source)
    bias = _decode_array(props, 'conv1_bias', (filters,), source)
    activation = _json_record(props, 'conv1_activation', source)
    slope = activation.get('negative_slope')
    _check(isinstance(slope, (int, float)) and math.isfinite(slope) and 0 <= slope < 1,
           f'{source}: conv1_activation needs a negative_slope from 0 to below 1, not {slope!r}')
    pooling = _json_record(props, 'conv1_pooling', source)
    kernel, strides = pooling.get('kernel_shape'), pooling.get('strides')
    _check(pooling.get('op') == 'MaxPool' and all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(n, int) and n > 0
                                                          for n in pair)
        for pair in (kernel, strides)),
        f'{source}: conv1_pooling must be {{"op": "MaxPool", "kernel_shape": [h, w], '
        f'"strides": [h, w]}} with positive integers, not {props["conv1_pooling"]!r}')
    return FirstLayer(weights, bias, float(np.float32(slope)), tuple(kernel), tuple(strides))


def _json_record(props, key, source):
    try:
        record = json.loads(props[key])
    except ValueError as error:
        raise ModelError(f'{source}: {key} is not JSON ({error})') from error
    _check(isinstance(record, dict), f'{source}: {key} must be a JSON object')
    return record


def _decode_array(props, key, shape, source):
    """Decode a float32 array record, checking its dtype, shape, size and values."""
    record = _json_record(props, key, source)
    stated = record.get('shape')
    _check(record.get('dtype') == _FLOAT32_LE,
           f"{source}: {key} must be little-endian float32 ('{_FLOAT32_LE}')")
    _check(stated == list(shape), f'{source}: {key} has shape {stated}; the metadata '
                                  f'(bands, filters) needs {list(shape)}')
    try:
        data = base64.b64decode(record.get('base64', ''), validate=True)
    except (binascii.Error, TypeError) as error:
        raise ModelError(f'{source}: {key} is not valid base64 ({error})') from error
    expected = 4 * math.prod(shape)
    _check(len(data) == expected,
           f'{source}: {key} holds {len(data)} bytes; shape {list(shape)} needs {expected}')
    array = np.frombuffer(data, _FLOAT32_LE).reshape(shape).astype(np.float32)
    _check(bool(np.isfinite(array).all()), f'{source}: {key} holds values that are not finite')
    return array
