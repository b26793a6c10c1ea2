"""Write resources/help/<algorithm>.html, the pages behind each dialog's Help button.

Run it again after changing an algorithm's parameters or help; tests/package/test_help_pages.py
checks that the committed pages match.
"""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(provider):
    """Write one page per algorithm of `provider`."""
    from algorithms.support.help_pages import build_page, page_path

    for algorithm in provider.algorithms():
        path = page_path(algorithm.name())
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(build_page(algorithm))
        print(path)


if __name__ == '__main__':
    from qgis.core import QgsApplication

    sys.path[:0] = [REPO, '/usr/share/qgis/python/plugins']
    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing

    from algorithms.provider import S2CloudCnnProvider

    Processing.initialize()
    provider = S2CloudCnnProvider()  # held: the registry alone does not keep it alive
    QgsApplication.processingRegistry().addProvider(provider)
    main(provider)
