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


class MappingError(S2CloudCnnError, ValueError):
    """A class mapping is empty or contradictory."""


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
