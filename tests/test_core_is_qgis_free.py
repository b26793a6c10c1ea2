"""The core must import and run without QGIS (training and benchmarks use it so)."""

import os
import subprocess
import sys

from conftest import REPO


def test_core_modules_import_with_qgis_blocked():
    core = os.path.join(REPO, 'algorithms', 'core')
    modules = sorted(f'algorithms.core.{name[:-3]}' for name in os.listdir(core)
                     if name.endswith('.py') and name != '__init__.py')
    script = ('import sys, importlib\n'
              'class Block:\n'
              '    def find_spec(self, name, path=None, target=None):\n'
              '        if name.split(".")[0] in ("qgis", "PyQt5", "PyQt6"):\n'
              '            raise ImportError("core must not import " + name)\n'
              'sys.meta_path.insert(0, Block())\n'
              f'for m in {modules!r}: importlib.import_module(m)\n'
              'print("imported", len(' + repr(modules) + '))\n')
    result = subprocess.run([sys.executable, '-c', script], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f'imported {len(modules)}' in result.stdout
