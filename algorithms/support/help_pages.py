"""The help pages shipped in resources/help/, built from each algorithm's own definitions.

Written by tests/tools/make_help_pages.py; a test checks that the committed pages match, so
the page behind the dialog's Help button always describes the parameters the dialog shows.
"""

import html
import os

from .paths import HELP_DIR
from .qgis_compat import FLAG_HIDDEN, FLAG_OPTIONAL

PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title} - S2 Cloud CNN</title>
<style>body {{ font-family: sans-serif; max-width: 60em; margin: 1em auto; line-height: 1.4 }}
table {{ border-collapse: collapse }} td, th {{ border: 1px solid #bbb; padding: 0.2em 0.5em;
text-align: left; vertical-align: top }}</style></head>
<body>
<h1>{title}</h1>
<p><i>{short}</i></p>
<p>{help}</p>
<h2>Parameters</h2>
<table><tr><th>In the dialog</th><th>Name in scripts and qgis_process</th><th>Type</th></tr>
{parameters}
</table>
<h2>Outputs</h2>
<table><tr><th>Output</th><th>Name</th></tr>
{outputs}
</table>
<h2>From a script</h2>
<pre>processing.run('{algorithm_id}', {{...}})
qgis_process run {algorithm_id} -- NAME=value ...</pre>
<p>S2 Cloud CNN, algorithm <code>{algorithm_id}</code>.</p>
</body>
</html>
"""


def page_path(name):
    """File of the help page of the algorithm `name`."""
    return os.path.join(HELP_DIR, f'{name}.html')


def _label(definition):
    optional = ' (optional)' if definition.flags() & FLAG_OPTIONAL else ''
    return html.escape(definition.description() + optional)


def build_page(algorithm):
    """Return the HTML help page of a Processing algorithm."""
    help_text = algorithm.shortHelpString() or algorithm.shortDescription()
    parameters = '\n'.join(
        f'<tr><td>{_label(d)}</td><td><code>{html.escape(d.name())}</code></td>'
        f'<td>{html.escape(d.type())}</td></tr>' for d in algorithm.parameterDefinitions()
        if not d.flags() & FLAG_HIDDEN)
    outputs = '\n'.join(
        f'<tr><td>{html.escape(o.description())}</td><td><code>{html.escape(o.name())}</code>'
        '</td></tr>' for o in algorithm.outputDefinitions())
    return PAGE.format(title=html.escape(algorithm.displayName()),
                       short=html.escape(algorithm.shortDescription()),
                       help=help_text.replace('\n\n', '</p>\n<p>'), parameters=parameters,
                       outputs=outputs, algorithm_id=algorithm.id())
