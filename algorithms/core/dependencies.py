"""The plugin's packages (onnxruntime, optional scikit-learn): where, whether, how to install."""

import ctypes.util
import importlib
import importlib.metadata
import importlib.util
import ntpath
import os
import platform as platform_module
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Optional

from .errors import DependencyInstallError

PACKAGES_DIR_NAME = 's2cloudcnn-packages'
MENU = 'S2 Cloud CNN'  # the plugin's submenu of Plugins, which holds the install action
ACTION_TEXT = 'Install Python dependencies…'
MENU_PATH = f'Plugins > {MENU} > {ACTION_TEXT}'
# What onnxruntime declares besides numpy (its Requires-Dist without extras). `import onnxruntime`
# needs none of them; core/onnx_graph.py (fast detection path) uses protobuf.
PURE_DEPENDENCIES = ('flatbuffers', 'packaging', 'protobuf')
GPU_MACHINES = ('x86_64', 'amd64')  # the only ones onnxruntime-gpu publishes wheels for
# The onnxruntime installed, per Python: the newest release with wheels for that Python (the
# package index, December 2026); 1.31.1 is the one the tests run with. Same for -gpu.
ONNXRUNTIME_PINS = (((3, 11), '1.31.1'), ((3, 10), '1.23.2'), ((3, 9), '1.19.2'))
# scikit-learn, for Build cloud reference only: 1.6.1 has wheels for CPython 3.9-3.13 on Windows,
# macOS (Intel and Apple silicon) and Linux and needs numpy >= 1.19.5 and scipy >= 1.6, which
# QGIS's Python brings (OSGeo4W, QGIS.app, Debian's python3-scipy); pip never replaces them.
# Beside it what it declares besides those two; joblib >= 1.6 no longer bundles cloudpickle.
SCIKIT_LEARN_REQUIREMENT = 'scikit-learn==1.6.1'
SCIKIT_LEARN_DEPENDENCIES = ('joblib', 'threadpoolctl', 'cloudpickle')
# pip install into a folder, wheels only, nothing resolved (see pip_install_arguments()).
_TARGET_ARGUMENTS = ('install', '--no-deps', '--only-binary', ':all:', '--target')
# What the PyPI onnxruntime-gpu wheels load to use the GPU: CUDA 12 and cuDNN 9 (by library name).
# (name for ctypes.util.find_library, the file it must find; Windows names carry the version).
CUDA_LIBRARIES = {'linux': (('cudart', 'libcudart.so.12'), ('cublasLt', 'libcublasLt.so.12'),
                            ('cudnn', 'libcudnn.so.9')),
                  'win32': (('cudart64_12', None), ('cublasLt64_12', None), ('cudnn64_9', None))}
_PYTHON_NAME = re.compile(r'^python(\d+(\.\d+)?)?(\.exe)?$', re.IGNORECASE)  # not pythonw
_active_folder = None


@dataclass(frozen=True)
class PackageStatus:
    """What is known about a package without importing it."""

    installed: bool
    distribution: Optional[str] = None  # e.g. 'onnxruntime' or 'onnxruntime-gpu'
    version: Optional[str] = None
    location: Optional[str] = None


def package_folder(profile_dir: str, version_info: tuple = sys.version_info) -> str:
    """Folder of the plugin's own packages inside a QGIS profile.

    One folder per Python version, as compiled wheels only fit the Python they were built for.

    Args:
        profile_dir: The QGIS profile folder (QgsApplication.qgisSettingsDirPath()).
        version_info: Python version the packages are for.

    Returns:
        `<profile>/python/s2cloudcnn-packages/<major>.<minor>`.

    """
    version = f'{version_info[0]}.{version_info[1]}'
    return os.path.join(os.path.normpath(profile_dir), 'python', PACKAGES_DIR_NAME, version)


def activate_package_folder(folder: str) -> str:
    """Make packages installed in `folder` importable; call it before anything imports them.

    The folder goes to the END of sys.path, so QGIS's own packages (numpy above all) always
    win and the folder only adds what QGIS lacks. It need not exist yet: after an install,
    refresh_import_caches() makes its new content visible without a restart.

    Args:
        folder: The plugin's package folder (see package_folder()).

    Returns:
        The folder, as recorded for install_hint().

    """
    global _active_folder
    _active_folder = os.path.abspath(folder)
    if _active_folder not in sys.path:
        sys.path.append(_active_folder)
    return _active_folder


def active_package_folder() -> Optional[str]:
    """Return the folder activate_package_folder() put on sys.path (None outside the plugin)."""
    return _active_folder


def refresh_import_caches(folder: str) -> None:
    """Forget that `folder` was missing or empty, so new packages in it import in this session."""
    sys.path_importer_cache.pop(os.path.abspath(folder), None)
    importlib.invalidate_caches()


def onnxruntime_status() -> 'PackageStatus':
    """Whether onnxruntime can be imported, found without importing it (that takes seconds).

    Returns:
        A PackageStatus; version and distribution come from the installed metadata.

    """
    return _status('onnxruntime', ('onnxruntime-gpu', 'onnxruntime'))


def scikit_learn_status() -> 'PackageStatus':
    """Whether scikit-learn can be imported, found without importing it (see onnxruntime_status)."""
    return _status('sklearn', ('scikit-learn',))


def _status(module, distributions):
    """Find `module` without importing it, and the first of `distributions` installed beside it."""
    spec = importlib.util.find_spec(module)
    if spec is None:
        return PackageStatus(installed=False)
    location = os.path.dirname(spec.origin) if spec.origin else None
    for name in distributions:
        distribution = _distribution_beside(name, location)
        if distribution is not None:
            return PackageStatus(True, name, distribution.version, location)
    return PackageStatus(True, location=location)


def _distribution_beside(name, location):
    """Find the distribution `name` installed in the folder that holds `location`."""
    search = [os.path.dirname(location)] if location else None
    try:
        return importlib.metadata.distribution(name) if search is None else next(
            iter(importlib.metadata.distributions(name=name, path=search)), None)
    except importlib.metadata.PackageNotFoundError:
        return None


def nvidia_gpu_present(which=shutil.which, driver_dir: str = '/proc/driver/nvidia') -> bool:
    """Whether an NVIDIA GPU with its driver is present (nvidia-smi on PATH, or the Linux driver).

    Args:
        which: shutil.which, replaceable to test.
        driver_dir: Folder the Linux NVIDIA driver creates.

    Returns:
        True when onnxruntime-gpu has a chance to use a GPU here.

    """
    return which('nvidia-smi') is not None or os.path.isdir(driver_dir)


def missing_cuda_libraries(platform: Optional[str] = None,
                           find_library=ctypes.util.find_library) -> 'list[str]':
    """Return the CUDA 12 / cuDNN 9 libraries onnxruntime-gpu needs that cannot be found.

    Args:
        platform: sys.platform value; the running one by default.
        find_library: ctypes.util.find_library, replaceable to test.

    Returns:
        The missing library names (empty when all are found).

    """
    wanted = CUDA_LIBRARIES['win32' if (platform or sys.platform).startswith('win') else 'linux']
    missing = []
    for name, expected in wanted:
        found = find_library(name)
        if not found or (expected and os.path.basename(found) != expected):
            missing.append(expected or f'{name}.dll')
    return missing


def onnxruntime_choice(platform: Optional[str] = None, gpu: Optional[bool] = None,
                       machine: Optional[str] = None) -> 'tuple[str, str]':
    """Choose the pip package and say why: onnxruntime-gpu only where it can use the GPU.

    onnxruntime-gpu exists only for Windows and Linux on x86-64, and without the CUDA 12 and
    cuDNN 9 libraries it is a download of some hundred MB that then runs on the CPU anyway.

    Args:
        platform: sys.platform value; the running one by default.
        gpu: Whether the GPU can be used; by default an NVIDIA driver and the CUDA libraries
            are looked for.
        machine: platform.machine() value; the running one by default.

    Returns:
        ('onnxruntime-gpu' or 'onnxruntime', the reason in a sentence).

    """
    platform = platform or sys.platform
    machine = (machine or platform_module.machine()).lower()
    if platform == 'darwin' or machine not in GPU_MACHINES:
        return 'onnxruntime', f'onnxruntime-gpu has no package for {platform} on {machine}.'
    if gpu is not None:
        return ('onnxruntime-gpu', 'the GPU was asked for.') if gpu else (
            'onnxruntime', 'the CPU was asked for.')
    if not nvidia_gpu_present():
        return 'onnxruntime', 'no NVIDIA GPU driver was found.'
    missing = missing_cuda_libraries(platform)
    if missing:
        return 'onnxruntime', ('an NVIDIA driver is present but not the CUDA 12 / cuDNN 9 '
                               f'libraries onnxruntime-gpu needs ({", ".join(missing)}); '
                               'install them and run the installer again to use the GPU.')
    return 'onnxruntime-gpu', 'an NVIDIA driver and the CUDA 12 / cuDNN 9 libraries were found.'


def onnxruntime_package(platform: Optional[str] = None, gpu: Optional[bool] = None,
                        machine: Optional[str] = None) -> str:
    """The pip package onnxruntime_choice() picks (without its reason)."""
    return onnxruntime_choice(platform, gpu, machine)[0]


def onnxruntime_requirement(package: str, version_info: tuple = sys.version_info) -> str:
    """`package==version`: the release pinned for this Python (ONNXRUNTIME_PINS)."""
    for oldest, version in ONNXRUNTIME_PINS:
        if tuple(version_info[:2]) >= oldest:
            return f'{package}=={version}'
    return f'{package}=={ONNXRUNTIME_PINS[-1][1]}'


def is_shim(path: str) -> bool:
    """Whether `path` is a pyenv/asdf/conda launcher script rather than a Python interpreter.

    Such shims pick an interpreter by the current folder and settings; pip run through one may
    install for another Python than QGIS's.
    """
    parts = os.path.normcase(path).replace('\\', '/').split('/')
    if 'shims' in parts:
        return True
    try:
        with open(path, 'rb') as handle:
            return handle.read(2) == b'#!'
    except OSError:
        return False


def python_candidates(executable=None, prefixes=None, platform=None, version_info=None):
    r"""List paths where the real Python interpreter of the running QGIS may be, best first.

    Inside QGIS, sys.executable is often QGIS itself (qgis-bin.exe on Windows, the QGIS binary
    in QGIS.app on macOS), so `sys.executable -m pip` would start a second QGIS. The embedded
    interpreter's files live under its prefix: `<prefix>\\python.exe` on Windows (OSGeo4W and
    the standalone installer: apps\\Python3x), `<prefix>/bin/python3.x` elsewhere (Linux
    distributions, conda, QGIS.app). sys.executable comes first when it is a Python.

    Args:
        executable: sys.executable by default.
        prefixes: Prefixes to look in; sys.exec_prefix, sys.prefix and their base_ by default.
        platform: sys.platform value; the running one by default.
        version_info: Python version wanted; the running one by default.

    Returns:
        A list of candidate paths (they may not exist).

    """
    executable = sys.executable if executable is None else executable
    if prefixes is None:
        prefixes = (sys.exec_prefix, sys.base_exec_prefix, sys.prefix, sys.base_prefix)
    major, minor = (version_info or sys.version_info)[:2]
    candidates = [executable] if executable and _PYTHON_NAME.match(
        ntpath.basename(executable)) and not is_shim(executable) else []
    windows = (platform or sys.platform).startswith('win')
    join = ntpath.join if windows else posixpath.join
    names = ('python.exe', 'python3.exe') if windows else tuple(
        posixpath.join('bin', f'python{suffix}') for suffix in (f'{major}.{minor}', major, ''))
    for prefix in dict.fromkeys(p for p in prefixes if p):
        candidates += [join(prefix, name) for name in names]
    return list(dict.fromkeys(candidates))


def find_python(candidates: 'Optional[list[str]]' = None) -> str:
    """Find the real Python interpreter next to the running one (see python_candidates()).

    Args:
        candidates: Paths to try in order; python_candidates() by default.

    Returns:
        Path of the first candidate that is an executable file.

    Raises:
        DependencyInstallError: When none is.

    """
    candidates = python_candidates() if candidates is None else candidates
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK) and not is_shim(path):
            return path
    raise DependencyInstallError(
        'No Python interpreter found next to QGIS (looked for ' + ', '.join(candidates)
        + '). Install onnxruntime by hand: ' + install_hint(python='python'))


def pip_install_arguments(target: str, package: str, scikit_learn: bool = False) -> 'list[str]':
    """Build the `pip install` arguments that put `package` and its small deps in `target`.

    --no-deps keeps pip from installing numpy into the folder at all: a second numpy beside
    QGIS's (which QGIS and GDAL were built against) is at best 20 MB of waste and at worst the
    one that gets imported. The dependencies pip would resolve are named explicitly instead.

    Args:
        target: Folder to install into.
        package: 'onnxruntime' or 'onnxruntime-gpu'.
        scikit_learn: Also install scikit-learn (SCIKIT_LEARN_REQUIREMENT) and its small deps;
            QGIS's scipy is used as it is.

    Returns:
        The argument list after `python -m pip`.

    """
    extra = [SCIKIT_LEARN_REQUIREMENT, *SCIKIT_LEARN_DEPENDENCIES] if scikit_learn else []
    return [*_TARGET_ARGUMENTS, target, onnxruntime_requirement(package), *PURE_DEPENDENCIES,
            *extra]


def install_hint(platform: Optional[str] = None, folder: Optional[str] = None,
                 python: Optional[str] = None, gpu: Optional[bool] = None) -> str:
    """Tell how to install onnxruntime for QGIS on a platform, as a command to copy.

    Args:
        platform: sys.platform value; the running one by default.
        folder: Where to install; the active package folder by default. Without one (outside
            the plugin) the hint installs into the current Python environment.
        python: Interpreter to show; for the running platform the one found next to QGIS,
            else the usual one of that platform.
        gpu: Whether an NVIDIA GPU is present; detected by default.

    Returns:
        One paragraph: the plugin's menu action, then the shell command and where to run it.

    """
    platform = platform or sys.platform
    folder = folder or _active_folder
    package = onnxruntime_package(platform, gpu)
    arguments = pip_install_arguments(folder, package) if folder else [
        'install', onnxruntime_requirement(package)]
    return (f'Install it from QGIS with {MENU_PATH}, or run '
            f'{_shell_command(platform, python, arguments)} (then restart QGIS).')


def _shell_command(platform, python, arguments):
    """Say where to run `python -m pip <arguments>` on `platform`, and the command, quoted."""
    windows = platform.startswith('win')
    command = [python or _default_python(platform), '-m', 'pip', *arguments]
    quoted = subprocess.list2cmdline(command) if windows else shlex.join(command)
    where = ('in the OSGeo4W Shell (Start menu > QGIS > OSGeo4W Shell)' if windows
             else 'in Terminal' if platform == 'darwin' else 'in a terminal')
    return f'{where}: {quoted}'


def missing_message() -> str:
    """Say that onnxruntime is missing, and how to install it (install_hint())."""
    return f'The Python package onnxruntime is not installed. {install_hint()}'


def scikit_learn_missing_message(platform: Optional[str] = None, folder: Optional[str] = None,
                                 python: Optional[str] = None) -> str:
    """Say that scikit-learn is missing: the installer's option, the pip command, Debian's package.

    Args:
        platform: sys.platform value; the running one by default.
        folder: The plugin's package folder; the active one by default. Without one (outside
            the plugin) the command installs into the current Python environment.
        python: Interpreter to show (see install_hint()).

    """
    platform = platform or sys.platform
    folder = folder or _active_folder
    arguments = [*_TARGET_ARGUMENTS, folder, SCIKIT_LEARN_REQUIREMENT,
                 *SCIKIT_LEARN_DEPENDENCIES] if folder else ['install', SCIKIT_LEARN_REQUIREMENT]
    debian = ' On Debian or Ubuntu: sudo apt install python3-sklearn.' if platform.startswith(
        'linux') else ''
    return ('Building a cloud reference needs the Python package scikit-learn, which is not '
            f"installed. Install it from QGIS with {MENU_PATH} (tick 'Also install "
            f"scikit-learn'), or run {_shell_command(platform, python, arguments)} (then "
            f'restart QGIS).{debian}')


def _default_python(platform):
    """Interpreter shown in install_hint() for `platform`."""
    if platform.startswith('win'):
        return 'python'  # the OSGeo4W Shell puts QGIS's Python first on PATH
    if platform == sys.platform:
        try:
            return find_python()
        except DependencyInstallError:
            pass
    return ('/Applications/QGIS.app/Contents/MacOS/bin/python3' if platform == 'darwin'
            else '/usr/bin/python3')
