"""Loading ONNX cloud models: lazy onnxruntime, metadata checks, execution provider choice."""

import ctypes
import glob
import os
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..dependencies import missing_message
from ..errors import DependencyMissingError, ModelError
from .contract import ModelMetadata, parse_metadata

PROVIDERS = ('auto', 'cpu', 'cuda')
_CUDA = 'CUDAExecutionProvider'
CPU_PROVIDER = 'CPUExecutionProvider'
_DEVICES = {_CUDA: 'cuda', CPU_PROVIDER: 'cpu'}  # where IOBinding has the output allocated


def import_onnxruntime():
    """Return the onnxruntime module, imported only when inference is about to run.

    Raises:
        DependencyMissingError: with the command that installs it.

    """
    try:
        import onnxruntime
    except ImportError as error:
        raise DependencyMissingError(missing_message()) from error
    return onnxruntime


@dataclass
class Session:
    """An onnxruntime session plus which execution provider really runs it, and why."""

    session: object
    provider: str
    note: str = ''
    io_binding: bool = False  # run through onnxruntime IOBinding (open_session: on CUDA)

    def run(self, output_name, feeds):
        """Return the named output for the input mapping `feeds`."""
        if self.io_binding:
            return self._run_bound(output_name, feeds)
        return self.session.run([output_name], feeds)[0]

    def _run_bound(self, output_name, feeds):
        """Run with IOBinding: inputs bound from numpy, the output on the provider's device.

        onnxruntime allocates the output there and it is copied to the host once per call.
        """
        binding = self.session.io_binding()  # one per call: worker threads share the session
        for name, array in feeds.items():
            binding.bind_cpu_input(name, np.ascontiguousarray(array))
        binding.bind_output(output_name, _DEVICES[self.provider])
        self.session.run_with_iobinding(binding)
        return binding.copy_outputs_to_cpu()[0]


@dataclass
class LoadedModel:
    """A model file read once: its bytes (for every further session), metadata, CPU session."""

    path: str
    model_bytes: bytes
    metadata: ModelMetadata
    cpu_session: Session


def load_model(path: str) -> LoadedModel:
    """Read `path` once and open it on the CPU, checking the metadata first.

    Raises:
        ModelError: if the file is missing, not ONNX, or lacks valid S2 Cloud CNN metadata.

    """
    if not os.path.isfile(path):
        raise ModelError(f'model file {path} does not exist; choose an .onnx model file')
    with open(path, 'rb') as stream:
        model_bytes = stream.read()
    session = open_session(model_bytes, 'cpu', source=path)
    props = session.session.get_modelmeta().custom_metadata_map
    metadata = parse_metadata(props, source=os.path.basename(path))
    _check_graph_input(session.session, metadata, os.path.basename(path))
    names = {node.name for node in session.session.get_outputs()}
    if metadata.output_name not in names:
        raise ModelError(f'{os.path.basename(path)} has no output {metadata.output_name!r} '
                         f'(it has {sorted(names)}); export it with models/training/export.py')
    return LoadedModel(path, model_bytes, metadata, session)


def read_model(path: str) -> tuple:
    """Return (ModelMetadata, CPU Session) of the model at `path` (see load_model)."""
    loaded = load_model(path)
    return loaded.metadata, loaded.cpu_session


def _check_graph_input(session, metadata, name):
    """Refuse a graph whose input is not the [N, bands, patch, patch] its metadata promises."""
    inputs = {node.name: node.shape for node in session.get_inputs()}
    if metadata.input_name not in inputs:
        raise ModelError(f'{name} has no input {metadata.input_name!r} (it has '
                         f'{sorted(inputs)}), as its metadata says; export it with '
                         'models/training/export.py')
    shape = list(inputs[metadata.input_name])[1:]
    promised = [len(metadata.bands), metadata.patch_size, metadata.patch_size]
    if len(shape) != 3 or any(isinstance(d, int) and d != p for d, p in zip(shape, promised)):
        raise ModelError(f'{name}: its graph takes patches of {shape[0]} bands x '
                         f'{" x ".join(map(str, shape[1:]))} pixels but its metadata names '
                         f'{promised[0]} bands and {promised[1]} x {promised[2]} patches; '
                         'export the model again with models/training/export.py')


def open_session(model, provider: str = 'auto', threads: int = 0,
                 source: str = 'the model', io_binding: Optional[bool] = None) -> 'Session':
    """Create an inference session on the requested execution provider.

    Args:
        model: an .onnx path or the serialized model bytes.
        provider: 'auto' (CUDA if onnxruntime offers it and it initialises, else CPU),
            'cpu' or 'cuda' (CUDA if it works, else CPU with the reason in `note`).
        threads: CPU threads for one operator; 0 lets onnxruntime use every core.
        source: name of the model in error messages.
        io_binding: run it through onnxruntime IOBinding (Session.run); None: only when CUDA
            runs it.

    Raises:
        ModelError: if onnxruntime cannot read the model.
        DependencyMissingError: if onnxruntime is not installed.

    """
    ort = import_onnxruntime()
    if provider not in PROVIDERS:
        raise ValueError(f'provider must be one of {PROVIDERS}, not {provider!r}')
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3  # a head cut from a model leaves unused weights: not news
    note = ''
    if provider != 'cpu':
        if _CUDA in ort.get_available_providers():
            ort.set_default_logger_severity(4)  # a failed CUDA start is reported by us
            try:
                session = _create(ort, model, options, [_CUDA, CPU_PROVIDER], source)
            finally:
                ort.set_default_logger_severity(3)
            if session.get_providers()[0] == _CUDA:
                return Session(session, _CUDA, io_binding=io_binding is not False)
            note = f'onnxruntime offers CUDA but it did not start: {_cuda_failure(ort)}'
        else:
            note = ('this onnxruntime has no CUDA provider; install onnxruntime-gpu '
                    '(for NVIDIA GPUs) instead of onnxruntime')
    return Session(_create(ort, model, options, [CPU_PROVIDER], source), CPU_PROVIDER, note,
                   bool(io_binding))


def _create(ort, model, options, providers, source):
    try:
        return ort.InferenceSession(model, options, providers=providers)
    except Exception as error:  # onnxruntime raises its own untyped errors for bad files
        raise ModelError(f'{source} is not a readable ONNX model ({error}); choose an .onnx '
                         'file exported by models/training/export.py') from error


def _cuda_failure(ort):
    """Say why the CUDA provider did not load: its library's own loader error, if any."""
    folder = os.path.join(os.path.dirname(ort.__file__), 'capi')
    libraries = glob.glob(os.path.join(folder, '*onnxruntime_providers_cuda.*'))
    try:
        if libraries:
            ctypes.CDLL(libraries[0])
    except OSError as error:
        return (f'{error} (onnxruntime-gpu {ort.__version__} needs the CUDA and cuDNN '
                'versions listed on onnxruntime.ai for it)')
    return 'no usable NVIDIA GPU or driver was found'
