"""One output transaction per run: temporary names, checked, renamed together on success.

Every file is written under a temporary name, checked, and renamed into place together with
the other outputs of the run only when the whole run succeeded.

Paths are compared by real path (symlinks and `..` resolved, case folded where the platform
ignores case) against every input and every other output. A run's declared outputs are checked
before any work; files derived from them (a .qml, the PNGs of a report) when they are written.
"""

import contextlib
import contextvars
import errno
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator
from typing import Callable, Optional

from osgeo import gdal

from .errors import OutputPathError, OutputWriteError

SIDECARS = ('.aux.xml', '.ovr', '.msk')  # GDAL side-cars that belong to a raster
PARTIAL = '.partial-'
LOW_SPACE = 1 << 20  # below this many free bytes a failed write is reported as a full disk
RASTER_SUFFIXES = ('.tif', '.tiff')
_PNG_SIGNATURE, _PNG_END = b'\x89PNG\r\n\x1a\n', b'IEND\xaeB`\x82'
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)
_current = contextvars.ContextVar('s2cloudcnn_output_transaction', default=None)


def path_key(path: str) -> str:
    """The identity of a file path: real path, case folded on Windows."""
    return os.path.normcase(os.path.realpath(os.path.abspath(path)))


def file_behind(path: str) -> str:
    """The file on disk behind a GDAL or QGIS source (the zip of /vsizip/a.zip/b.jp2)."""
    match = re.match(r'/vsi(?:zip|tar)/(.+?\.(?:zip|tar|tgz))(?:/|$)', path, re.IGNORECASE)
    return match.group(1) if match else path.split('|')[0]


def partial_pattern(path: str) -> 're.Pattern':
    """The names this plugin gives the temporary files of the output `path`."""
    root, ext = os.path.splitext(os.path.basename(path))
    sidecars = '|'.join(re.escape(s) for s in SIDECARS)
    return re.compile(rf'{re.escape(root)}{re.escape(PARTIAL)}[0-9a-f]{{8}}{re.escape(ext)}'
                      rf'(?:{sidecars})?\Z')


def _temporary_name(path: str) -> str:
    root, ext = os.path.splitext(path)
    return f'{root}{PARTIAL}{uuid.uuid4().hex[:8]}{ext}'


def _remove_quietly(*paths: str) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            os.remove(path)


def _with_sidecars(path: str) -> list:
    return [path, *(path + suffix for suffix in SIDECARS)]


def _free_bytes(folder: str) -> Optional[int]:
    with contextlib.suppress(OSError):
        return shutil.disk_usage(folder).free
    return None


def disk_full_error(path: str, what: str = 'output') -> OutputWriteError:
    """The message for an output that did not fit on its disk."""
    folder = os.path.dirname(os.path.abspath(path))
    free = _free_bytes(folder)
    left = f' ({free / 1e6:.1f} MB free)' if free is not None else ''
    return OutputWriteError(f'the disk holding {folder} is full{left}: the {what} '
                            f'{os.path.basename(path)} could not be written; free some space or '
                            'choose a folder on another disk (nothing was written)')


def write_error(path: str, error: OSError, what: str = 'output') -> Exception:
    """The message for an OSError met while writing `path`."""
    folder = os.path.dirname(os.path.abspath(path))
    if error.errno in _NOT_WRITABLE:
        return OutputPathError(f'cannot write the {what} {os.path.basename(path)} in {folder} '
                               f'({error.strerror}): choose a folder you can write to')
    if error.errno == errno.ENOSPC:
        return disk_full_error(path, what)
    return OutputWriteError(f'cannot write the {what} {path} ({error}); check the folder and '
                            'the disk, or choose another folder')


def file_problem(path: str) -> str:
    """Say what is wrong with a written file ('' when it looks complete).

    GeoTIFFs must open and read back (GDAL reports a failed write only when
    the file is closed, where Python cannot see it); PNGs must have their end marker.
    """
    lower = path.lower()
    if lower.endswith(RASTER_SUFFIXES):
        return _raster_problem(path)
    if lower.endswith('.png'):
        with open(path, 'rb') as stream:
            start = stream.read(len(_PNG_SIGNATURE))
            stream.seek(max(0, os.path.getsize(path) - len(_PNG_END)))
            return '' if (start, stream.read()) == (_PNG_SIGNATURE, _PNG_END) else 'cut short'
    return ''


def _raster_problem(path):
    try:
        dataset = gdal.Open(path)
        for index in range(1, (dataset.RasterCount if dataset else 0) + 1):
            band = dataset.GetRasterBand(index)
            rows = band.GetBlockSize()[1]
            for row in range(0, dataset.RasterYSize, rows):  # every block decodes
                band.ReadRaster(0, row, dataset.RasterXSize, min(rows, dataset.RasterYSize - row))
    except RuntimeError as error:
        return f'it cannot be read back: {error}'
    return '' if dataset is not None else 'it does not open'


class OutputTransaction:
    """The files of one run: staged under temporary names, committed together or not at all.

    Entering checks the declared outputs against the inputs and each other, removes leftovers
    of killed runs beside them and tries each folder, all before any work. Files staged with
    `stage` (raster_io.atomic_output) wait for the end of the run when they are declared or
    derived from a declared output (same folder, name beginning with its stem); others, such as
    intermediate files in a scratch folder, are put in place at once. Leaving normally renames
    every waiting file into place (old files come back if a rename fails); leaving with an
    exception, cancel included, removes them all.
    """

    def __init__(self, outputs: dict, inputs: Iterable[str] = (),
                 log: Optional[Callable[[str], None]] = None):
        """Declare the run's outputs ({name: path}; empty paths are skipped) and its inputs."""
        self.outputs = {name: os.path.abspath(path) for name, path in outputs.items() if path}
        self.inputs = {path_key(file_behind(str(p))): str(p) for p in inputs if p}
        self.log = log or (lambda _text: None)
        self.staged = {}  # path key -> (final path, temporary path)
        self._token = None

    def __enter__(self):
        self._check_declared()
        for path in self.outputs.values():
            self._remove_leftovers(path)
            self._try_folder(path)
        self._token = _current.set(self)
        return self

    def __exit__(self, kind, error, trace):
        _current.reset(self._token)
        if kind is None:
            self._commit()
            return False
        self._discard()
        if isinstance(error, OSError) and error.errno == errno.ENOSPC or (
                isinstance(error, RuntimeError) and self._low_space()):
            raise disk_full_error(self._low_space() or error.filename or '') from error
        return False

    def _check_declared(self):
        seen = {}
        for name, path in self.outputs.items():
            if os.path.isdir(path):
                raise OutputPathError(f'{name}: {path} is a folder; give a file name to write')
            key = path_key(path)
            self._refuse_input(key, path, name)
            if key in seen:
                raise OutputPathError(f'{seen[key]} and {name} are the same file {path}; give '
                                      'each output its own file')
            seen[key] = name

    def _refuse_input(self, key, path, name):
        if key in self.inputs:
            raise OutputPathError(f'{name}: {path} is also an input ({self.inputs[key]}); '
                                  'choose another output file')

    def _remove_leftovers(self, path):
        folder, pattern = os.path.dirname(path), partial_pattern(path)
        with contextlib.suppress(OSError):
            for name in sorted(os.listdir(folder)):
                if pattern.match(name):
                    _remove_quietly(os.path.join(folder, name))
                    self.log(f'Removed {name}, left by an interrupted run.')

    def _try_folder(self, path):
        """Create the output's folder and a file in it, so a folder we cannot use fails now."""
        probe = _temporary_name(path)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(probe, 'x'):
                pass
        except OSError as error:
            raise write_error(path, error) from error
        finally:
            _remove_quietly(probe)

    def _low_space(self):
        for path in self.outputs.values():
            free = _free_bytes(os.path.dirname(path))
            if free is not None and free < LOW_SPACE:
                return path
        return None

    def waits(self, path: str) -> bool:
        """Whether `path` is an output of this run (declared or derived from one)."""
        folder, name = os.path.split(path)
        return any(os.path.dirname(d) == folder and name.startswith(
            os.path.splitext(os.path.basename(d))[0]) for d in self.outputs.values())

    @contextlib.contextmanager
    def stage(self, path: str, protected: Iterable[str] = ()) -> Iterator[str]:
        """Yield a temporary name for `path`; on success keep it for the commit (see class)."""
        final = os.path.abspath(path)
        key = path_key(final)
        self._refuse_input(key, path, 'the output')
        for other in (p for p in protected if p):
            if path_key(file_behind(str(other))) == key:
                raise OutputPathError(f'the output {path} is also an input; choose another '
                                      'output file')
        temporary = _temporary_name(final)
        try:
            yield temporary
            problem = file_problem(temporary) if os.path.exists(temporary) else 'not written'
            if problem:
                raise (disk_full_error(final) if self._low_space() else OutputWriteError(
                    f'the output {final} was not written completely ({problem}); check the '
                    'disk and run again'))
        except OSError as error:
            _remove_quietly(*_with_sidecars(temporary))
            if error.filename and path_key(error.filename) == path_key(temporary):
                raise write_error(final, error) from error
            raise
        except BaseException:
            _remove_quietly(*_with_sidecars(temporary))
            raise
        if key in self.staged:
            _remove_quietly(*_with_sidecars(self.staged[key][1]))
        self.staged[key] = (final, temporary)

    def readable(self, path: str) -> str:
        """The file holding `path`'s content now: its temporary file while it waits."""
        return self.staged.get(path_key(path), (path, path))[1]

    def _commit(self):
        backups, done = {}, []
        try:
            for final, temporary in self.staged.values():
                if os.path.exists(final):
                    backups[final] = _temporary_name(final)
                    os.replace(final, backups[final])
                os.replace(temporary, final)
                done.append(final)
        except OSError as error:
            _remove_quietly(*done)
            for final, backup in backups.items():
                with contextlib.suppress(OSError):
                    os.replace(backup, final)
            self._discard()
            raise OutputWriteError(f'cannot put {final} in place ({error}); close it in other '
                                   'programs (QGIS layers included) and run again') from error
        for final, temporary in self.staged.values():
            for suffix in SIDECARS:
                if os.path.exists(temporary + suffix):
                    os.replace(temporary + suffix, final + suffix)
                else:
                    _remove_quietly(final + suffix)  # statistics of the replaced file
        _remove_quietly(*backups.values())
        self.staged.clear()

    def _discard(self):
        for _, temporary in self.staged.values():
            _remove_quietly(*_with_sidecars(temporary))
        self.staged.clear()


@contextlib.contextmanager
def staged_output(path: str, protected: Iterable[str] = ()) -> Iterator[str]:
    """Yield a temporary name for `path`: part of the running transaction, or one of its own.

    Raises:
        OutputPathError: if `path` is empty, a folder, or one of the inputs.
        OutputWriteError: if the file cannot be written completely.
    """
    if not path or os.path.isdir(path):
        raise OutputPathError(f'the output path {path!r} is not a file name; give a file to write')
    running = _current.get()
    if running is not None and running.waits(os.path.abspath(path)):
        with running.stage(path, protected) as temporary:
            yield temporary
        return
    with OutputTransaction({'the output': path}, protected) as own:
        with own.stage(path, protected) as temporary:
            yield temporary


def readable(path: str) -> str:
    """The file holding an output's content now (its temporary file until the run commits)."""
    running = _current.get()
    return running.readable(path) if running is not None else path
