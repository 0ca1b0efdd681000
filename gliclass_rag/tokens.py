"""Exact, injection-safe tokenisation of the pieces of a GLiClass input.

The reference tokenises one string such as ``text<<LABEL>>sports<<LABEL>>politics<<SEP>>``. A tokenizer splits
such a string at its added tokens and handles every piece between two markers on its own, so the ids of the whole
string are the ids of its pieces, each tokenised *in context*: with the markers that surround it in the string
(``<<LABEL>>sports<<LABEL>>`` minus the two marker ids). :class:`SegmentTokenizer` does exactly that, which
lets labels be tokenised once per label set and text be windowed, with the same ids as the whole string.

Safety: a piece comes from the caller (text, label, prompt, example). If its in-context ids contain a marker id,
the caller wrote a marker as plain characters; the piece is then re-tokenised with ``split_special_tokens`` so the
characters stay characters, and can never open a label slot or shift one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from .errors import ConfigError

__all__ = ["EXAMPLE_TOKEN", "LABEL_TOKEN", "MARKERS", "SEP_TOKEN", "SegmentTokenizer"]

LABEL_TOKEN = "<<LABEL>>"
SEP_TOKEN = "<<SEP>>"
EXAMPLE_TOKEN = "<<EXAMPLE>>"
MARKERS = (LABEL_TOKEN, SEP_TOKEN, EXAMPLE_TOKEN)
CACHE_SIZE = 65_536

Segment = tuple[str | None, str, str | None]  # (marker before or None, text, marker after or None)


class SegmentTokenizer:
    """Tokenises text segments in their marker context, with a bounded cache (labels repeat across calls)."""

    def __init__(self, tokenizer: Any, *, marker_ids: dict[str, int] | None = None) -> None:
        self.tokenizer = tokenizer
        self.marker_ids = marker_ids or self._find_marker_ids(tokenizer)
        self._marker_id_set = frozenset(self.marker_ids.values())
        self.prefix_ids, self.suffix_ids = self._special_framing(tokenizer)
        self._cache: OrderedDict[Segment, tuple[int, ...]] = OrderedDict()

    @staticmethod
    def _find_marker_ids(tokenizer: Any) -> dict[str, int]:
        ids: dict[str, int] = {}
        for marker in MARKERS:
            found = tokenizer.convert_tokens_to_ids(marker)
            if found is not None and found != tokenizer.unk_token_id:
                ids[marker] = int(found)
        return ids

    def marker_id(self, marker: str) -> int:
        try:
            return self.marker_ids[marker]
        except KeyError:
            msg = f"the tokenizer has no {marker} token; a GLiClass tokenizer adds {', '.join(MARKERS)}"
            raise ConfigError(msg) from None

    @staticmethod
    def _special_framing(tokenizer: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The ids the tokenizer adds before and after a sequence ([CLS] ... [SEP], or ... </s>)."""
        plain = list(tokenizer("a", add_special_tokens=False)["input_ids"])
        framed = list(tokenizer("a", add_special_tokens=True)["input_ids"])
        for start in range(len(framed) - len(plain) + 1):
            if framed[start : start + len(plain)] == plain:
                return tuple(framed[:start]), tuple(framed[start + len(plain) :])
        msg = "cannot tell which special tokens this tokenizer adds around a sequence"
        raise ConfigError(msg)

    @property
    def num_special_tokens(self) -> int:
        return len(self.prefix_ids) + len(self.suffix_ids)

    def frame(self, ids: Sequence[int]) -> list[int]:
        return [*self.prefix_ids, *ids, *self.suffix_ids]

    def encode(self, segments: Sequence[Segment]) -> list[tuple[int, ...]]:
        """Ids of each segment as they appear inside the full input string (markers excluded)."""
        missing = list(dict.fromkeys(s for s in segments if s not in self._cache))
        if missing:
            wrapped = [(before or "") + text + (after or "") for before, text, after in missing]
            encoded = self.tokenizer(wrapped, add_special_tokens=False, verbose=False)["input_ids"]
            for segment, ids in zip(missing, encoded, strict=True):
                self._remember(segment, self._unwrap(segment, ids))
        out = []
        for segment in segments:
            ids = self._cache[segment]
            self._cache.move_to_end(segment)
            out.append(ids)
        return out

    def _unwrap(self, segment: Segment, ids: list[int]) -> tuple[int, ...]:
        before, text, after = segment
        start = 1 if before is not None else 0
        stop = len(ids) - (1 if after is not None else 0)
        inner = ids[start:stop]
        framed_ok = (before is None or ids[:1] == [self.marker_id(before)]) and (
            after is None or ids[-1:] == [self.marker_id(after)]
        )
        if framed_ok and not self._marker_id_set.intersection(inner):
            return tuple(inner)
        # The text itself spells a marker (or the tokenizer merged across one): keep its characters as characters.
        plain = self.tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"]
        return tuple(i for i in plain if i not in self._marker_id_set)

    def _remember(self, segment: Segment, ids: tuple[int, ...]) -> None:
        self._cache[segment] = ids
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
