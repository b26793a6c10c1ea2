"""The checkout importable as the package `s2cloudcnn`, the way QGIS imports the plugin.

gui/ imports the core with `..algorithms` (it is part of the plugin package), so its QGIS-free
pieces are tested under that name. The package's __init__.py (classFactory) is not run.
"""

import importlib.machinery
import importlib.util
import sys

from conftest import REPO

NAME = 's2cloudcnn'

if NAME not in sys.modules:
    _module = importlib.util.module_from_spec(
        importlib.machinery.ModuleSpec(NAME, None, is_package=True))
    _module.__path__ = [REPO]
    sys.modules[NAME] = _module
