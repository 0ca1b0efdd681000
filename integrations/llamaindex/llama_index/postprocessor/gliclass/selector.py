"""GLiClassSelector: route a query among tools by classifying it against their descriptions (one encoder pass)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from llama_index.core.base.base_selector import BaseSelector, SelectorResult, SingleSelection
from llama_index.core.prompts.mixin import PromptDictType
from llama_index.core.schema import QueryBundle
from llama_index.core.tools.types import ToolMetadata

from gliclass_rag import InvalidInputError, ZeroShotClassifier

from ._model import (
    LazyClassifier,
    ModelArg,
    check_batch_size,
    check_bool,
    check_device,
    check_dtype,
    check_loading_options,
    check_model,
    check_positive_int,
    check_probability,
    check_query,
    model_display_name,
    serializable_model,
)

__all__ = ["GLiClassSelector"]

_SETTINGS = ("model", "multi_select", "threshold", "max_outputs", "include_names", "batch_size", "device", "dtype")


class GLiClassSelector(BaseSelector):
    """Choose among tools (``ToolMetadata``) by GLiClass zero-shot classification of the query.

    Each choice's description is a label (``include_names=True``: ``"name: description"``; a choice without a
    description uses its name); all labels are scored against the query in one encoder pass. Works wherever
    LlamaIndex takes a selector: ``RouterQueryEngine``, ``RouterRetriever``, ``ToolRetrieverRouterQueryEngine``...

    - Single select (default): the top choice of a softmax over the choices.
    - ``multi_select=True``: every choice whose sigmoid score reaches ``threshold``, best first, at most
      ``max_outputs``. When none reaches it, the single best choice is returned (a router always needs one); its
      reason says so.

    Every selection's ``reason`` carries its score: ``"GLiClass score 0.871 for 'sql_tool'"``.

    Args:
        model: A GLiClass model name or path, a loaded :class:`~gliclass_rag.ZeroShotClassifier` (share one among
            many components), or None for the embedded default model; names load on first use or by
            :meth:`warm_up`, and components given the same name share one model in memory.
        multi_select: Select every choice that reaches ``threshold`` instead of the single best one.
        threshold: Minimum sigmoid score in [0, 1] for a choice in multi select (not used in single select).
        max_outputs: The most choices a multi select returns (None: no limit).
        include_names: Classify against ``"name: description"`` rather than the description alone.
        batch_size, device, dtype: As for :class:`~llama_index.postprocessor.gliclass.GLiClassRerank`.

    Bad settings raise :class:`gliclass_rag.InvalidInputError` (a ``ValueError``) naming the value.
    """

    def __init__(
        self,
        model: ModelArg = None,
        *,
        multi_select: bool = False,
        threshold: float = 0.5,
        max_outputs: int | None = None,
        include_names: bool = False,
        batch_size: int = 8,
        device: str | None = None,
        dtype: str | None = None,
    ) -> None:
        self._model = check_model(model)
        self._multi_select = check_bool(multi_select, "multi_select")
        self._threshold = check_probability(threshold, "threshold")
        self._max_outputs = check_positive_int(max_outputs, "max_outputs", optional=True)
        self._include_names = check_bool(include_names, "include_names")
        self._batch_size = check_batch_size(batch_size)
        self._device = check_device(device)
        self._dtype = check_dtype(dtype)
        check_loading_options(self._model, self._device, self._dtype)
        self._lazy = LazyClassifier()

    # --- settings (read-only: build a new selector to change them) -----------------------------------------
    @property
    def model(self) -> str | ZeroShotClassifier | None:
        return self._model

    @property
    def multi_select(self) -> bool:
        return self._multi_select

    @property
    def threshold(self) -> float:
        assert self._threshold is not None
        return self._threshold

    @property
    def max_outputs(self) -> int | None:
        return self._max_outputs

    @property
    def include_names(self) -> bool:
        return self._include_names

    @property
    def batch_size(self) -> int:
        return self._batch_size

    @property
    def device(self) -> str | None:
        return self._device

    @property
    def dtype(self) -> str | None:
        return self._dtype

    @classmethod
    def class_name(cls) -> str:
        return "GLiClassSelector"

    def to_dict(self) -> dict[str, Any]:
        """The constructor arguments (JSON-serialisable) and ``class_name``; a loaded model cannot be written."""
        data: dict[str, Any] = {name: getattr(self, name) for name in _SETTINGS}
        data["model"] = serializable_model(self._model, self.class_name())
        return {"class_name": self.class_name(), **data}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GLiClassSelector:
        """A selector from :meth:`to_dict`'s output."""
        settings = dict(data)
        name = settings.pop("class_name", cls.class_name())
        if name != cls.class_name():
            raise InvalidInputError(f"class_name must be {cls.class_name()!r}, but got {name!r}")
        unknown = sorted(set(settings) - set(_SETTINGS))
        if unknown:
            raise InvalidInputError(f"unknown GLiClassSelector settings {unknown}; known: {list(_SETTINGS)}")
        return cls(**settings)

    def __repr__(self) -> str:
        shown = {name: getattr(self, name) for name in _SETTINGS}
        shown["model"] = model_display_name(self._model) if isinstance(self._model, ZeroShotClassifier) else self._model
        return f"{type(self).__name__}({', '.join(f'{name}={value!r}' for name, value in shown.items())})"

    # --- model ---------------------------------------------------------------------------------------------
    @property
    def classifier(self) -> ZeroShotClassifier:
        """The classifier in use, loaded (or taken from the process-wide share) on first access."""
        return self._lazy.get(self._model, self._device, self._dtype)

    def warm_up(self) -> None:
        """Load the model now rather than on the first query (idempotent)."""
        _ = self.classifier

    # --- PromptMixin: no prompts ---------------------------------------------------------------------------
    def _get_prompts(self) -> PromptDictType:
        return {}

    def _update_prompts(self, prompts: PromptDictType) -> None:
        """No prompts to update."""

    # --- selection -----------------------------------------------------------------------------------------
    def _select(self, choices: Sequence[ToolMetadata], query: QueryBundle) -> SelectorResult:
        labels, text = self._prepare(choices, query)
        if not labels:
            return SelectorResult(selections=[])
        return self._selection(choices, labels, self._scores(text, labels))

    async def _aselect(self, choices: Sequence[ToolMetadata], query: QueryBundle) -> SelectorResult:
        labels, text = self._prepare(choices, query)
        if not labels:
            return SelectorResult(selections=[])
        # the model (and its first load) runs in a worker thread: the event loop stays free
        scores = await asyncio.to_thread(self._scores, text, labels)
        return self._selection(choices, labels, scores)

    def _prepare(self, choices: Sequence[ToolMetadata], query: QueryBundle) -> tuple[list[str], str]:
        if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence):
            raise InvalidInputError(f"choices must be a list of ToolMetadata, but got {type(choices).__name__}")
        if not isinstance(query, QueryBundle):
            raise InvalidInputError(f"query must be a QueryBundle or a str, but got {type(query).__name__}")
        text = check_query(query.query_str)
        return self.labels(choices), text

    def labels(self, choices: Sequence[ToolMetadata]) -> list[str]:
        """The label each choice is classified as, in order (unique; a duplicate raises naming both choices)."""
        labels: list[str] = []
        seen: dict[str, int] = {}
        for index, choice in enumerate(choices):
            if not isinstance(choice, ToolMetadata):
                raise InvalidInputError(f"choices[{index}] must be a ToolMetadata, but got {type(choice).__name__}")
            description = (choice.description or "").strip()
            name = (choice.name or "").strip()
            label = f"{name}: {description}" if self._include_names and name and description else description or name
            if not label:
                raise InvalidInputError(f"choices[{index}] has neither a description nor a name to classify against")
            if label in seen:
                msg = f"choices[{seen[label]}] and choices[{index}] have the same label {label!r}; make them distinct"
                raise InvalidInputError(msg)
            seen[label] = index
            labels.append(label)
        return labels

    def _scores(self, text: str, labels: list[str]) -> dict[str, float]:
        return self.classifier.scores(text, labels, multi_label=self._multi_select, batch_size=self._batch_size)

    def _selection(
        self, choices: Sequence[ToolMetadata], labels: list[str], scores: Mapping[str, float]
    ) -> SelectorResult:
        ranked = sorted(range(len(labels)), key=lambda i: (-scores[labels[i]], i))  # ties: the earlier choice

        def reason(index: int, note: str = "") -> str:
            shown = choices[index].name or _short(labels[index])
            return f"GLiClass score {scores[labels[index]]:.3f} for {shown!r}{note}"

        if not self._multi_select:
            return SelectorResult(selections=[SingleSelection(index=ranked[0], reason=reason(ranked[0]))])
        chosen = [i for i in ranked if scores[labels[i]] >= self.threshold][: self._max_outputs]
        if not chosen:
            note = f" (the best choice; none reached the threshold {self.threshold:g})"
            return SelectorResult(selections=[SingleSelection(index=ranked[0], reason=reason(ranked[0], note))])
        return SelectorResult(selections=[SingleSelection(index=i, reason=reason(i)) for i in chosen])


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
