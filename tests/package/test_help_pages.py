"""Every algorithm has a toolbox tooltip and a Help button that opens a page shipped inside."""

import os

from conftest import REPO
from qgis.PyQt.QtCore import QUrl

from algorithms.support.help_pages import build_page
from algorithms.support.qgis_compat import FLAG_HIDDEN


def test_every_algorithm_has_a_short_description(provider):
    assert [a.id() for a in provider.algorithms() if not a.shortDescription().strip()] == []


def test_help_url_opens_a_page_shipped_with_the_plugin(provider):
    for algorithm in provider.algorithms():
        url = QUrl(algorithm.helpUrl())
        assert url.isLocalFile(), algorithm.id()
        path = url.toLocalFile()
        assert os.path.commonpath([path, REPO]) == REPO
        with open(path, encoding='utf-8') as handle:
            page = handle.read()
        assert page == build_page(algorithm), f'run tests/tools/make_help_pages.py ({path})'
        for definition in algorithm.parameterDefinitions():
            assert definition.flags() & FLAG_HIDDEN or f'<code>{definition.name()}</code>' in page


def test_toolbox_names_fit_the_default_dock_width(provider):
    # The toolbox dock opens about 300 px wide; at two indent levels ~34 characters show.
    assert [a.displayName() for a in provider.algorithms() if len(a.displayName()) > 34] == []
