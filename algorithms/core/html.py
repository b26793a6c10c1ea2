"""Small HTML and text output shared by every report: escaping, tables, pages, atomic writes."""

import html
import math
from collections.abc import Iterable, Sequence

from . import raster_io

STYLE = """
body { font-family: sans-serif; margin: 1.5em; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th { background: #eee; } td.text, th.text { text-align: left; }
.note { background: #fff8e1; border-left: 4px solid #ffb000; padding: 0.4em 0.8em; }
.swatch { display: inline-block; width: 1em; height: 1em; border: 1px solid #555; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
"""


def fmt(value: object, spec: str = '.4f') -> str:
    """Format a number with `spec` (a ratio with four decimals by default), 'n/a' for NaN."""
    return 'n/a' if isinstance(value, float) and math.isnan(value) else format(value, spec)


def esc(text: object) -> str:
    """Return any value HTML-escaped."""
    return html.escape(str(text))


def table(header: Sequence, rows: Iterable[Sequence], text_columns: int = 1) -> str:
    """Return an HTML table; the first `text_columns` columns are left-aligned."""
    def cells(tag, values):
        return ''.join(f'<{tag}{" class=text" if i < text_columns else ""}>{esc(v)}</{tag}>'
                       for i, v in enumerate(values))
    body = ''.join(f'<tr>{cells("td", row)}</tr>' for row in rows)
    return f'<table><tr>{cells("th", header)}</tr>{body}</table>'


def page(title: str, sections: Iterable[str]) -> str:
    """Return a complete HTML document."""
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f'<style>{STYLE}</style></head><body><h1>{esc(title)}</h1>'
            + '\n'.join(sections) + '</body></html>\n')


def write_text(path: str, text: str, protected: Sequence[str] = ()) -> None:
    """Write a text file atomically (temporary file, then rename)."""
    with raster_io.atomic_output(path, protected) as temporary:
        with open(temporary, 'w', encoding='utf-8', newline='') as stream:
            stream.write(text)
