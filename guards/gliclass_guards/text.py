"""Sentences with character spans, and context windows made of whole sentences.

The splitter is rule-based (no model, no download): a sentence ends at ``.``, ``!``, ``?`` or ``…`` (with any
closing quotes or brackets) followed by whitespace, and at every line break (list items and headings are claims
of their own). A period after a common abbreviation (``e.g.``, ``Dr.``, ``U.S.``) or a single-letter initial does
not end a sentence. Spans never include the surrounding whitespace: ``text[piece.start:piece.end] == piece.text``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["TextPiece", "boundaries", "last_boundary", "split_sentences", "split_windows"]

_END = re.compile(r"[.!?…]+[\"'”’)\]»]*(?=\s|$)|\n")
_END_BEFORE_SPACE = re.compile(r"[.!?…]+[\"'”’)\]»]*\s+|\n\s*")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_ABBREVIATIONS = frozenset({
    "e.g", "i.e", "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "no", "fig", "approx", "dept", "est",
    "inc", "ltd", "co", "corp", "u.s", "u.k", "u.n", "a.m", "p.m", "cf", "al",
})  # fmt: skip


@dataclass(frozen=True)
class TextPiece:
    """A sentence or window of a text: ``text == source[start:end]``."""

    start: int
    end: int
    text: str


def _is_abbreviation(text: str, dot: int) -> bool:
    match = _WORD_BEFORE.search(text, 0, dot)
    if match is None:
        return False
    word = match.group(1).lower().rstrip(".")
    return (len(word) == 1 and word.isalpha()) or word in _ABBREVIATIONS


def _piece(text: str, start: int, end: int) -> TextPiece | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return TextPiece(start, end, text[start:end]) if end > start else None


def split_sentences(text: str) -> list[TextPiece]:
    """The sentences of ``text`` in order, each with its character span (empty list for blank text)."""
    pieces: list[TextPiece] = []
    start = 0
    for match in _END.finditer(text):
        if match.group() != "\n" and match.group()[0] == "." and _is_abbreviation(text, match.start()):
            continue
        end = match.start() if match.group() == "\n" else match.end()
        piece = _piece(text, start, end)
        if piece is not None:
            pieces.append(piece)
        start = match.end()
    last = _piece(text, start, len(text))
    if last is not None:
        pieces.append(last)
    return pieces


def boundaries(text: str) -> list[int]:
    """Where each complete sentence of ``text`` ends, after its trailing whitespace (the next sentence's start).

    Only a terminator already followed by whitespace (or a line break) counts, so ``"3."`` at the end of a stream
    buffer (perhaps ``"3.5"`` once the next chunk arrives) is no boundary.
    """
    return [
        match.end()
        for match in _END_BEFORE_SPACE.finditer(text)
        if match.end() > 0 and not (match.group()[0] == "." and _is_abbreviation(text, match.start()))
    ]


def last_boundary(text: str) -> int | None:
    """The last of :func:`boundaries`, or None: where a growing stream buffer can be cut."""
    found = boundaries(text)
    return found[-1] if found else None


def _cut_long(text: str, piece: TextPiece, size: int, length: Callable[[str], int]) -> list[TextPiece]:
    """A sentence longer than ``size`` as consecutive runs of whole words of at most ``size`` (a longer word
    stays whole)."""
    out: list[TextPiece] = []
    words = [(m.start() + piece.start, m.end() + piece.start) for m in re.finditer(r"\S+", piece.text)]
    first, total = 0, 0
    for index, (start, end) in enumerate(words):
        cost = length(text[start:end]) + (1 if index > first else 0)
        if index > first and total + cost > size:
            out.append(TextPiece(words[first][0], words[index - 1][1], text[words[first][0] : words[index - 1][1]]))
            first, total, cost = index, 0, length(text[start:end])
        total += cost
    out.append(TextPiece(words[first][0], words[-1][1], text[words[first][0] : words[-1][1]]))
    return out


def split_windows(text: str, size: int, overlap: int = 0, *, length: Callable[[str], int] = len) -> list[TextPiece]:
    """Consecutive windows of whole sentences of about ``size`` (measured by ``length``: characters by default, or
    a tokenizer's count), each sharing about ``overlap`` with the one before. A sentence longer than ``size`` is cut
    at word boundaries. A text within ``size`` is one window (itself, stripped)."""
    if size < 1 or overlap < 0 or overlap >= size:
        msg = f"window size must be >= 1 and overlap in [0, size), but got size {size} and overlap {overlap}"
        raise ValueError(msg)
    pieces: list[TextPiece] = []
    for sentence in split_sentences(text):
        pieces += _cut_long(text, sentence, size, length) if length(sentence.text) > size else [sentence]
    if not pieces:
        return []
    gap = 1 if length is len else 0  # the space between sentences counts as a character, not as a token
    costs = [length(p.text) + gap for p in pieces]
    windows: list[TextPiece] = []
    first = 0
    while True:
        last, total = first, costs[first]
        while last + 1 < len(pieces) and total + costs[last + 1] <= size + gap:
            last += 1
            total += costs[last]
        windows.append(TextPiece(pieces[first].start, pieces[last].end, text[pieces[first].start : pieces[last].end]))
        if last + 1 >= len(pieces):
            return windows
        start, shared = last + 1, 0
        while start - 1 > first and shared + costs[start - 1] <= overlap:
            start -= 1
            shared += costs[start]
        first = start
