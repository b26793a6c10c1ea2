"""The core must import and run without QGIS (training and benchmarks use it so), and its
domains import only downward (README.md, Architecture)."""

import ast
import os
import subprocess
import sys

import pytest
from conftest import REPO

CORE = os.path.join(REPO, 'algorithms', 'core')
# What each part of the core may import besides itself; the bottom layer is the core's top-level
# modules (errors, grid, raster_io, html, plots, dependencies).
ALLOWED = {
    'bottom': {'bottom'},
    'sentinel2': {'bottom'},
    'shadows': {'bottom', 'sentinel2'},
    'detection': {'bottom', 'sentinel2', 'shadows'},
    'evaluation': {'bottom'},
    'inspection': {'bottom', 'sentinel2', 'detection'},
    'reference': {'bottom', 'sentinel2', 'detection'},
    'batch': {'bottom', 'sentinel2', 'detection'},
}


def core_modules():
    """Yield (dotted name, path) of every module of the core."""
    for folder, _, names in os.walk(CORE):
        for name in sorted(names):
            if name.endswith('.py'):
                path = os.path.join(folder, name)
                relative = os.path.relpath(path, REPO)[:-3].replace(os.sep, '.')
                yield relative.removesuffix('.__init__'), path


def part_of(dotted):
    """The part of the core a dotted module (algorithms.core....) belongs to."""
    parts = dotted.split('.')[2:]
    return parts[0] if len(parts) > 1 and parts[0] in ALLOWED else 'bottom'


def imported_modules(dotted, path):
    """Absolute dotted names of what a core module imports from inside the plugin."""
    package = dotted if path.endswith('__init__.py') else dotted.rpartition('.')[0]
    for node in ast.walk(ast.parse(open(path, encoding='utf-8').read())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split('.')[:len(package.split('.')) - node.level + 1]
            target = '.'.join(base + ([node.module] if node.module else []))
            names = [target] if node.module else [f'{target}.{a.name}' for a in node.names]
            yield from names
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            yield from (name for name in names if name.split('.')[0] in ('algorithms', 'gui'))


def test_core_modules_import_with_qgis_blocked():
    modules = sorted(name for name, _ in core_modules())
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


@pytest.mark.parametrize('dotted, path', list(core_modules()))
def test_core_imports_only_downward(dotted, path):
    part = part_of(dotted)
    for target in imported_modules(dotted, path):
        assert target.startswith('algorithms.core'), f'{dotted} imports {target} (not core)'
        other = part_of(target)
        assert other == part or other in ALLOWED[part], \
            f'{dotted} ({part}) imports {target} ({other}); allowed: {sorted(ALLOWED[part])}'


def test_the_rule_sees_a_sideways_import():
    # The checker itself: a relative import from evaluation into detection is found and refused.
    path = os.path.join(CORE, 'evaluation', 'evaluate.py')
    found = set(imported_modules('algorithms.core.evaluation.evaluate', path))
    assert 'algorithms.core.errors' in found
    assert part_of('algorithms.core.detection.detect') not in ALLOWED['evaluation']
