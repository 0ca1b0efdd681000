"""GLiClassDocumentClassifier: zero-shot labels into `meta["classification"]`, every label in one encoder pass."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from haystack import Document, component
from haystack.utils import ComponentDevice
from haystack_integrations.common.gliclass.utils import (
    ModelArg,
    ModelComponent,
    check_bool,
    check_documents,
    check_label_descriptions,
    check_labels,
    check_optional_str,
    check_positive_int,
    document_text,
)


@component
class GLiClassDocumentClassifier(ModelComponent):
    """Classifies Documents against labels given at init and writes the result into their metadata.

    Each returned document is a copy with `meta["classification"] = {"label": best label, "score": its score,
    "details": {label: score, ...}}` (every label, in label order); the input documents are not modified.
    With `multi_label=False` (the default) the scores are a softmax over the labels (they sum to 1); with `True`,
    independent sigmoid probabilities.

    Usage example:
    ```python
    from haystack import Document
    from haystack_integrations.components.classifiers.gliclass import GLiClassDocumentClassifier

    classifier = GLiClassDocumentClassifier(labels=["positive", "negative"])
    result = classifier.run(documents=[Document(content="I love this phone")])
    print(result["documents"][0].meta["classification"]["label"])
    # positive
    ```
    """

    _serialized = ("labels", "multi_label", "classification_field", "prompt", "label_descriptions", "batch_size")

    def __init__(
        self,
        labels: list[str],
        model: ModelArg = None,
        *,
        multi_label: bool = False,
        classification_field: str | None = None,
        prompt: str | None = None,
        label_descriptions: dict[str, str] | None = None,
        batch_size: int = 8,
        device: ComponentDevice | None = None,
        dtype: str | None = None,
    ) -> None:
        """Create a GLiClassDocumentClassifier; the model is loaded by `warm_up()` (or the first `run`).

        :param labels: The labels to classify into (non-empty, unique).
        :param model: A GLiClass checkpoint directory or hub id, `None` for the embedded default model, or a loaded
            `ZeroShotClassifier`. Components given the same name or path share one model in memory; a loaded
            classifier is used as is but cannot be serialised (`to_dict` raises `SerializationError`).
        :param multi_label: `False`: softmax scores over the labels; `True`: independent sigmoid scores.
        :param classification_field: The meta field holding the text to classify; `None`: the content.
        :param prompt: An instruction shown to the model with the labels (for example the task).
        :param label_descriptions: Optional descriptions of some labels, shown to the model.
        :param batch_size: How many documents go through the model at once.
        :param device: Where to load the model (`None`: a GPU when there is one); not with a loaded classifier.
        :param dtype: `"float32"`, `"bfloat16"` or `"float16"`; not with a loaded classifier.
        :raises ValueError: If labels are empty or repeated, or `batch_size` is below 1.
        :raises TypeError: If an argument has the wrong type.
        """
        self._init_model(model, device, dtype)
        labels = check_labels(labels)
        check_bool(multi_label, "multi_label")
        check_optional_str(classification_field, "classification_field")
        check_optional_str(prompt, "prompt")
        check_label_descriptions(label_descriptions, labels)
        check_positive_int(batch_size, "batch_size")
        self.labels = labels
        self.multi_label = multi_label
        self.classification_field = classification_field
        self.prompt = prompt
        self.label_descriptions = dict(label_descriptions) if label_descriptions is not None else None
        self.batch_size = batch_size

    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document]) -> dict[str, list[Document]]:
        """Classify the documents; returns copies with `meta["classification"]` set.

        :param documents: The documents to classify (not modified).
        :returns: A dictionary with `documents`: copies of the inputs, in input order, each with
            `meta["classification"] = {"label", "score", "details"}`.
        :raises TypeError: If `documents` is not a list of Documents.
        :raises ValueError: If a document has no text to classify (no content, or no `classification_field`).
        """
        check_documents(documents, "GLiClassDocumentClassifier")
        if not documents:
            return {"documents": []}
        texts = [document_text(doc, self.classification_field) for doc in documents]
        missing = [doc.id for doc, text in zip(documents, texts, strict=True) if text is None]
        if missing:
            where = "content" if self.classification_field is None else f"meta[{self.classification_field!r}]"
            msg = f"GLiClassDocumentClassifier needs text in {where}; these documents have none: {missing}"
            raise ValueError(msg)

        rows = self._loaded().scores(
            [text for text in texts if text is not None],  # all of them: None raised above
            self.labels,
            multi_label=self.multi_label,
            prompt=self.prompt,
            label_descriptions=self.label_descriptions,
            batch_size=self.batch_size,
        )
        classified = []
        for doc, details in zip(documents, rows, strict=True):
            label = max(details, key=details.__getitem__)
            classification = {"label": label, "score": details[label], "details": details}
            classified.append(replace(doc, meta={**doc.meta, "classification": classification}))
        return {"documents": classified}

    @component.output_types(documents=list[Document])
    async def run_async(self, documents: list[Document]) -> dict[str, list[Document]]:
        """Asynchronously classify the documents (the model runs in a worker thread); same as `run`."""
        return await asyncio.to_thread(self.run, documents=documents)
