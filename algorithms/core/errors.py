"""Typed errors of the core; each message says what is wrong and what to do."""


class S2CloudCnnError(Exception):
    """Root of every error the core raises on purpose."""


class InvalidProductError(S2CloudCnnError, ValueError):
    """The input is not a readable Sentinel-2 Level-1C product."""


class InvalidRasterError(S2CloudCnnError, ValueError):
    """A raster cannot be used as given (bands, grid, values)."""


class NoValidDataError(S2CloudCnnError, ValueError):
    """The requested area holds no valid pixel."""


class ExtentError(S2CloudCnnError, ValueError):
    """A requested extent does not overlap the data."""


class ModelError(S2CloudCnnError, ValueError):
    """A model file is unreadable or its metadata is missing or inconsistent."""


class BandMismatchError(S2CloudCnnError, ValueError):
    """The raster's bands do not match what the model expects."""


class KernelFileError(S2CloudCnnError, ValueError):
    """A kernel database file is unreadable or not the kind a step needs."""


class OutputPathError(S2CloudCnnError, ValueError):
    """An output path cannot be written: empty, a folder, or one of the inputs."""


class OutputWriteError(S2CloudCnnError, OSError):
    """An output could not be written completely: full disk, file in use, or cut short."""


class MappingError(S2CloudCnnError, ValueError):
    """A class mapping is empty or contradictory."""


class MethodTableError(S2CloudCnnError, ValueError):
    """A table of methods is incomplete, unusable, or does not fit the predictions given."""


class PairingError(S2CloudCnnError, ValueError):
    """Predictions and ground truths cannot be paired by their file names."""


class DependencyMissingError(S2CloudCnnError, ImportError):
    """A Python package the plugin needs is not installed."""


class DependencyInstallError(S2CloudCnnError, RuntimeError):
    """Installing a Python package the plugin needs cannot start or finish."""


class CancelledError(S2CloudCnnError):
    """The user cancelled the run; outputs were removed."""


class SeedError(S2CloudCnnError, ValueError):
    """Seed polygons cannot train a reference forest (class, place, count)."""


_DAMAGED = ('IReadBlock failed', 'TIFFRead', 'opj_', 'Read error', 'ZIPDecode', 'LZWDecode',
            'JPEG2000', 'Decoding failed')


def plain_error(error: BaseException) -> S2CloudCnnError:
    """Turn an OSError, a GDAL RuntimeError or an onnxruntime failure into one clear message."""
    text = str(error).strip()
    if type(error).__module__.startswith('onnxruntime'):
        return ModelError(f'the model failed while running ({text}); its graph does not match '
                          'its metadata or this input: choose a model exported by '
                          'models/training/export.py')
    if isinstance(error, OSError) and error.filename:
        return InvalidRasterError(f'cannot use {error.filename} ({error.strerror}); check that '
                                  'it exists and can be read, and that its folder can be written')
    if any(marker in text for marker in _DAMAGED):
        name = text.split(', band ')[0].split(': ')[0]
        return InvalidRasterError(f'{name} cannot be read ({text}): the file is damaged or '
                                  'incomplete; copy or download it again')
    return S2CloudCnnError(f'the run failed: {text}')
