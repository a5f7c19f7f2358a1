"""A table of text cells on stdout: rich on a terminal, aligned plain columns when piped (rich never imported then)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def write_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[int] = ()) -> None:
    """Print ``rows`` under ``headers``; columns whose index is in ``right`` are right-aligned (numbers)."""
    from agents_core.cli.output import wants_colour
    from agents_core.cli.terminal import neutralise

    cells = [[neutralise(str(cell)) for cell in row] for row in rows]
    if wants_colour():
        from rich.console import Console
        from rich.table import Table

        table = Table(box=None, highlight=False)
        for i, header in enumerate(headers):
            table.add_column(header, justify="right" if i in right else "left")
        for row in cells:
            table.add_row(*row)
        Console(highlight=False).print(table)
        return
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    sys.stdout.write("".join(line(row) + "\n" for row in (list(headers), *cells)))
