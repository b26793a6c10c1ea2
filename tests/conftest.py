"""Test set-up: one headless QGIS with Processing and our provider for the whole session."""

import os
import shlex
import subprocess
import sys

os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')
# QGIS saves statistics (.aux.xml) beside every raster it loads as a layer, test inputs included;
# test_inputs_untouched.py turns this back on to show that our own code writes nothing there.
os.environ['GDAL_PAM_ENABLED'] = 'NO'
sys.path.append('/usr/share/qgis/python/plugins')  # QGIS's own `processing` package

import pytest  # noqa: E402
from osgeo import gdal  # noqa: E402

# The test process itself calls core helpers directly; the plugin scopes GDAL exceptions.
gdal.UseExceptions()

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(REPO, 'tests', 'data')
# The Makefile's QGIS_HOME: the test profile (config/) and the plugin link (plugins/s2cloudcnn).
QGIS_HOME = os.path.join(REPO, 'build', 'qgis')


def data_path(*parts):
    """Path of a bundled test file (tests/data, see its README)."""
    return os.path.join(DATA, *parts)


@pytest.fixture(scope='session')
def qgis_app():
    """A QgsApplication without GUI, initialised once (no exitQgis: it can crash at teardown)."""
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    return app


@pytest.fixture(scope='session')
def provider(qgis_app):
    """Processing initialised with QGIS's providers and ours."""
    from processing.core.Processing import Processing
    from qgis.core import QgsApplication

    from algorithms.provider import S2CloudCnnProvider

    Processing.initialize()
    provider = S2CloudCnnProvider()
    assert QgsApplication.processingRegistry().addProvider(provider)
    yield provider
    QgsApplication.processingRegistry().removeProvider(provider)


@pytest.fixture
def run_algorithm(provider):
    """Run one of our algorithms through processing.run; returns its result dict."""
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback

    def run(algorithm_id, parameters, feedback=None, context=None):
        return processing.run(algorithm_id, parameters,
                              feedback=feedback or QgsProcessingFeedback(),
                              context=context or QgsProcessingContext())
    return run


def qgis_process(*args, check=True, stdin=None, timeout=600):
    """Run `make qgis_process ARGS=...`, the same way the README tells users to."""
    command = ['make', '--no-print-directory', '-s', 'qgis_process',
               'ARGS=' + ' '.join(shlex.quote(str(a)) for a in args)]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                            input=stdin, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f'qgis_process {args} failed ({result.returncode}):\n'
                             f'{result.stdout}\n{result.stderr}')
    return result
