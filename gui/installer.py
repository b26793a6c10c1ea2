"""Install onnxruntime (and scikit-learn) into the plugin's package folder; QGIS's numpy kept."""

import importlib.metadata
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Optional

from ..algorithms.core import dependencies
from ..algorithms.core.errors import CancelledError, DependencyInstallError

# Run by the interpreter that will run the plugin, with only the new folder added, as QGIS will;
# a second argument 'scikit-learn' checks the random forest of Build cloud reference too.
VERIFY_SCRIPT = (
    'import json, sys\n'
    'sys.path.append(sys.argv[1])\n'
    'import numpy, onnxruntime\n'
    'from google import protobuf\n'
    'info = {"version": onnxruntime.__version__, "onnxruntime": onnxruntime.__file__,\n'
    '        "providers": onnxruntime.get_available_providers(),\n'
    '        "numpy": numpy.__file__, "protobuf": protobuf.__version__}\n'
    'if sys.argv[2:] == ["scikit-learn"]:\n'
    '    import sklearn\n'
    '    from sklearn.ensemble import RandomForestClassifier\n'
    '    info.update(scikit_learn=sklearn.__version__, sklearn=sklearn.__file__)\n'
    'print(json.dumps(info))\n')
NO_WINDOW = getattr(subprocess, 'CREATE_NO_WINDOW', 0)  # no console flashing up on Windows


@dataclass
class InstallResult:
    """What an install did: success, a message for the analyst, and pip's whole output."""

    success: bool
    message: str
    package: str
    target: str
    log: list[str] = field(default_factory=list)
    version: Optional[str] = None
    providers: tuple[str, ...] = ()
    scikit_learn: Optional[str] = None  # its version, when it was installed too


def install_onnxruntime(target, on_line=None, is_canceled=None, progress=None,
                        package=None, python=None, environment=None, scikit_learn=False):
    """Install onnxruntime (or onnxruntime-gpu), and scikit-learn if asked, into `target`.

    pip installs into a fresh sibling folder; only when onnxruntime (and scikit-learn) import
    from it with QGIS's numpy does that folder replace `target`. A failed or cancelled install
    thus leaves a working folder as it was; a successful one without scikit-learn removes a
    scikit-learn installed there before.

    Args:
        target: The plugin's package folder (dependencies.package_folder()).
        on_line: Called with each line of output (pip's and ours), from this thread.
        is_canceled: Polled about ten times a second; when it returns True pip is stopped.
        progress: Called with a percentage.
        package: 'onnxruntime' or 'onnxruntime-gpu'; dependencies.onnxruntime_package().
        python: Interpreter to run pip with; dependencies.find_python() by default.
        environment: Variables added to pip's environment, e.g. HTTPS_PROXY.
        scikit_learn: Also install scikit-learn (dependencies.SCIKIT_LEARN_REQUIREMENT).

    Returns:
        An InstallResult; success is False when pip or the import check failed.

    Raises:
        DependencyInstallError: When pip cannot be run, or the folder cannot be written.
        CancelledError: When is_canceled() returned True; `target` is unchanged.

    """
    package = package or dependencies.onnxruntime_package()
    python = python or dependencies.find_python()
    target = os.path.abspath(target)
    log = []

    def emit(line):
        log.append(line)
        if on_line is not None:
            on_line(line)

    def result(success, message, info=None):
        info = info or {}
        return InstallResult(success, message, package, target, log, info.get('version'),
                             tuple(info.get('providers', ())), info.get('scikit_learn'))

    check_pip(python, emit)
    staging = f'{target}.partial-{os.getpid()}'
    try:
        code = _run_pip(python, staging, (package, scikit_learn), emit, is_canceled, progress,
                        environment)
        if code != 0:
            return result(False, f'pip failed (exit code {code}); the log says why. Check the '
                          'internet connection (or proxy), or install by hand. '
                          + dependencies.install_hint(folder=target, python=python))
        info, problem = verify_import(python, staging, emit, scikit_learn)
        if problem:
            return result(False, problem, info)
        _replace_folder(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        _remove(staging + '.constraints.txt')
    if progress is not None:
        progress(100)
    also = f' and scikit-learn {info["scikit_learn"]}' if scikit_learn else ''
    return result(True, f'{package} {info["version"]}{also} installed into {target} (execution '
                  f'providers: {", ".join(info["providers"])}).', info)


def check_pip(python, emit):
    """Check that `python` runs pip and is the Python version QGIS runs.

    Raises:
        DependencyInstallError: When it does not, saying what to do.

    """
    try:
        answer = subprocess.run([python, '-m', 'pip', '--version'], capture_output=True,
                                text=True, env=child_environment(), timeout=120,
                                creationflags=NO_WINDOW)
    except (OSError, subprocess.SubprocessError) as error:
        raise DependencyInstallError(f'Cannot run {python}: {error}. Install onnxruntime by '
                                     'hand. ' + dependencies.install_hint()) from error
    output = (answer.stdout + answer.stderr).strip()
    if answer.returncode != 0:
        raise DependencyInstallError(
            f'pip is not available for {python} ({output.splitlines()[-1:]}). Install pip for '
            'it (Debian/Ubuntu: sudo apt install python3-pip; elsewhere: '
            f'{python} -m ensurepip --user) and try again.')
    emit(output)
    found = re.search(r'\(python (\d+\.\d+)\)', output)
    running = f'{sys.version_info[0]}.{sys.version_info[1]}'
    if found and found.group(1) != running:
        raise DependencyInstallError(
            f'{python} is Python {found.group(1)} but QGIS runs Python {running}; packages for '
            'one do not load in the other. Install by hand. ' + dependencies.install_hint())


def _run_pip(python, staging, packages, emit, is_canceled, progress, environment):
    """Run pip into `staging`, with numpy pinned to QGIS's; return pip's exit code.

    `packages` = (onnxruntime package, whether scikit-learn too).
    """
    shutil.rmtree(staging, ignore_errors=True)
    try:
        os.makedirs(os.path.dirname(staging), exist_ok=True)
        constraints = staging + '.constraints.txt'
        with open(constraints, 'w', encoding='utf-8') as stream:
            stream.write(numpy_constraint())
    except OSError as error:
        raise DependencyInstallError(f'Cannot write {os.path.dirname(staging)}: {error}. '
                                     'Check the permissions of the QGIS profile folder.') from error
    package, scikit_learn = packages
    arguments = dependencies.pip_install_arguments(staging, package, scikit_learn)
    command = [python, '-m', 'pip', *arguments, '--constraint', constraints,
               '--progress-bar', 'off', '--no-input', '--disable-pip-version-check']
    emit('$ ' + subprocess.list2cmdline(command))
    expected = len(arguments) - arguments.index(staging) - 1  # the packages named
    fetched = 0

    def on_line(line):
        nonlocal fetched
        emit(line)
        if progress is not None and line.startswith(('Collecting ', 'Processing ')):
            fetched += 1
            progress(min(80, 10 + 70 * fetched // expected))
        elif progress is not None and line.startswith('Installing collected packages'):
            progress(85)

    return run_streaming(command, on_line, is_canceled, environment=environment)


def numpy_constraint():
    """Return a pip constraints line pinning numpy to the one QGIS runs with.

    --no-deps already keeps pip from resolving numpy; the pin makes sure that no later change
    of the requirement list can swap QGIS's numpy (which QGIS and GDAL were built against).
    """
    try:
        return f'numpy=={importlib.metadata.version("numpy")}\n'
    except importlib.metadata.PackageNotFoundError:
        return ''


def run_streaming(command, on_line, is_canceled=None, poll_s=0.1, environment=None):
    """Run `command`, passing each non-empty output line to `on_line` as it comes.

    Args:
        command: Argument list.
        on_line: Called with each line (stdout and stderr merged), without its newline.
        is_canceled: Polled every `poll_s` seconds, also while the command prints nothing.
        poll_s: Polling interval in seconds.
        environment: Variables added to the command's environment.

    Returns:
        The command's exit code.

    Raises:
        CancelledError: When is_canceled() returned True; the command was stopped.

    """
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, text=True, encoding='utf-8',
                               errors='replace', env=child_environment(environment),
                               creationflags=NO_WINDOW)
    lines = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    while True:
        if is_canceled is not None and is_canceled():
            _stop(process)
            raise CancelledError('Installation cancelled; the package folder was left as it was.')
        try:
            line = lines.get(timeout=poll_s)
        except queue.Empty:
            continue
        if line is None:
            return process.wait()
        if line.strip():
            on_line(line.rstrip())


def _pump(stream, lines):
    """Move lines from `stream` to the queue `lines` until the end, marked by None."""
    with stream:
        for line in stream:
            lines.put(line)
    lines.put(None)


def _stop(process):
    """Stop `process`, politely first."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def child_environment(extra=None):
    """Environment for pip and the import check: QGIS's own, with unbuffered UTF-8 output."""
    return {**os.environ, **(extra or {}), 'PYTHONIOENCODING': 'utf-8', 'PYTHONUNBUFFERED': '1'}


def verify_import(python, folder, emit, scikit_learn=False):
    """Import onnxruntime (and scikit-learn) from `folder` in a fresh `python`, as the plugin will.

    Returns:
        (info, problem): what the import reported, and a message when it is not usable.

    """
    command = [python, '-c', VERIFY_SCRIPT, folder, *(['scikit-learn'] if scikit_learn else [])]
    answer = subprocess.run(command, capture_output=True, text=True, env=child_environment(),
                            timeout=300, creationflags=NO_WINDOW)
    if answer.returncode != 0:
        emit(answer.stderr.strip())
        last = (answer.stderr.strip().splitlines() or ['no output'])[-1]
        if scikit_learn:
            return {}, (f'onnxruntime and scikit-learn were installed but do not import: {last}. '
                        'Install again without scikit-learn to get onnxruntime alone '
                        "(scikit-learn also needs QGIS's scipy).")
        return {}, f'onnxruntime was installed but does not import: {last}.'
    info = json.loads(answer.stdout.strip().splitlines()[-1])
    emit(f'import check: onnxruntime {info["version"]} from {info["onnxruntime"]}, '
         f'numpy from {info["numpy"]}, protobuf {info["protobuf"]}, '
         f'providers {info["providers"]}')
    if scikit_learn:
        emit(f'import check: scikit-learn {info["scikit_learn"]} from {info["sklearn"]}')
    if not inside(info['onnxruntime'], folder):
        return info, (f'Another onnxruntime ({info["onnxruntime"]}) comes first on the Python '
                      'path and hides the one just installed; uninstall it or use that one.')
    if inside(info['numpy'], folder):
        return info, 'pip put a numpy into the package folder; it must use QGIS\'s numpy.'
    return info, None


def inside(path, folder):
    """Whether `path` lies inside `folder`."""
    folder = os.path.normcase(os.path.realpath(folder))
    return os.path.normcase(os.path.realpath(path)).startswith(folder + os.sep)


def _replace_folder(staging, target):
    """Put `staging` in place of `target`, keeping the old folder if that fails."""
    old = f'{target}.old-{os.getpid()}'
    moved = False
    try:
        if os.path.exists(target):
            os.replace(target, old)
            moved = True
        os.replace(staging, target)
    except OSError as error:
        if moved and not os.path.exists(target):
            os.replace(old, target)
        raise DependencyInstallError(
            f'Cannot replace {target} ({error}); this QGIS probably has files of it in use. '
            'Restart QGIS and install again before running an algorithm.') from error
    shutil.rmtree(old, ignore_errors=True)


def _remove(path):
    """Delete a file if it exists."""
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
