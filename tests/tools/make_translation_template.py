"""Write i18n/s2cloudcnn.ts, the Qt Linguist template of every string the plugin translates.

Strings are those passed literally to tr() (context 'S2CloudCnn', as algorithms/support/base.tr
uses) and the HELP, DISPLAY_NAME and SHORT_DESCRIPTION texts the algorithms translate. A
translator copies the file to i18n/s2cloudcnn_<language>.ts, translates it in Qt Linguist and
compiles it with lrelease to the .qm the plugin loads. tests/package/test_i18n.py checks that
the template is up to date and that no tr() call gets an f-string (it could never match).
"""

import ast
import os
from xml.sax.saxutils import escape

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATE = os.path.join(REPO, 'i18n', 's2cloudcnn.ts')
PLUGIN_CODE = ('__init__.py', 'plugin.py', 'algorithms', 'gui')
TRANSLATED_CONSTANTS = ('HELP', 'DISPLAY_NAME', 'SHORT_DESCRIPTION', 'CLASSES_HELP')


def python_files():
    """The plugin's Python files (the core is QGIS-free and translates nothing)."""
    for entry in PLUGIN_CODE:
        path = os.path.join(REPO, entry)
        if path.endswith('.py'):
            yield path
        for folder, _, names in os.walk(path):
            if os.sep + 'core' not in folder[len(REPO):]:
                yield from sorted(os.path.join(folder, n) for n in names if n.endswith('.py'))


def tr_calls(tree):
    """The tr(...) calls of a module: tr(x), self.tr(x), algorithm.tr(x)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and (
                getattr(node.func, 'id', None) == 'tr' or getattr(node.func, 'attr', None) == 'tr'):
            yield node


def source_strings():
    """Every translatable string, in first-seen order, with the file it comes from."""
    found = {}
    for path in python_files():
        with open(path, encoding='utf-8') as handle:
            tree = ast.parse(handle.read())
        location = os.path.relpath(path, REPO)
        for call in tr_calls(tree):
            argument = call.args[0]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                found.setdefault(argument.value, location)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and \
                    isinstance(node.value.value, str) and node.value.value and any(
                        getattr(t, 'id', None) in TRANSLATED_CONSTANTS for t in node.targets):
                found.setdefault(node.value.value, location)
    return found


def ts_document(strings):
    """The .ts XML of `strings` ({text: file}), translations left unfinished."""
    messages = ''.join(
        f'    <message>\n        <location filename="../{location}"/>\n'
        f'        <source>{escape(text)}</source>\n'
        '        <translation type="unfinished"></translation>\n    </message>\n'
        for text, location in strings.items())
    return ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n<TS version="2.1">\n'
            f'<context>\n    <name>S2CloudCnn</name>\n{messages}</context>\n</TS>\n')


if __name__ == '__main__':
    os.makedirs(os.path.dirname(TEMPLATE), exist_ok=True)
    with open(TEMPLATE, 'w', encoding='utf-8') as stream:
        stream.write(ts_document(source_strings()))
    print(TEMPLATE)
