"""Plugin code avoids the spellings that QGIS 4 (Qt 6, scoped enums) no longer accepts."""

import os
import re

from conftest import REPO

from algorithms.support import qgis_compat

PLUGIN_CODE = ['__init__.py', 'plugin.py', 'algorithms', 'gui']
# Class-level enum names removed with Qt 6 scoping, and Qt5-only spellings.
FORBIDDEN = re.compile(
    r'QgsProcessingParameterNumber\.(Double|Integer)\b|\.FlagAdvanced\b|QgsProcessing\.Type\w+'
    r'|QgsProcessingParameterFile\.(File|Folder)\b|QgsFeatureSink\.FastInsert\b|\.exec_\('
    r'|\bPyQt5\b|QgsProcessingAlgorithm\.Flag\w+|QgsMapLayer\.\w+Layer\b')


def _python_files():
    for entry in PLUGIN_CODE:
        path = os.path.join(REPO, entry)
        if path.endswith('.py'):
            yield path
        for folder, _, names in os.walk(path):
            yield from (os.path.join(folder, n) for n in names if n.endswith('.py'))


def test_no_spelling_removed_in_qgis4():
    offenders = []
    for path in _python_files():
        if path.endswith('qgis_compat.py'):
            continue
        with open(path, encoding='utf-8') as handle:
            for number, line in enumerate(handle, 1):
                if FORBIDDEN.search(line):
                    offenders.append(f'{os.path.relpath(path, REPO)}:{number}: {line.strip()}')
    assert offenders == []


def test_compat_names_resolve_on_this_qgis():
    from qgis.core import QgsProcessingParameterDefinition, QgsProcessingParameterNumber

    assert int(qgis_compat.FLAG_ADVANCED) == int(QgsProcessingParameterDefinition.FlagAdvanced)
    assert int(qgis_compat.NUMBER_DOUBLE) == int(QgsProcessingParameterNumber.Double)
