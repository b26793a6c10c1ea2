"""Translation support: a Qt Linguist template of every translated string, tr() usable by it."""

import ast

from conftest import REPO
from tools.make_translation_template import (
    TEMPLATE,
    python_files,
    source_strings,
    tr_calls,
    ts_document,
)


def test_no_f_string_inside_tr():
    # An f-string is formatted before tr() sees it, so no translation could ever match it.
    offenders = []
    for path in python_files():
        with open(path, encoding='utf-8') as handle:
            tree = ast.parse(handle.read())
        offenders += [f'{path[len(REPO) + 1:]}:{call.lineno}' for call in tr_calls(tree)
                      if isinstance(call.args[0], ast.JoinedStr)]
    assert offenders == []


def test_translation_template_is_up_to_date():
    strings = source_strings()
    assert 'Detect clouds (CNN)' in strings and '{}: classes' in strings
    with open(TEMPLATE, encoding='utf-8') as handle:
        assert handle.read() == ts_document(strings), 'run tests/tools/make_translation_template.py'


def test_plugin_loads_a_translation_of_the_user_locale_when_shipped(tmp_path, monkeypatch):
    import plugin_package  # noqa: F401 (the checkout as the package s2cloudcnn)
    from s2cloudcnn import plugin

    assert plugin.translation_file('xx_XX') is None
    monkeypatch.setattr(plugin, 'I18N_DIR', str(tmp_path))
    (tmp_path / 's2cloudcnn_fr.qm').write_bytes(b'')
    assert plugin.translation_file('fr_FR') == str(tmp_path / 's2cloudcnn_fr.qm')
