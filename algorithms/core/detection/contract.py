"""The model contract: what an S2 Cloud CNN ONNX file declares in its custom metadata.

Every value is stored as a string in the ONNX `metadata_props` (lists and dicts as JSON),
written by the training export and checked here before any inference work starts.
"""

import json
from dataclasses import asdict, dataclass, field

from ..errors import ModelError
from ..sentinel2.bands import canonical_band_name

SCHEMA_VERSION = '1'
VARIANTS = ('leakyrelu', 'relu', 'bn_leakyrelu')
_JSON_KEYS = ('bands', 'filters', 'band_mean', 'band_std', 'heldout_metrics', 'feature_outputs',
              'linear_outputs')
_NUMBER_KEYS = {'resolution_m': float, 'patch_size': int, 'padding': int, 'threshold': float}


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
    schema: str = SCHEMA_VERSION

    def to_props(self):
        """Return the metadata as the str -> str mapping stored in the ONNX file."""
        props = {}
        for key, value in asdict(self).items():
            if key in _JSON_KEYS:
                value = json.dumps(list(value) if isinstance(value, tuple) else value)
            props[key] = str(value)
        return props


def _check(condition, message):
    if not condition:
        raise ModelError(message)


def parse_metadata(props: dict, source: str = 'the model') -> 'ModelMetadata':
    """Build and validate ModelMetadata from an ONNX custom metadata mapping.

    Raises:
        ModelError: naming the missing or inconsistent key.
    """
    required = [name for name in ModelMetadata.__dataclass_fields__ if name != 'heldout_metrics']
    missing = [key for key in required if key not in props]
    _check(not missing, f'{source} lacks S2 Cloud CNN metadata {missing}; export it with '
                        "'make train' (models/training/export.py), which embeds it")
    values = {}
    try:
        for key in ModelMetadata.__dataclass_fields__:
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
    return meta


def _validate(meta, source):
    _check(meta.schema == SCHEMA_VERSION,
           f'{source} uses metadata schema {meta.schema}; this plugin reads {SCHEMA_VERSION}')
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
