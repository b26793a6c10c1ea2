"""Kernel database files: the JSON document (complete) and its CSV table, written and read back."""

import csv
import io
import json
import math
import os
import re

import numpy as np

from ..detection.inference import read_model
from ..errors import KernelFileError
from ..html import write_text
from ..sentinel2.bands import canonical_band_name
from .first_layer import model_runner
from .kernels import FORMAT_VERSION, KERNEL_FORMAT, build_database

CSV_COLUMNS = ('model_id', 'layer', 'activation', 'negative_slope', 'space', 'filter', 'input',
               'bias', 'w11', 'w12', 'w13', 'w21', 'w22', 'w23', 'w31', 'w32', 'w33',
               'l1_norm', 'share', 'rank')


def export_database(model_path: str, layer: int, json_path: str,
                    csv_path: 'str | None' = None) -> dict:
    """Probe conv layer `layer` of the model and write its kernel database (JSON, CSV).

    Returns:
        The document (dict) written to `json_path`.

    Raises:
        ModelError: if the model is unreadable, lacks the layer or breaks the contract.

    """
    meta, session = read_model(model_path)
    document = build_database(model_runner(session, meta), meta, layer,
                              os.path.basename(model_path))
    for path, text in ((json_path, json_text), (csv_path, csv_text)):
        if path:
            write_text(path, text(document), protected=[model_path])
    return document


def _plain(value):
    """JSON-ready copy: arrays as nested lists, NaN (undeterminable weight) as null."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


# A list of plain numbers (a kernel row, a bias vector), kept on one line in the JSON.
_NUMBER_LIST = re.compile(r'\[\s+((?:-?[0-9.eE+-]+|null)(?:,\s+(?:-?[0-9.eE+-]+|null))*)\s+\]')


def json_text(document: dict) -> str:
    """Return the kernel database document as JSON (indented, number lists on one line)."""
    text = json.dumps(_plain(document), indent=1, allow_nan=False)
    return _NUMBER_LIST.sub(lambda m: '[' + re.sub(r',\s+', ', ', m.group(1)) + ']', text) + '\n'


def _csv_rows(document):
    """One row per (space, filter, input): the 3x3 kernel, the bias and the summary."""
    model, activation = document['model'], document['activation']
    summary_space = next(iter(document['kernels']))
    for space, kernels in document['kernels'].items():
        for f, (kernel, bias) in enumerate(zip(kernels['weights'], kernels['bias'])):
            ranked = document['summary'][f]['l1']
            order = sorted(ranked, key=ranked.get, reverse=True)
            for name, weights in zip(document['inputs'], kernel):
                flat = np.asarray(weights, dtype=float).ravel()
                in_summary = space == summary_space
                yield [model['model_id'], document['layer'], activation['name'],
                       activation['negative_slope'], space, f + 1, name, float(bias), *flat,
                       float(np.abs(flat).sum()),
                       document['summary'][f]['share'][name] if in_summary else '',
                       order.index(name) + 1 if in_summary else '']


def csv_text(document: dict) -> str:
    """Return the kernels as a flat table (CSV_COLUMNS); `rank` 1 = the filter's strongest input.

    The reflectance rows of layer 1 carry no share/rank: inputs are compared in the
    normalised space, where every band has unit spread in the training data.
    """
    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow(CSV_COLUMNS)
    for row in _csv_rows(document):
        writer.writerow(['' if isinstance(v, float) and math.isnan(v) else v for v in row])
    return stream.getvalue()


def read_first_layer(path: str) -> dict:
    """Read a kernel database JSON for applying its layer-1 kernels to reflectance.

    Returns:
        dict with bands (canonical names), weights [F, bands, 3, 3] and bias [F] (reflectance
        space), activation {'name', 'negative_slope'}, model_id.

    Raises:
        KernelFileError: if the file is not a kernel database, or not of layer 1.

    """
    try:
        with open(path, encoding='utf-8') as handle:
            document = json.load(handle)
        is_database = document.get('format') == KERNEL_FORMAT
    except (OSError, UnicodeDecodeError, ValueError, AttributeError) as error:
        raise KernelFileError(f'{path} is not a kernel database ({error}); export one with '
                              "'Export kernel database' (s2cloudcnn:exportkernels)") from error
    if not is_database:
        raise KernelFileError(f'{path} is not an S2 Cloud CNN kernel database (no "format": '
                              f'"{KERNEL_FORMAT}"); export one with s2cloudcnn:exportkernels')
    if document.get('format_version') != FORMAT_VERSION:
        raise KernelFileError(f'{path} has kernel format version {document.get("format_version")}'
                              f'; this plugin reads version {FORMAT_VERSION}: export it again')
    if document.get('layer') != 1:
        raise KernelFileError(f'{path} holds conv layer {document.get("layer")} kernels, which act '
                              'on the previous layer\'s pooled maps, not on bands; export layer 1')
    return _first_layer_arrays(document, path)


def _first_layer_arrays(document, path):
    try:
        kernels = document['kernels']['reflectance']
        weights = np.asarray(kernels['weights'], dtype=np.float64)
        bias = np.asarray(kernels['bias'], dtype=np.float64)
        bands = [canonical_band_name(b) for b in document['bands']]
        activation = document['activation']
        slope = float(activation['negative_slope'])
    except (KeyError, TypeError, ValueError) as error:
        raise KernelFileError(f'{path} is an incomplete kernel database (missing or bad '
                              f'{error}); export it again with s2cloudcnn:exportkernels') from error
    if (None in bands or weights.shape != (len(bias), len(bands), 3, 3)
            or not np.isfinite(weights).all() or not np.isfinite(bias).all()):
        raise KernelFileError(f'{path}: kernel shape {weights.shape} does not match '
                              f'{len(bias)} filters x {len(bands)} bands x 3 x 3, or holds '
                              'unknown bands or empty weights; export it again')
    return {'bands': bands, 'weights': weights, 'bias': bias, 'model_id':
            document.get('model', {}).get('model_id', '?'),
            'activation': {'name': activation.get('name', ''), 'negative_slope': slope}}
