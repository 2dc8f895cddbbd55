"""A faithful emulation of Go's ``text/tabwriter`` for the flags Argo's CLI uses.

Argo prints its tables (``argo get`` tree, ``argo list``) through Go's elastic
tabwriter; matching its output byte-for-byte needs the same rules rather than a
generic table formatter:

* a cell is text terminated by ``\\t``; the trailing text of a line (after the
  last tab) is *not* part of any column and is never padded;
* a column block is a run of consecutive lines that all have a cell in that
  column; each block gets its own width = max(cell width) + padding
  (at least ``minwidth``);
* cell width counts code points (Go counts runes), so ANSI escapes count too —
  Argo relies on that by colouring every first cell alike.
"""

from __future__ import annotations

__all__ = ["tabwrite"]


class _Formatter:
    """One flush of a Go tabwriter: lines of cells formatted column-block by column-block."""

    def __init__(self, lines: list[list[str]], minwidth: int, tabwidth: int, padding: int, padchar: str):
        self.lines = lines
        self.minwidth = minwidth
        self.tabwidth = tabwidth
        self.padding = padding
        self.padchar = padchar
        self.widths: list[int] = []
        self.out: list[str] = []

    def _pad(self, textw: int, cellw: int) -> str:
        if self.padchar == "\t":
            # Go pads with tabs: round the cell up to a tab stop, emit whole tabs.
            if self.tabwidth == 0:
                return ""
            cellw = (cellw + self.tabwidth - 1) // self.tabwidth * self.tabwidth
            n = cellw - textw
            return "\t" * ((n + self.tabwidth - 1) // self.tabwidth)
        return self.padchar * (cellw - textw)

    def _write_lines(self, line0: int, line1: int) -> None:
        for i in range(line0, line1):
            cells = self.lines[i]
            for j, cell in enumerate(cells):
                self.out.append(cell)
                if j < len(self.widths):
                    self.out.append(self._pad(len(cell), self.widths[j]))
            if i + 1 < len(self.lines):
                self.out.append("\n")

    def format(self, line0: int, line1: int) -> None:
        column = len(self.widths)
        this = line0
        while this < line1:
            if column >= len(self.lines[this]) - 1:
                this += 1
                continue
            # A cell exists in this column: flush the lines before the block.
            self._write_lines(line0, this)
            line0 = this
            width = self.minwidth
            while this < line1:
                cells = self.lines[this]
                if column >= len(cells) - 1:
                    break
                width = max(width, len(cells[column]) + self.padding)
                this += 1
            self.widths.append(width)
            self.format(line0, this)
            self.widths.pop()
            line0 = this
        self._write_lines(line0, line1)


def tabwrite(
    text: str,
    *,
    minwidth: int = 0,
    tabwidth: int = 8,
    padding: int = 1,
    padchar: str = " ",
) -> str:
    """Format ``text`` exactly as ``tabwriter.NewWriter(w, minwidth, tabwidth, padding, padchar, 0)`` + Flush."""
    lines = [line.split("\t") for line in text.split("\n")]
    formatter = _Formatter(lines, minwidth, tabwidth, padding, padchar)
    formatter.format(0, len(lines))
    return "".join(formatter.out)
