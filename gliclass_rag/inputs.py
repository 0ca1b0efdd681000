"""From (text, labels, prompt, examples) to the token ids of one or more model sequences.

Layouts follow the reference pipeline exactly (see ``reference-gliclass.md``)::

    uni-encoder, prompt_first=False:  text <<LABEL>>l1 <<LABEL>>l2 <<SEP>> prompt [<<EXAMPLE>>ex ... <<SEP>>]
    uni-encoder, prompt_first=True:   <<LABEL>>l1 <<LABEL>>l2 <<SEP>> prompt text [<<EXAMPLE>>ex ... <<SEP>>]
    bi-encoder-fused:                 like uni, with one bare <<LABEL>> per label and "prompt " before them
    bi-encoder:                       "prompt text" (labels go through the label encoder)

When a layout fits the model's context it is tokenised exactly as the reference's single string. When it does not,
no label is ever dropped: labels are split into chunks that fit (the text repeated in each), and a text too long
for the room left is cut into overlapping token windows; the pipeline aggregates a label's logits over windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .errors import ContextOverflowError, InvalidInputError
from .tokens import EXAMPLE_TOKEN, LABEL_TOKEN, SEP_TOKEN, Segment, SegmentTokenizer

__all__ = ["ChunkingOptions", "Example", "InputBuilder", "PlannedSequence", "Request", "RetrievedExample"]

Aggregation = Literal["max", "mean"]


@dataclass(frozen=True)
class Example:
    """A few-shot example shown to the model: ``<<EXAMPLE>>text \\nLabels:\\n a, b``."""

    text: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class RetrievedExample:
    """A retrieval-augmented (RAC) example: ``<<EXAMPLE>> text <<TRUE_LABEL>> a <<FALSE_LABEL>> b <</EXAMPLE>>``."""

    text: str
    true_labels: tuple[str, ...]
    false_labels: tuple[str, ...]


@dataclass(frozen=True)
class Request:
    """One text to score against its labels."""

    text: str
    labels: tuple[str, ...]
    prompt: str | None = None
    examples: tuple[Example, ...] = ()
    descriptions: tuple[str | None, ...] = ()  # one per label (or empty): a description of that label
    retrieved: tuple[RetrievedExample, ...] = ()


@dataclass(frozen=True)
class ChunkingOptions:
    """How inputs longer than the context are handled (nothing is ever dropped silently).

    max_length: tokens per sequence (None: the model's own limit, at most 1024 as the reference).
    label_chunk_size: at most this many labels per sequence (None: as many as fit). Models trained on
        small label sets score best with chunks of the size they saw in training.
    min_text_tokens: room kept for the text when deciding how many labels share a sequence (at most half the
        room left beside the prompt and examples).
    window_overlap: tokens shared by consecutive windows of a long text.
    window_aggregation: how a label's logits over a text's windows combine: "max" (any window supports the
        label, the reference chunking pipeline's choice) or "mean".
    """

    max_length: int | None = None
    label_chunk_size: int | None = None
    min_text_tokens: int = 128
    window_overlap: int = 64
    window_aggregation: Aggregation = "max"

    def __post_init__(self) -> None:
        if self.max_length is not None and self.max_length < 16:
            raise InvalidInputError(f"max_length must be >= 16, but got {self.max_length}")
        if self.label_chunk_size is not None and self.label_chunk_size < 1:
            raise InvalidInputError(f"label_chunk_size must be >= 1 or None, but got {self.label_chunk_size}")
        if self.min_text_tokens < 1:
            raise InvalidInputError(f"min_text_tokens must be >= 1, but got {self.min_text_tokens}")
        if self.window_overlap < 0:
            raise InvalidInputError(f"window_overlap must be >= 0, but got {self.window_overlap}")
        if self.window_aggregation not in ("max", "mean"):
            msg = f"window_aggregation must be 'max' or 'mean', but got {self.window_aggregation!r}"
            raise InvalidInputError(msg)


@dataclass(frozen=True)
class PlannedSequence:
    request: int  # index of the Request
    labels: tuple[int, ...]  # indices into that request's labels scored by this sequence
    input_ids: tuple[int, ...]  # with the tokenizer's special tokens


# Layout items: a marker, a string (tokenised with its neighbours), or ids already tokenised (a text window).
@dataclass(frozen=True)
class _Mark:
    token: str


@dataclass(frozen=True)
class _Text:
    text: str


@dataclass(frozen=True)
class _Ids:
    ids: tuple[int, ...]


_Item = _Mark | _Text | _Ids


class InputBuilder:
    """Plans the sequences for a batch of requests for one architecture."""

    def __init__(
        self,
        segments: SegmentTokenizer,
        *,
        architecture: str,
        prompt_first: bool,
        max_length: int,
        lowercase_labels: bool = False,
    ) -> None:
        self.segments = segments
        self.architecture = architecture
        self.prompt_first = prompt_first
        self.max_length = max_length
        self.lowercase_labels = lowercase_labels

    # --- layouts ------------------------------------------------------------------------------------------
    def label_text(self, label: str) -> str:
        return label.lower() if self.lowercase_labels else label

    def _description(self, request: Request, index: int) -> str | None:
        return request.descriptions[index] if request.descriptions else None

    def label_input(self, request: Request, index: int) -> str:
        """What a bi-encoder's label encoder reads for a label: its name, and ``": description"`` if it has one."""
        name = self.label_text(request.labels[index])
        description = self._description(request, index)
        return f"{name}: {description}" if description else name

    def _described(self, request: Request, labels: Sequence[int]) -> str:
        """The reference's training format: ``"label: description"`` sentences, joined by spaces."""
        parts = [f"{self.label_text(request.labels[i])}: {self._description(request, i)}" for i in labels]
        return " ".join(p for p, i in zip(parts, labels, strict=True) if self._description(request, i))

    def _text_items(self, request: Request, text: _Text | _Ids, labels: Sequence[int]) -> list[_Item]:
        items: list[_Item] = [text]
        # Uni-encoders read the descriptions of the labels in this sequence beside the text (bi-encoders: in the
        # label encoder, see label_input).
        described = self._described(request, labels) if self.architecture != "bi-encoder" else ""
        if described:
            items.append(_Text(" " + described))
        if request.retrieved:  # the reference appends RAC examples to the text, space-separated
            items.append(_Text(" "))
            for position, example in enumerate(request.retrieved):
                true = " ".join(f"<<TRUE_LABEL>> {self.label_text(label)}" for label in example.true_labels)
                false = " ".join(f"<<FALSE_LABEL>> {self.label_text(label)}" for label in example.false_labels)
                tail = " " if position < len(request.retrieved) - 1 else ""
                items += [_Mark(EXAMPLE_TOKEN), _Text(f" {example.text} {true} {false} <</EXAMPLE>>{tail}")]
        return items

    def _example_items(self, request: Request) -> list[_Item]:
        if not request.examples or self.architecture == "bi-encoder":
            return []
        items: list[_Item] = []
        for example in request.examples:
            labels = ", ".join(self.label_text(label) for label in example.labels)
            items += [_Mark(EXAMPLE_TOKEN), _Text(f"{example.text} \nLabels:\n {labels}")]
        return [*items, _Mark(SEP_TOKEN)]

    def layout(self, request: Request, labels: Sequence[int], text: _Text | _Ids) -> list[_Item]:
        prompt = request.prompt or ""
        text_items = self._text_items(request, text, labels)
        if self.architecture == "bi-encoder":
            return [*([_Text(prompt + " ")] if prompt else []), *text_items]
        label_items: list[_Item] = []
        for index in labels:
            label_items.append(_Mark(LABEL_TOKEN))
            if self.architecture == "uni-encoder":
                label_items.append(_Text(self.label_text(request.labels[index])))
        label_items.append(_Mark(SEP_TOKEN))
        examples = self._example_items(request)
        if self.architecture == "uni-encoder":
            head = [*label_items, _Text(prompt)]
            if self.prompt_first:
                return [*head, *text_items, *examples]
            return [*text_items, *head, *examples]
        prompt_items: list[_Item] = [_Text(prompt + " ")] if prompt else []  # bi-encoder-fused
        if self.prompt_first:
            return [*prompt_items, *label_items, *text_items, *examples]
        return [*text_items, *prompt_items, *label_items, *examples]

    def _segments_of(self, items: Sequence[_Item]) -> list[Segment | _Mark | _Ids]:
        """Merge adjacent strings into segments that carry their neighbouring markers as context."""
        merged: list[_Item] = []
        for item in items:
            if isinstance(item, _Text) and merged and isinstance(merged[-1], _Text):
                merged[-1] = _Text(merged[-1].text + item.text)
            else:
                merged.append(item)
        out: list[Segment | _Mark | _Ids] = []
        for position, item in enumerate(merged):
            if not isinstance(item, _Text):
                out.append(item)
                continue
            if not item.text:
                continue
            before = merged[position - 1] if position > 0 else None
            after = merged[position + 1] if position + 1 < len(merged) else None
            out.append(
                (
                    before.token if isinstance(before, _Mark) else None,
                    item.text,
                    after.token if isinstance(after, _Mark) else None,
                )
            )
        return out

    def _tokenize_layouts(self, layouts: Sequence[Sequence[_Item]]) -> list[tuple[int, ...]]:
        parts = [self._segments_of(items) for items in layouts]
        texts = [p for part in parts for p in part if isinstance(p, tuple)]
        encoded = iter(self.segments.encode(texts))
        out = []
        for part in parts:
            ids: list[int] = []
            for piece in part:
                if isinstance(piece, _Mark):
                    ids.append(self.segments.marker_id(piece.token))
                elif isinstance(piece, _Ids):
                    ids.extend(piece.ids)
                else:
                    ids.extend(next(encoded))
            out.append(tuple(ids))
        return out

    # --- planning -----------------------------------------------------------------------------------------
    @property
    def budget(self) -> int:
        return self.max_length - self.segments.num_special_tokens

    def plan(self, requests: Sequence[Request], options: ChunkingOptions) -> list[PlannedSequence]:
        """Every sequence needed to score every label of every request."""
        chunks = self._label_chunks(requests, options)
        exact = self._tokenize_layouts(
            [self.layout(requests[r], chunk, _Text(requests[r].text)) for r, chunk in chunks]
        )
        planned: list[PlannedSequence] = []
        too_long: list[tuple[int, tuple[int, ...]]] = []
        for (r, chunk), ids in zip(chunks, exact, strict=True):
            if len(ids) <= self.budget:
                planned.append(PlannedSequence(r, chunk, tuple(self.segments.frame(ids))))
            else:
                too_long.append((r, chunk))
        if too_long:
            planned += self._windows(requests, too_long, options)
        return planned

    def _text_ids(self, requests: Sequence[Request], indices: Sequence[int]) -> list[tuple[int, ...]]:
        return self.segments.encode([(None, requests[r].text, None) for r in indices])

    def _label_chunks(self, requests: Sequence[Request], options: ChunkingOptions) -> list[tuple[int, tuple[int, ...]]]:
        """(request, label indices) per sequence: all labels at once when they fit beside the text."""
        if self.architecture == "bi-encoder":  # labels are not in the sequence
            return [(r, tuple(range(len(req.labels)))) for r, req in enumerate(requests)]
        # Room the labels may take: the budget minus the fixed parts (prompt, examples, descriptions) and text.
        fixed = self._tokenize_layouts([self.layout(req, (), _Ids(())) for req in requests])
        text_lengths = [len(ids) for ids in self._text_ids(requests, range(len(requests)))]
        chunks: list[tuple[int, tuple[int, ...]]] = []
        for r, request in enumerate(requests):
            piece_lengths = self._label_piece_lengths(request)
            available = self.budget - len(fixed[r])
            # Text room kept beside the labels: at most half of what is available, so that a small max_length
            # still packs labels and windows a long text instead of finding no room for any label.
            room = available - min(text_lengths[r], options.min_text_tokens, max(1, available // 2))
            limit = options.label_chunk_size or len(request.labels)
            current: list[int] = []
            used = 0
            for index, length in enumerate(piece_lengths):
                if length > available - 1:  # not even one text token would fit beside this label
                    msg = (
                        f"label {request.labels[index]!r} with the prompt and examples needs {length} tokens beside "
                        f"{len(fixed[r])} fixed ones; only {self.budget} fit (max_length {self.max_length}). "
                        "Shorten it or the prompt/examples, or raise max_length."
                    )
                    raise ContextOverflowError(msg)
                if current and (used + length > room or len(current) >= limit):
                    chunks.append((r, tuple(current)))
                    current, used = [], 0
                current.append(index)
                used += length
            chunks.append((r, tuple(current)))
        return chunks

    def _label_piece_lengths(self, request: Request) -> list[int]:
        if self.architecture != "uni-encoder":
            return [1] * len(request.labels)  # one bare marker per label
        segments = [
            (LABEL_TOKEN, self.label_text(label), LABEL_TOKEN if i + 1 < len(request.labels) else SEP_TOKEN)
            for i, label in enumerate(request.labels)
        ]
        lengths = [1 + len(ids) for ids in self.segments.encode(segments)]
        if request.descriptions:  # a label's description travels with it into its chunk
            described = [self._described(request, [i]) or "" for i in range(len(request.labels))]
            extra = self.segments.encode([(None, " " + d, None) for d in described])
            lengths = [n + (len(e) if d else 0) for n, e, d in zip(lengths, extra, described, strict=True)]
        return lengths

    def _windows(
        self, requests: Sequence[Request], pieces: Sequence[tuple[int, tuple[int, ...]]], options: ChunkingOptions
    ) -> list[PlannedSequence]:
        """Cut the text of each too-long (request, chunk) into overlapping windows that fit beside its labels."""
        texts = self._text_ids(requests, [r for r, _ in pieces])
        fixed = self._tokenize_layouts([self.layout(requests[r], chunk, _Ids(())) for r, chunk in pieces])
        planned = []
        for (r, chunk), text_ids, fixed_ids in zip(pieces, texts, fixed, strict=True):
            room = self.budget - len(fixed_ids)
            if room < 1:
                msg = (
                    f"labels, prompt and examples of text {r} leave no room for the text (max_length {self.max_length})"
                )
                raise ContextOverflowError(msg)
            stride = max(1, room - min(options.window_overlap, room // 2))
            starts = list(range(0, max(1, len(text_ids) - room + stride), stride))
            windows = [_Ids(text_ids[start : start + room]) for start in starts]
            # A window is pre-tokenised ids, so the strings around it are tokenised on their own and the length is
            # exactly fixed + window <= budget.
            for ids in self._tokenize_layouts([self.layout(requests[r], chunk, window) for window in windows]):
                planned.append(PlannedSequence(r, chunk, tuple(self.segments.frame(ids))))
        return planned
