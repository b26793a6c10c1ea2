"""Export a trained CloudCnn to ONNX with the model contract in its metadata, and check it."""

import os
import warnings
from dataclasses import replace

import numpy as np
import onnx
import torch

from algorithms.core.detection.inference import read_model

from .network import ExportGraph
from .upgrade_contract import first_layer_of

OPSET = 17
# onnxruntime and PyTorch sum in different orders; float32 results agree to about 1e-6.
PROBABILITY_TOLERANCE = 1e-5
FEATURE_TOLERANCE = 1e-4


def export_onnx(model, metadata, path):
    """Write `model` as ONNX at `path` with `metadata` (ModelMetadata) in metadata_props.

    The metadata's first layer (contract schema 2) is read from the exported graph itself.
    The graph has one input `metadata.input_name` [N, bands, patch, patch] (dynamic N)
    and the outputs `metadata.output_name`, then `feature_outputs`, then `linear_outputs`.

    Returns:
        The path written.

    """
    model = model.eval()
    outputs = [metadata.output_name, *metadata.feature_outputs, *metadata.linear_outputs]
    dummy = torch.zeros(2, len(metadata.bands), metadata.patch_size, metadata.patch_size)
    temporary = f'{path}.partial-export'
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    # The TorchScript exporter (dynamo=False) needs no onnxscript and keeps our output names;
    # its deprecation notice is not actionable here.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        torch.onnx.export(
            ExportGraph(model), (dummy,), temporary, input_names=[metadata.input_name],
            output_names=outputs, opset_version=OPSET, dynamo=False,
            dynamic_axes={name: {0: 'N'} for name in [metadata.input_name, *outputs]})
    proto = onnx.load(temporary)
    os.remove(temporary)
    metadata = replace(metadata, conv1=first_layer_of(proto, metadata))
    proto.doc_string = f'S2 Cloud CNN {metadata.model_id} {metadata.version}: {metadata.trained_on}'
    proto.producer_name = 's2cloudcnn models/training'
    onnx.helper.set_model_props(proto, metadata.to_props())
    onnx.checker.check_model(proto)
    onnx.save(proto, path)
    return path


def check_export(model, path, patches):
    """Compare the ONNX file with the PyTorch model on `patches`; return the max differences.

    The file is opened with the plugin's own loader, so a file that would be refused at run
    time fails here.

    Raises:
        ModelError: if the plugin would refuse the file.
        AssertionError: if the outputs differ by more than the stated tolerances.

    """
    metadata, session = read_model(path)
    patches = np.ascontiguousarray(patches, dtype=np.float32)
    ort_outputs = session.session.run(None, {metadata.input_name: patches})
    with torch.no_grad():
        torch_outputs = ExportGraph(model.eval())(torch.from_numpy(patches))
    diffs = [float(np.max(np.abs(a - b.numpy()))) for a, b in zip(ort_outputs, torch_outputs)]
    scale = [max(1.0, float(np.max(np.abs(b.numpy())))) for b in torch_outputs]
    assert diffs[0] <= PROBABILITY_TOLERANCE, f'ONNX probability differs by {diffs[0]}'
    worst = max(d / s for d, s in zip(diffs[1:], scale[1:]))
    assert worst <= FEATURE_TOLERANCE, f'ONNX feature maps differ by {worst} (relative)'
    return {'probability_max_abs_diff': diffs[0], 'feature_max_rel_diff': worst}
