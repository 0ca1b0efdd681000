"""Zero-shot routers: one output per label plus `unmatched`, per-label thresholds, multi-label, a `scores` output.

`GLiClassTextRouter` routes one `text: str` (its outputs connect to text inputs such as a text embedder's);
`GLiClassDocumentRouter` is the batch shape: it routes a list of Documents, scored `batch_size` at a time.
Both score every label with independent sigmoid probabilities in one encoder pass per text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from haystack import Document, component, default_from_dict, default_to_dict
from haystack.utils import ComponentDevice
from haystack_integrations.common.gliclass.utils import (
    ModelArg,
    check_documents,
    check_label_descriptions,
    check_label_thresholds,
    check_labels,
    check_model,
    check_positive_int,
    check_probability,
    document_text,
    load_classifier,
    serialize_model,
)

from gliclass_rag import ZeroShotClassifier

RESERVED_OUTPUTS = ("unmatched", "scores")


def _check_routing(
    labels: object,
    threshold: object,
    label_thresholds: object,
    multi_label: object,
    prompt: object,
    label_descriptions: object,
) -> list[str]:
    labels = check_labels(labels, reserved=RESERVED_OUTPUTS)
    check_probability(threshold, "threshold")
    check_label_thresholds(label_thresholds, labels)
    if not isinstance(multi_label, bool):
        msg = f"multi_label must be True or False, but got {multi_label!r}"
        raise TypeError(msg)
    if prompt is not None and not isinstance(prompt, str):
        msg = f"prompt must be a str or None, but got {type(prompt).__name__}: {prompt!r}"
        raise TypeError(msg)
    check_label_descriptions(label_descriptions, labels)
    return labels


def _matched(scores: Mapping[str, float], thresholds: Mapping[str, float], *, multi_label: bool) -> list[str]:
    """Labels whose score reaches their threshold, in label order; single-label keeps the best of them."""
    passed = [label for label, score in scores.items() if score >= thresholds[label]]
    if not multi_label and passed:
        passed = [max(passed, key=scores.__getitem__)]
    return passed


@component
class GLiClassTextRouter:
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
        check_model(model, device, dtype, "GLiClassTextRouter")
        self.labels = _check_routing(labels, threshold, label_thresholds, multi_label, prompt, label_descriptions)
        self.model = model
        self.threshold = threshold
        self.label_thresholds = dict(label_thresholds) if label_thresholds is not None else None
        self.multi_label = multi_label
        self.prompt = prompt
        self.label_descriptions = dict(label_descriptions) if label_descriptions is not None else None
        self.device = device
        self.dtype = dtype
        self._thresholds = {label: float((label_thresholds or {}).get(label, threshold)) for label in self.labels}
        self._classifier: ZeroShotClassifier | None = model if isinstance(model, ZeroShotClassifier) else None
        component.set_output_types(self, **dict.fromkeys(self.labels, str), unmatched=str, scores=dict[str, float])

    def warm_up(self) -> None:
        """Load the model (once; later calls do nothing)."""
        if self._classifier is None:
            self._classifier = load_classifier(self.model, self.device, self.dtype)

    def to_dict(self) -> dict[str, Any]:
        """Serialize the component to a dictionary.

        :returns: The init parameters, with `model` as its name or path.
        :raises SerializationError: If the component was given a loaded `ZeroShotClassifier`.
        """
        return default_to_dict(
            self,
            labels=self.labels,
            model=serialize_model(self.model, "GLiClassTextRouter"),
            threshold=self.threshold,
            label_thresholds=self.label_thresholds,
            multi_label=self.multi_label,
            prompt=self.prompt,
            label_descriptions=self.label_descriptions,
            device=self.device,
            dtype=self.dtype,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GLiClassTextRouter:
        """Deserialize the component from a dictionary made by `to_dict`.

        :param data: The dictionary to deserialize from.
        :returns: The deserialized component.
        """
        return default_from_dict(cls, data)

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
        self.warm_up()
        assert self._classifier is not None
        scores = self._classifier.scores(
            text, self.labels, prompt=self.prompt, label_descriptions=self.label_descriptions
        )
        matched = _matched(scores, self._thresholds, multi_label=self.multi_label)
        routed: dict[str, Any] = dict.fromkeys(matched, text) if matched else {"unmatched": text}
        return {**routed, "scores": scores}

    async def run_async(self, text: str) -> dict[str, Any]:
        """Asynchronously route the text (the model runs in a worker thread); takes and returns the same as `run`.

        :param text: The text to route.
        :returns: A dictionary with the text under each matched label (or under `unmatched`), and `scores`.
        """
        return await asyncio.to_thread(self.run, text=text)


@component
class GLiClassDocumentRouter:
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
        check_model(model, device, dtype, "GLiClassDocumentRouter")
        self.labels = _check_routing(labels, threshold, label_thresholds, multi_label, prompt, label_descriptions)
        if classification_field is not None and not isinstance(classification_field, str):
            msg = f"classification_field must be a str or None, but got {classification_field!r}"
            raise TypeError(msg)
        check_positive_int(batch_size, "batch_size")
        self.model = model
        self.threshold = threshold
        self.label_thresholds = dict(label_thresholds) if label_thresholds is not None else None
        self.multi_label = multi_label
        self.classification_field = classification_field
        self.prompt = prompt
        self.label_descriptions = dict(label_descriptions) if label_descriptions is not None else None
        self.batch_size = batch_size
        self.device = device
        self.dtype = dtype
        self._thresholds = {label: float((label_thresholds or {}).get(label, threshold)) for label in self.labels}
        self._classifier: ZeroShotClassifier | None = model if isinstance(model, ZeroShotClassifier) else None
        component.set_output_types(
            self,
            **dict.fromkeys(self.labels, list[Document]),
            unmatched=list[Document],
            scores=list[dict[str, float]],
        )

    def warm_up(self) -> None:
        """Load the model (once; later calls do nothing)."""
        if self._classifier is None:
            self._classifier = load_classifier(self.model, self.device, self.dtype)

    def to_dict(self) -> dict[str, Any]:
        """Serialize the component to a dictionary.

        :returns: The init parameters, with `model` as its name or path.
        :raises SerializationError: If the component was given a loaded `ZeroShotClassifier`.
        """
        return default_to_dict(
            self,
            labels=self.labels,
            model=serialize_model(self.model, "GLiClassDocumentRouter"),
            threshold=self.threshold,
            label_thresholds=self.label_thresholds,
            multi_label=self.multi_label,
            classification_field=self.classification_field,
            prompt=self.prompt,
            label_descriptions=self.label_descriptions,
            batch_size=self.batch_size,
            device=self.device,
            dtype=self.dtype,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GLiClassDocumentRouter:
        """Deserialize the component from a dictionary made by `to_dict`.

        :param data: The dictionary to deserialize from.
        :returns: The deserialized component.
        """
        return default_from_dict(cls, data)

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
            self.warm_up()
            assert self._classifier is not None
            rows = self._classifier.scores(
                [text for text in texts if text is not None],  # the texts at `scored`
                self.labels,
                prompt=self.prompt,
                label_descriptions=self.label_descriptions,
                batch_size=self.batch_size,
            )
            for i, row in zip(scored, rows, strict=True):
                scores[i] = row
        routed: dict[str, list[Document]] = {label: [] for label in [*self.labels, "unmatched"]}
        for doc, row in zip(documents, scores, strict=True):
            for label in _matched(row, self._thresholds, multi_label=self.multi_label) or ["unmatched"]:
                routed[label].append(doc)
        return {**{label: docs for label, docs in routed.items() if docs}, "scores": scores}

    async def run_async(self, documents: list[Document]) -> dict[str, Any]:
        """Asynchronously route the documents (the model runs in a worker thread); same as `run`.

        :param documents: The documents to route (passed on unmodified).
        :returns: A dictionary with the routed documents per label (and `unmatched`), and `scores`.
        """
        return await asyncio.to_thread(self.run, documents=documents)
