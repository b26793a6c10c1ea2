"""The plugin loads in QGIS, registers its provider, and qgis_process sees it."""

import configparser
import json
import os
import subprocess
import sys
import textwrap

from conftest import QGIS_HOME, REPO, qgis_process

from algorithms.provider import ALGORITHMS

PLUGIN_PARENT = os.path.join(QGIS_HOME, 'plugins')


def test_metadata_is_complete_for_the_plugin_repository():
    parser = configparser.ConfigParser()
    parser.read(os.path.join(REPO, 'metadata.txt'))
    general = parser['general']
    required = ('name qgisMinimumVersion qgisMaximumVersion description about version author '
                'email hasProcessingProvider category tags icon experimental '
                'changelog license').split()
    assert [key for key in required if not general.get(key)] == []
    assert general['qgisMinimumVersion'] == '3.22'
    assert general['hasProcessingProvider'] == 'yes'
    assert 'onnxruntime' in general['about']
    assert os.path.isfile(os.path.join(REPO, general['icon']))


def test_classfactory_registers_and_unload_removes_the_provider():
    # Its own process: the session provider of the other tests has the same id.
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {PLUGIN_PARENT!r})
        from qgis.core import QgsApplication
        app = QgsApplication([], False); app.initQgis()
        from qgis.testing.mocked import get_iface  # QGIS's own interface stand-in
        import s2cloudcnn
        plugin = s2cloudcnn.classFactory(get_iface())
        registry = QgsApplication.processingRegistry()
        plugin.initGui()
        provider = registry.providerById('s2cloudcnn')
        print('registered', provider is not None, provider.name())
        print('algorithms', len(provider.algorithms()))
        plugin.unload()
        print('after unload', registry.providerById('s2cloudcnn') is None)
    """)
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            env={**os.environ, 'QT_QPA_PLATFORM': 'offscreen'}, timeout=120)
    assert 'registered True S2 Cloud CNN' in result.stdout, result.stderr
    assert f'algorithms {len(ALGORITHMS)}' in result.stdout
    assert 'after unload True' in result.stdout


def test_provider_in_session_registry(provider):
    from qgis.core import QgsApplication

    registered = QgsApplication.processingRegistry().providerById('s2cloudcnn')
    assert registered is provider
    ids = sorted(a.id() for a in provider.algorithms())
    assert ids == sorted(f's2cloudcnn:{cls().name()}' for cls in ALGORITHMS)
    for algorithm in provider.algorithms():
        assert algorithm.name() == algorithm.name().lower()
        assert algorithm.shortHelpString()
        assert algorithm.createInstance() is not algorithm


def test_qgis_process_lists_the_provider():
    listing = json.loads(qgis_process('list', '--json').stdout)
    provider = listing['providers']['s2cloudcnn']
    assert provider['name'] == 'S2 Cloud CNN'
    assert sorted(provider['algorithms']) == sorted(
        f's2cloudcnn:{cls().name()}' for cls in ALGORITHMS)
    plugins = qgis_process('plugins').stdout
    assert '* s2cloudcnn' in plugins
