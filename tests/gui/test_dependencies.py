"""The plugin's packages: detection, install hints, a real pip install of onnxruntime."""

import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import onnx
import plugin_package  # noqa: F401 (makes s2cloudcnn importable)
import pytest
from conftest import REPO
from onnx import TensorProto, helper
from s2cloudcnn.algorithms.core import dependencies
from s2cloudcnn.algorithms.core.errors import CancelledError, DependencyInstallError
from s2cloudcnn.gui import installer

QGIS_SITE = '/usr/lib/python3/dist-packages'  # where Debian's QGIS gets numpy from
SHIPPED_MODEL = os.path.join(REPO, 'models', 's2cloudcnn-l1c13.onnx')
WINDOWS_FOLDER = (r'C:\Users\An Analyst\AppData\Roaming\QGIS\QGIS3\profiles\default\python'
                  r'\s2cloudcnn-packages\3.9')
MAC_FOLDER = ('/Users/analyst/Library/Application Support/QGIS/QGIS3/profiles/default/python/'
              's2cloudcnn-packages/3.9')


@pytest.fixture(scope='module')
def qgis_python():
    # The interpreter found the way the plugin finds it inside QGIS, where sys.executable is
    # the QGIS binary: Debian's QGIS runs /usr/bin/python3.X, which has no onnxruntime.
    return dependencies.find_python(dependencies.python_candidates('/usr/bin/qgis', ('/usr',)))


@pytest.fixture(scope='module')
def installed(tmp_path_factory, qgis_python):
    """One real install (real pip, PyPI or its cache) into a temporary package folder."""
    target = str(tmp_path_factory.mktemp('profile') / 's2cloudcnn-packages' / '3.11')
    lines, percents = [], []
    started = time.monotonic()
    result = installer.install_onnxruntime(target, on_line=lines.append,
                                           progress=percents.append, python=qgis_python)
    print(f'install took {time.monotonic() - started:.1f} s')
    return result, lines, percents


def test_the_interpreter_next_to_qgis_is_found_when_sys_executable_is_qgis(qgis_python):
    assert qgis_python == f'/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}'
    windows = dependencies.python_candidates(r'C:\OSGeo4W\bin\qgis-bin.exe',
                                             (r'C:\OSGeo4W\apps\Python39',), 'win32', (3, 9))
    assert windows[0] == r'C:\OSGeo4W\apps\Python39\python.exe'
    mac = dependencies.python_candidates('/Applications/QGIS.app/Contents/MacOS/QGIS',
                                         ('/Applications/QGIS.app/Contents/MacOS',), 'darwin',
                                         (3, 9))
    assert mac[0] == '/Applications/QGIS.app/Contents/MacOS/bin/python3.9'
    # A real Python as sys.executable comes first; pythonw.exe (no console output) never does.
    assert dependencies.python_candidates('/opt/conda/bin/python3', ('/x',))[0] == \
        '/opt/conda/bin/python3'
    assert 'pythonw.exe' not in ' '.join(dependencies.python_candidates(
        r'C:\Python39\pythonw.exe', (), 'win32'))


def test_no_interpreter_found_says_how_to_install_by_hand(tmp_path):
    with pytest.raises(DependencyInstallError, match='No Python interpreter found.*pip install'):
        dependencies.find_python([str(tmp_path / 'python3')])


@pytest.mark.network
def test_install_gives_a_working_onnxruntime_and_leaves_qgis_numpy_alone(installed, tmp_path,
                                                                         qgis_python):
    result, lines, percents = installed
    assert result.success, '\n'.join(result.log)
    assert result.package == 'onnxruntime'  # no NVIDIA GPU on this machine
    assert 'CPUExecutionProvider' in result.providers
    assert any('--no-deps' in line and '--target' in line for line in lines)
    assert any(line.startswith('Successfully installed') for line in lines)
    assert percents == sorted(percents) and percents[-1] == 100
    content = os.listdir(result.target)
    assert 'onnxruntime' in content
    assert [name for name in content if name.lower().startswith('numpy')] == []
    # Nothing left beside it: no staging folder, no constraints file.
    assert os.listdir(os.path.dirname(result.target)) == ['3.11']

    model = tmp_path / 'relu.onnx'
    graph = helper.make_graph(
        [helper.make_node('Relu', ['x'], ['y'])], 'relu',
        [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)],
                                ir_version=8), str(model))
    script = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {REPO!r})  # for algorithms.core only: it holds no package
        from algorithms.core import dependencies
        dependencies.activate_package_folder({result.target!r})
        status = dependencies.onnxruntime_status()
        imported_by_status = 'onnxruntime' in sys.modules
        import numpy, onnxruntime
        session = onnxruntime.InferenceSession({str(model)!r},
                                               providers=['CPUExecutionProvider'])
        y = session.run(None, {{'x': numpy.array([[-2, -0.5, 0, 3]], numpy.float32)}})[0]
        shipped = onnxruntime.InferenceSession({SHIPPED_MODEL!r},
                                               providers=['CPUExecutionProvider'])
        patches = numpy.full((2, 13, 16, 16), 0.3, numpy.float32)
        probability = shipped.run(['probability'], {{'patches': patches}})[0]
        print(json.dumps({{'status': status.__dict__, 'imported_by_status': imported_by_status,
                          'onnxruntime': onnxruntime.__file__, 'numpy': numpy.__file__,
                          'y': y.tolist(), 'probability': probability.tolist(),
                          'last_path': sys.path[-1]}}))
    """)
    # A clean interpreter: no venv, no PYTHONPATH, no user site; only the folder added.
    answer = subprocess.run([qgis_python, '-I', '-c', script], capture_output=True, text=True,
                            timeout=120)
    assert answer.returncode == 0, answer.stderr
    report = json.loads(answer.stdout.splitlines()[-1])
    assert report['numpy'].startswith(QGIS_SITE + '/numpy/')
    assert report['onnxruntime'].startswith(result.target + '/onnxruntime/')
    assert report['last_path'] == result.target  # appended: QGIS's own packages win
    assert report['y'] == [[0, 0, 0, 3]]
    (first,), (second,) = report['probability']  # the plugin's own model runs too
    assert 0 <= first <= 1 and first == second
    status = report['status']
    assert status['installed'] and not report['imported_by_status']
    assert (status['distribution'], status['version']) == ('onnxruntime', result.version)
    assert status['location'] == os.path.join(result.target, 'onnxruntime')


@pytest.mark.network
def test_cancel_stops_pip_and_keeps_the_installed_folder(installed, qgis_python):
    target = installed[0].target
    before = sorted(os.listdir(target))
    with pytest.raises(CancelledError, match='left as it was'):
        installer.install_onnxruntime(target, is_canceled=lambda: True, python=qgis_python)
    assert sorted(os.listdir(target)) == before
    assert os.listdir(os.path.dirname(target)) == ['3.11']


@pytest.mark.network
def test_pip_failure_is_a_result_with_the_log_and_what_to_do(tmp_path, qgis_python):
    target = str(tmp_path / '3.11')
    result = installer.install_onnxruntime(target, package='s2cloudcnn-no-such-package',
                                           python=qgis_python)
    assert not result.success
    assert 'pip failed' in result.message and 'pip install' in result.message
    assert any('s2cloudcnn-no-such-package' in line for line in result.log)
    assert os.listdir(tmp_path) == []


def test_a_python_without_pip_or_of_another_version_is_refused(tmp_path):
    with pytest.raises(DependencyInstallError, match='pip is not available for /bin/false'):
        installer.check_pip('/bin/false', print)
    other = tmp_path / 'python3.7'
    other.write_text('#!/bin/sh\necho "pip 20.0 from /x/pip (python 3.7)"\n')
    other.chmod(0o755)
    with pytest.raises(DependencyInstallError, match='Python 3.7 but QGIS runs Python 3'):
        installer.check_pip(str(other), print)


def test_run_streaming_passes_lines_and_cancels_a_silent_command():
    lines = []
    code = installer.run_streaming(
        [sys.executable, '-c', 'print("one"); print(); print("two"); raise SystemExit(3)'],
        lines.append)
    assert (code, lines) == (3, ['one', 'two'])
    # Cancelled once the silent child has said its pid: the child must be gone afterwards.
    lines.clear()
    with pytest.raises(CancelledError):
        installer.run_streaming(
            [sys.executable, '-c',
             'import os, time; print(os.getpid(), flush=True); time.sleep(60)'],
            lines.append, is_canceled=lambda: bool(lines))
    with pytest.raises(ProcessLookupError):
        os.kill(int(lines[0]), 0)


def test_numpy_is_pinned_to_qgis_numpy():
    assert installer.numpy_constraint() == f'numpy=={np.__version__}\n'


def test_gpu_detection_and_package_choice(tmp_path):
    assert dependencies.nvidia_gpu_present(lambda name: '/usr/bin/nvidia-smi', 'nowhere')
    assert dependencies.nvidia_gpu_present(lambda name: None, str(tmp_path))
    assert not dependencies.nvidia_gpu_present(lambda name: None, str(tmp_path / 'nowhere'))
    package = dependencies.onnxruntime_package
    assert package('linux', gpu=True, machine='x86_64') == 'onnxruntime-gpu'
    assert package('win32', gpu=True, machine='AMD64') == 'onnxruntime-gpu'
    assert package('linux', gpu=False, machine='x86_64') == 'onnxruntime'
    assert package('linux', gpu=True, machine='aarch64') == 'onnxruntime'  # no gpu wheel
    assert package('darwin', gpu=True, machine='arm64') == 'onnxruntime'


def test_install_hint_windows():
    hint = dependencies.install_hint('win32', WINDOWS_FOLDER, gpu=True)
    assert dependencies.MENU_PATH in hint
    assert 'OSGeo4W Shell' in hint
    assert (f'python -m pip install --no-deps --only-binary :all: --target "{WINDOWS_FOLDER}" '
            f'{dependencies.onnxruntime_requirement("onnxruntime-gpu")} flatbuffers packaging '
            'protobuf') in hint
    assert 'numpy' not in hint


def test_install_hint_macos():
    hint = dependencies.install_hint('darwin', MAC_FOLDER, gpu=True)
    assert dependencies.MENU_PATH in hint and 'in Terminal' in hint
    assert (f"/Applications/QGIS.app/Contents/MacOS/bin/python3 -m pip install --no-deps "
            f"--only-binary :all: --target '{MAC_FOLDER}' "
            f"{dependencies.onnxruntime_requirement('onnxruntime')} flatbuffers") in hint


def test_install_hint_linux_uses_the_interpreter_found_here(monkeypatch):
    folder = ('/home/analyst/.local/share/QGIS/QGIS3/profiles/default/python/'
              's2cloudcnn-packages/3.11')
    monkeypatch.setattr(dependencies, '_active_folder', folder)
    hint = dependencies.install_hint('linux', gpu=False)
    assert dependencies.MENU_PATH in hint and 'in a terminal' in hint
    command = [dependencies.find_python(), '-m', 'pip',
               *dependencies.pip_install_arguments(folder, 'onnxruntime')]
    assert ' '.join(command) in hint  # the installer's own command, nothing to quote here
    monkeypatch.setattr(dependencies, '_active_folder', None)
    pinned = dependencies.onnxruntime_requirement('onnxruntime')
    assert f'pip install {pinned} (' in dependencies.install_hint('linux', python='python3',
                                                                  gpu=False)


def test_package_folder_is_per_python_version_and_appended_once(monkeypatch, tmp_path):
    folder = dependencies.package_folder('/p/profiles/default/', (3, 9, 18))
    assert folder == '/p/profiles/default/python/s2cloudcnn-packages/3.9'
    monkeypatch.setattr(sys, 'path', list(sys.path))
    monkeypatch.setattr(dependencies, '_active_folder', None)
    first = sys.path[0]
    assert dependencies.activate_package_folder(str(tmp_path)) == str(tmp_path)
    dependencies.activate_package_folder(str(tmp_path))
    assert sys.path[0] == first and sys.path.count(str(tmp_path)) == 1
    assert sys.path[-1] == dependencies.active_package_folder() == str(tmp_path)


def test_status_without_import_in_this_environment():
    script = ('import json, sys; from algorithms.core import dependencies as d; '
              'found = [d.onnxruntime_status().__dict__, d.scikit_learn_status().__dict__]; '
              'print(json.dumps([found, sorted({"onnxruntime", "sklearn"} & set(sys.modules))]))')
    answer = subprocess.run([sys.executable, '-c', script], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    (onnxruntime, scikit_learn), imported = json.loads(answer.stdout)
    assert imported == [], answer.stderr
    assert (onnxruntime['installed'], onnxruntime['distribution']) == (True, 'onnxruntime-gpu')
    import sklearn
    assert scikit_learn == {'installed': True, 'distribution': 'scikit-learn',
                            'version': sklearn.__version__,
                            'location': os.path.dirname(sklearn.__file__)}


def test_scikit_learn_is_an_optional_pinned_extra_without_numpy_or_scipy():
    plain = dependencies.pip_install_arguments('/target', 'onnxruntime')
    both = dependencies.pip_install_arguments('/target', 'onnxruntime', scikit_learn=True)
    assert both[:len(plain)] == plain  # the same install, scikit-learn added at the end
    assert both[len(plain):] == ['scikit-learn==1.6.1', 'joblib', 'threadpoolctl', 'cloudpickle']
    assert not any(name.startswith(('scikit', 'joblib')) for name in plain)
    assert not any(name.startswith(('numpy', 'scipy')) for name in both)
    assert both[:5] == ['install', '--no-deps', '--only-binary', ':all:', '--target']


def test_the_import_check_runs_the_random_forest_import_only_when_asked(tmp_path):
    # This venv's Python has onnxruntime and Debian's scikit-learn; the folder is empty.
    script = [sys.executable, '-c', installer.VERIFY_SCRIPT, str(tmp_path)]
    plain, both = (json.loads(subprocess.run(command, capture_output=True, text=True,
                                             timeout=120, check=True).stdout.splitlines()[-1])
                   for command in (script, script + ['scikit-learn']))
    assert 'scikit_learn' not in plain
    import sklearn
    assert (both['scikit_learn'], both['sklearn']) == (sklearn.__version__, sklearn.__file__)


def test_onnxruntime_is_pinned_per_python():
    assert dependencies.onnxruntime_requirement('onnxruntime', (3, 11, 2)) == 'onnxruntime==1.31.1'
    assert dependencies.onnxruntime_requirement('onnxruntime-gpu', (3, 13)) == \
        'onnxruntime-gpu==1.31.1'
    assert dependencies.onnxruntime_requirement('onnxruntime', (3, 9, 5)) == 'onnxruntime==1.19.2'
    arguments = dependencies.pip_install_arguments('/target', 'onnxruntime')
    assert dependencies.onnxruntime_requirement('onnxruntime') in arguments
    assert 'onnxruntime' not in arguments  # never unpinned


def test_the_gpu_package_only_where_cuda_and_cudnn_are_found():
    libraries = {'cudart': 'libcudart.so.12', 'cublasLt': 'libcublasLt.so.12',
                 'cudnn': 'libcudnn.so.8'}
    missing = dependencies.missing_cuda_libraries('linux', libraries.get)
    assert missing == ['libcudnn.so.9']  # cuDNN 8 is not the one onnxruntime-gpu loads
    libraries['cudnn'] = 'libcudnn.so.9'
    assert dependencies.missing_cuda_libraries('linux', libraries.get) == []
    assert dependencies.missing_cuda_libraries('win32', lambda name: None) == [
        'cudart64_12.dll', 'cublasLt64_12.dll', 'cudnn64_9.dll']
    # This machine: the choice and its reason agree with what is really installed here.
    package, reason = dependencies.onnxruntime_choice()
    if not dependencies.nvidia_gpu_present():
        assert (package, reason) == ('onnxruntime', 'no NVIDIA GPU driver was found.')
    elif dependencies.missing_cuda_libraries():
        assert package == 'onnxruntime' and 'CUDA 12 / cuDNN 9' in reason


def test_pyenv_shims_are_not_taken_for_qgis_python(tmp_path):
    shim = tmp_path / 'shims' / 'python3'
    shim.parent.mkdir()
    shim.write_text('#!/usr/bin/env bash\nexec pyenv exec python3 "$@"\n')
    shim.chmod(0o755)
    script = tmp_path / 'bin' / 'python3'
    script.parent.mkdir()
    script.write_text('#!/bin/sh\nexec /usr/bin/python3 "$@"\n')
    script.chmod(0o755)
    assert dependencies.is_shim(str(shim)) and dependencies.is_shim(str(script))
    assert not dependencies.is_shim(os.path.realpath(sys.executable))
    candidates = dependencies.python_candidates(str(shim), prefixes=[sys.base_prefix])
    assert str(shim) not in candidates
    found = dependencies.find_python([str(script), os.path.realpath(sys.executable)])
    assert found == os.path.realpath(sys.executable)
