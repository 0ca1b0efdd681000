"""Zero-shot routers: one output per label plus `unmatched`, per-label thresholds, multi-label, a `scores` output.

`GLiClassTextRouter` routes one `text: str` (its outputs connect to text inputs such as a text embedder's);
`GLiClassDocumentRouter` is the batch shape: it routes a list of Documents, scored `batch_size` at a time.
Both score every label with independent sigmoid probabilities in one encoder pass per text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from haystack import Document, component
from haystack.utils import ComponentDevice
from haystack_integrations.common.gliclass.utils import (
    ModelArg,
    ModelComponent,
    check_bool,
    check_documents,
    check_label_descriptions,
    check_label_thresholds,
    check_labels,
    check_optional_str,
    check_positive_int,
    check_probability,
    document_text,
)

RESERVED_OUTPUTS = ("unmatched", "scores")
_ROUTING = ("labels", "threshold", "label_thresholds", "multi_label", "prompt", "label_descriptions")


class _Router(ModelComponent):
    """What both routers share: the model, the labels and their thresholds, single- or multi-label matching."""

    labels: list[str]

    def _init_routing(
        self,
        model: ModelArg,
        device: ComponentDevice | None,
        dtype: str | None,
        labels: list[str],
        threshold: float,
        label_thresholds: dict[str, float] | None,
        multi_label: bool,
        prompt: str | None,
        label_descriptions: dict[str, str] | None,
    ) -> None:
        self._init_model(model, device, dtype)
        self.labels = check_labels(labels, reserved=RESERVED_OUTPUTS)
        check_probability(threshold, "threshold")
        check_label_thresholds(label_thresholds, self.labels)
        check_bool(multi_label, "multi_label")
        check_optional_str(prompt, "prompt")
        check_label_descriptions(label_descriptions, self.labels)
        self.threshold = threshold
        self.label_thresholds = dict(label_thresholds) if label_thresholds is not None else None
        self.multi_label = multi_label
        self.prompt = prompt
        self.label_descriptions = dict(label_descriptions) if label_descriptions is not None else None
        self._thresholds = {label: float((label_thresholds or {}).get(label, threshold)) for label in self.labels}

    def _scores(self, texts: list[str], batch_size: int = 8) -> list[dict[str, float]]:
        """Every label's sigmoid score for each text, in label order."""
        return self._loaded().scores(
            texts, self.labels, prompt=self.prompt, label_descriptions=self.label_descriptions, batch_size=batch_size
        )

    def _matched(self, scores: Mapping[str, float]) -> list[str]:
        """Labels whose score reaches their threshold, in label order; single-label keeps the best of them."""
        passed = [label for label, score in scores.items() if score >= self._thresholds[label]]
        if not self.multi_label and passed:
            passed = [max(passed, key=scores.__getitem__)]
        return passed


@component
class GLiClassTextRouter(_Router):
    """Routes a text to one output per label it matches, or to `unmatched`; also outputs every label's score.

    A label matches when its score (a sigmoid probability) reaches its threshold: `label_thresholds[label]` if
    set, else `threshold`. With `multi_label=True` a text goes to every matching output; with `False`, to the best
    matching one only. A blank text is not scored: it goes to `unmatched` and `scores` is `{}`.
    To route many texts at once, wrap them in Documents and use `GLiClassDocumentRouter`.

    Usage example:
    ```python
    from haystack_integrations.components.routers.gliclass import GLiClassTextRouter

    router = GLiClassTextRouter(labels=["billing", "technical issue"], label_thresholds={"billing": 0.6})
    result = router.run(text="I was charged twice this month")
    # {"billing": "I was charged twice this month", "scores": {"billing": 0.93, "technical issue": 0.08}}
    ```
    """

    _serialized = _ROUTING

    def __init__(
        self,
        labels: list[str],
        model: ModelArg = None,
        *,
        threshold: float = 0.5,
        label_thresholds: dict[str, float] | None = None,
        multi_label: bool = True,
        prompt: str | None = None,
        label_descriptions: dict[str, str] | None = None,
        device: ComponentDevice | None = None,
        dtype: str | None = None,
    ) -> None:
        """Create a GLiClassTextRouter; the model is loaded by `warm_up()` (or the first `run`).

        :param labels: The labels; each becomes an output of type `str`. `"unmatched"` and `"scores"` are reserved.
        :param model: A GLiClass checkpoint directory or hub id, `None` for the embedded default model, or a loaded
            `ZeroShotClassifier`. Components given the same name or path share one model in memory; a loaded
            classifier is used as is but cannot be serialised (`to_dict` raises `SerializationError`).
        :param threshold: The score in [0, 1] a label needs to match, for labels not in `label_thresholds`.
        :param label_thresholds: Per-label thresholds in [0, 1] that override `threshold`.
        :param multi_label: `True`: route to every matching label; `False`: to the best matching label only.
        :param prompt: An instruction shown to the model with the labels (for example the task).
        :param label_descriptions: Optional descriptions of some labels, shown to the model.
        :param device: Where to load the model (`None`: a GPU when there is one); not with a loaded classifier.
        :param dtype: `"float32"`, `"bfloat16"` or `"float16"`; not with a loaded classifier.
        :raises ValueError: If labels are empty, repeated or reserved, or a threshold is outside [0, 1].
        :raises TypeError: If an argument has the wrong type.
        """
        self._init_routing(
            model, device, dtype, labels, threshold, label_thresholds, multi_label, prompt, label_descriptions
        )
        component.set_output_types(self, **dict.fromkeys(self.labels, str), unmatched=str, scores=dict[str, float])

    def run(self, text: str) -> dict[str, Any]:
        """Route the text to the outputs of the labels it matches, or to `unmatched`.

        :param text: The text to route.
        :returns: A dictionary with the text under each matched label (or under `unmatched`), and `scores`: every
            label's score, in label order.
        :raises TypeError: If `text` is not a str.
        """
        if not isinstance(text, str):
            msg = f"GLiClassTextRouter expects text to be a str, but got {type(text).__name__}"
            raise TypeError(msg)
        if not text.strip():
            return {"unmatched": text, "scores": {}}
        scores = self._scores([text])[0]
        matched = self._matched(scores)
        routed: dict[str, Any] = dict.fromkeys(matched, text) if matched else {"unmatched": text}
        return {**routed, "scores": scores}

    async def run_async(self, text: str) -> dict[str, Any]:
        """Asynchronously route the text (the model runs in a worker thread); takes and returns the same as `run`."""
        return await asyncio.to_thread(self.run, text=text)


@component
class GLiClassDocumentRouter(_Router):
    """Routes Documents to one output per label they match, or to `unmatched`: the batch shape of the text router.

    Matching is as in `GLiClassTextRouter`. Each output is a list of the (unmodified) input Documents; only
    non-empty outputs are emitted, so components behind an output run only when it received documents.
    `scores` lists every label's score per input document, in input order. Documents without text to classify
    (no content, or no `classification_field` value) go to `unmatched` with `{}` scores.

    Usage example:
    ```python
    from haystack import Document
    from haystack_integrations.components.routers.gliclass import GLiClassDocumentRouter

    router = GLiClassDocumentRouter(labels=["sports", "finance"])
    docs = [Document(content="The team won the final"), Document(content="Stocks fell today")]
    result = router.run(documents=docs)
    # {"sports": [Document(...team...)], "finance": [Document(...stocks...)], "scores": [{...}, {...}]}
    ```
    """

    _serialized = (*_ROUTING, "classification_field", "batch_size")

    def __init__(
        self,
        labels: list[str],
        model: ModelArg = None,
        *,
        threshold: float = 0.5,
        label_thresholds: dict[str, float] | None = None,
        multi_label: bool = True,
        classification_field: str | None = None,
        prompt: str | None = None,
        label_descriptions: dict[str, str] | None = None,
        batch_size: int = 8,
        device: ComponentDevice | None = None,
        dtype: str | None = None,
    ) -> None:
        """Create a GLiClassDocumentRouter; the model is loaded by `warm_up()` (or the first `run`).

        :param labels: The labels; each becomes an output of type `list[Document]`. `"unmatched"` and `"scores"`
            are reserved.
        :param model: A GLiClass checkpoint directory or hub id, `None` for the embedded default model, or a loaded
            `ZeroShotClassifier` (used as is, but `to_dict` then raises `SerializationError`).
        :param threshold: The score in [0, 1] a label needs to match, for labels not in `label_thresholds`.
        :param label_thresholds: Per-label thresholds in [0, 1] that override `threshold`.
        :param multi_label: `True`: route to every matching label; `False`: to the best matching label only.
        :param classification_field: The meta field holding the text to classify; `None`: the content.
        :param prompt: An instruction shown to the model with the labels (for example the task).
        :param label_descriptions: Optional descriptions of some labels, shown to the model.
        :param batch_size: How many documents go through the model at once.
        :param device: Where to load the model (`None`: a GPU when there is one); not with a loaded classifier.
        :param dtype: `"float32"`, `"bfloat16"` or `"float16"`; not with a loaded classifier.
        :raises ValueError: If labels are empty, repeated or reserved, a threshold is outside [0, 1], or
            `batch_size` is below 1.
        :raises TypeError: If an argument has the wrong type.
        """
        self._init_routing(
            model, device, dtype, labels, threshold, label_thresholds, multi_label, prompt, label_descriptions
        )
        check_optional_str(classification_field, "classification_field")
        check_positive_int(batch_size, "batch_size")
        self.classification_field = classification_field
        self.batch_size = batch_size
        component.set_output_types(
            self,
            **dict.fromkeys(self.labels, list[Document]),
            unmatched=list[Document],
            scores=list[dict[str, float]],
        )

    def run(self, documents: list[Document]) -> dict[str, Any]:
        """Route each document to the outputs of the labels it matches, or to `unmatched`.

        :param documents: The documents to route (passed on unmodified).
        :returns: A dictionary with a list of documents under each label that matched any (and under `unmatched`
            if some matched none), and `scores`: one dict label -> score per input document, in input order.
        :raises TypeError: If `documents` is not a list of Documents.
        """
        check_documents(documents, "GLiClassDocumentRouter")
        texts = [document_text(doc, self.classification_field) for doc in documents]
        scored = [i for i, text in enumerate(texts) if text is not None]
        scores: list[dict[str, float]] = [{} for _ in documents]
        if scored:
            rows = self._scores([text for text in texts if text is not None], self.batch_size)  # those at `scored`
            for i, row in zip(scored, rows, strict=True):
                scores[i] = row
        routed: dict[str, list[Document]] = {label: [] for label in [*self.labels, "unmatched"]}
        for doc, row in zip(documents, scores, strict=True):
            for label in self._matched(row) or ["unmatched"]:
                routed[label].append(doc)
        return {**{label: docs for label, docs in routed.items() if docs}, "scores": scores}

    async def run_async(self, documents: list[Document]) -> dict[str, Any]:
        """Asynchronously route the documents (the model runs in a worker thread); same as `run`."""
        return await asyncio.to_thread(self.run, documents=documents)
