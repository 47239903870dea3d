"""Output that fits the terminal: tables whose cells are never clipped, and commands and
paths printed whole on their own line so they can be copied.

Every command prints its tables through :func:`print_table`. Each column has a kind:

- ``text``: wrapped at spaces into its column; a word is never split.
- ``atom`` (ids, numbers, verdicts, paths): printed whole on one line, never wrapped.

When even the narrowest layout (every text column at its longest word) is wider than the
terminal, the column with the lowest ``keep`` is dropped first, and the table says which
columns it left out (``--json`` has them all). The width is rich's: the terminal's, or
``COLUMNS``, or 80 when the output is not a terminal.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

from rich.cells import cell_len  # terminal cells, not characters (wide CJK glyphs count 2)

# in a paragraph a `backticked span` (a command) is one unbreakable unit; in a table cell
# (which cannot be copied across lines anyway) only words are
_UNITS = re.compile(r"`[^`]*`|\S+")
_WORDS = re.compile(r"\S+")


@dataclass(frozen=True)
class Col:
    """A table column. ``keep``: higher is kept longer when the table must lose columns
    (None: never dropped). ``justify``: left or right. ``styles``: cell value -> rich style."""

    name: str
    kind: str = "text"  # "text" | "atom"
    keep: int | None = None
    justify: str = "left"
    styles: dict[str, str] | None = None


def console(stderr: bool = False, width: int | None = None):
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=False, width=width)


def units(text: str, commands_whole: bool = False) -> list[str]:
    """The unbreakable pieces of a text: words (and `backticked commands` whole)."""
    return (_UNITS if commands_whole else _WORDS).findall(text)


def wrap(text: str, width: int, commands_whole: bool = False) -> list[str]:
    """Whole-unit wrapping; a unit longer than ``width`` stands alone on its line, whole."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for u in units(paragraph, commands_whole):
            if line and cell_len(line) + 1 + cell_len(u) > width:
                lines.append(line)
                line = u
            else:
                line = f"{line} {u}" if line else u
        lines.append(line)
    return lines


def _min_width(col: Col, cells: list[str]) -> int:
    header = max((cell_len(u) for u in units(col.name)), default=0)
    if col.kind == "atom":
        return max([header, *(cell_len(line) for c in cells for line in c.split("\n"))])
    return max([header, *(cell_len(u) for c in cells for u in units(c))])


def _max_width(col: Col, cells: list[str]) -> int:
    return max([cell_len(col.name), *(cell_len(line) for c in cells for line in c.split("\n"))])


def _new_table(title=None):
    from rich import box
    from rich.table import Table

    # a rule under the header, two spaces between columns, no edges: room for the cells
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                 pad_edge=False, padding=(0, 1, 0, 0), header_style="bold")


@lru_cache(maxsize=None)
def overhead(n_columns: int) -> int:
    """Characters the table style adds to its cells' widths (measured from rich itself)."""
    import io

    from rich.console import Console

    table = _new_table()
    for _ in range(n_columns):
        table.add_column("x", width=1, no_wrap=True)
    table.add_row(*["x"] * n_columns)
    con = Console(file=io.StringIO(), width=10_000)
    con.print(table)
    return max(len(line) for line in con.file.getvalue().splitlines()) - n_columns


@dataclass
class Layout:
    columns: list[int]  # indices of the columns shown
    widths: list[int]   # their widths
    dropped: list[str]  # names of the columns left out
    fits: bool = True   # False: wider than the terminal even with every droppable column out


def layout(cols: Sequence[Col], rows: Sequence[Sequence[str]], width: int) -> Layout:
    """Which columns to show and how wide: every column at least its longest unit (atoms:
    their whole value), the room left shared out towards each column's widest cell."""
    shown = list(range(len(cols)))
    cells = {i: [r[i] for r in rows] for i in shown}
    mins = {i: _min_width(cols[i], cells[i]) for i in shown}
    maxs = {i: max(mins[i], _max_width(cols[i], cells[i])) for i in shown}
    dropped: list[int] = []
    while sum(mins[i] for i in shown) + overhead(len(shown)) > width:
        droppable = [i for i in shown if cols[i].keep is not None]
        if not droppable:
            break  # nothing left to drop: the table is wider than the terminal, but whole
        worst = min(droppable, key=lambda i: (cols[i].keep, -i))
        shown.remove(worst)
        dropped.append(worst)
    for i in sorted(dropped, key=lambda j: -(cols[j].keep or 0)):  # put back what fits again
        if sum(mins[j] for j in shown) + mins[i] + overhead(len(shown) + 1) <= width:
            shown = sorted([*shown, i])
            dropped.remove(i)
    widths = {i: mins[i] for i in shown}
    fits = sum(widths.values()) + overhead(len(shown)) <= width
    room = width - overhead(len(shown)) - sum(widths.values())
    # the room goes first to the columns that need least to show their widest cell on one
    # line, then what is left to the next
    for i in sorted(shown, key=lambda j: (maxs[j] - widths[j], j)):
        give = min(room, maxs[i] - widths[i])
        widths[i] += give
        room -= give
    return Layout(shown, [widths[i] for i in shown], [cols[i].name for i in dropped], fits)


def build_table(cols: Sequence[Col], rows: Sequence[Sequence[Any]], width: int,
                title: str | None = None):
    """A rich Table laid out for ``width`` columns of text, and the names it left out."""
    from rich.text import Text

    text_rows = [["—" if c is None else str(c) for c in r] for r in rows]
    lay = layout(cols, text_rows, width)
    table = _new_table(Text(title, style="bold") if title else None)
    for i, w in zip(lay.columns, lay.widths):
        col = cols[i]
        header = Text("\n".join(wrap(col.name, w)))  # Text: "[0] cpu" is not markup
        # the layout makes every cell fit; "fold" (never "ellipsis") in case one did not
        table.add_column(header, justify=col.justify, width=w, no_wrap=True, overflow="fold")
    for r in text_rows:
        cells = []
        for i, w in zip(lay.columns, lay.widths):
            col, value = cols[i], r[i]
            lines = wrap(value, w) if col.kind == "text" else value.split("\n")
            style = (col.styles or {}).get(value, "")
            cells.append(Text("\n".join(lines), style=style, justify=col.justify))
        table.add_row(*cells)
    return table, lay.dropped, lay.fits


def print_records(cols: Sequence[Col], rows: Sequence[Sequence[Any]], title: str | None = None,
                  con=None) -> None:
    """The table as one block per row, for a terminal too narrow for any table: the first
    column on its own line, then ``name: value`` pairs packed on indented lines (a pair is
    never split; a text value wraps at its words). Every value is still whole."""
    from rich.text import Text

    con = con or console()
    if title:
        print_wrapped(title, con=con, style="bold")
    for r in rows:
        cells = ["—" if c is None else str(c) for c in r]
        print_wrapped(cells[0], con=con, style="bold")
        line = ""
        for col, value in zip(cols[1:], cells[1:]):
            if not value:
                continue
            pair = f"{col.name}: {value}"
            if col.kind == "text" and cell_len(pair) > con.width - 2:
                print_wrapped(pair, con=con, indent="  ", hang="  ")
                continue
            if line and cell_len(line) + 2 + cell_len(pair) > con.width - 2:
                con.print(Text("  " + line, style=""), soft_wrap=True, highlight=False)
                line = ""
            line = f"{line}  {pair}" if line else pair
        if line:
            con.print(Text("  " + line), soft_wrap=True, highlight=False)


def print_table(cols: Sequence[Col], rows: Sequence[Sequence[Any]], title: str | None = None,
                con=None, hint: str = "--json") -> None:
    """Print a table that fits the console; say which columns did not fit. Where no table
    fits (a very narrow terminal), each row is printed as a block instead."""
    con = con or console()
    table, dropped, fits = build_table(cols, rows, con.width, title)
    if not fits:
        print_records(cols, rows, title, con)
        return
    con.print(table)
    if dropped:
        print_wrapped(f"({', '.join(dropped)} left out at {con.width} columns; a wider "
                      f"terminal or {hint} shows {'it' if len(dropped) == 1 else 'them'})",
                      con=con, style="dim")


def print_wrapped(text: str, con=None, indent: str = "", style: str = "", hang: str = "") -> None:
    """A paragraph wrapped at whole words (and whole `commands`) to the console's width;
    lines after the first are indented by ``hang`` more."""
    from rich.text import Text

    con = con or console()
    first = wrap(text, max(20, con.width - len(indent)), commands_whole=True)
    lines = first[:1] + (wrap(" ".join(first[1:]), max(20, con.width - len(indent + hang)),
                              commands_whole=True) if len(first) > 1 else [])
    for n, line in enumerate(lines):
        con.print(Text((indent if n == 0 else indent + hang) + line, style=style), soft_wrap=True,
                  highlight=False)


def print_whole(label: str, value: str, con=None, indent: str = "  ", label_indent: str = "") -> None:
    """``label`` on one line and ``value`` (a command or a path) whole on the next, with
    nothing else on it, so it copies as it is even when it is wider than the terminal."""
    from rich.text import Text

    con = con or console()
    if label:
        print_wrapped(label, con=con, indent=label_indent)
    con.print(Text(indent + value), soft_wrap=True, highlight=False)


def print_split_table(cols: Sequence[Col], rows: Sequence[Sequence[Any]], title: str | None = None,
                      con=None, keys: int = 1) -> None:
    """A table of numbers too wide for the terminal is printed as several tables, each
    with the first ``keys`` columns (the row labels) and as many of the others as fit
    (a row empty in a part is left out of it): no number is dropped or clipped."""
    con = con or console()
    text_rows = [["—" if c is None else str(c) for c in r] for r in rows]
    label = list(range(keys))
    need = {i: _min_width(cols[i], [r[i] for r in text_rows]) for i in range(len(cols))}
    chunks: list[list[int]] = []
    for i in range(keys, len(cols)):
        if chunks and (sum(need[j] for j in [*label, *chunks[-1], i])
                       + overhead(keys + len(chunks[-1]) + 1)) <= con.width:
            chunks[-1].append(i)
        else:
            chunks.append([i])
    for n, chunk in enumerate(chunks or [[]]):
        part = [*label, *chunk]
        suffix = f" ({n + 1}/{len(chunks)})" if len(chunks) > 1 else ""
        part_cols, part_rows = [cols[j] for j in part], [[r[j] for j in part] for r in text_rows]
        if len(chunks) > 1:  # a row with nothing in these columns is left out of this part
            part_rows = [r for r in part_rows if any(c != "—" for c in r[keys:])]
        part_title = (title or "") + suffix if title else None
        table, _, fits = build_table(part_cols, part_rows, con.width, part_title)
        if fits:
            con.print(table)
        else:
            print_records(part_cols, part_rows, part_title, con)


def print_field(label: str, value: str, con=None, indent: str = "  ", sep: str = " ") -> None:
    """``label value`` on one line when it fits, else the label and then the value whole
    on a line of its own (a URL or a path copies as it is)."""
    from rich.text import Text

    con = con or console()
    line = f"{indent}{label}{sep}{value}"
    if cell_len(line) <= con.width:
        con.print(Text(line), soft_wrap=True, highlight=False)
    else:
        print_whole(label, value, con=con, indent=indent + "  ", label_indent=indent)
