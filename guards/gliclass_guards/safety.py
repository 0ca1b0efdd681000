"""SafetyGuard: harm categories as labels, one model pass per text, a threshold per category.

Recipe: each category is a label (with its description, see ``descriptions``) scored against the text with
independent sigmoid scores; a category is violated when its score reaches its threshold; the risk is the highest
category score. Prompts and responses are both texts; a response is checked with the user message it answers
passed as GLiClass's ``prompt`` (``prompt_template``), the input slot trained models read as the task's context,
separate from the text for uni-encoders (a bi-encoder reads it as a prefix of the text, so a harmful question can
raise the scores of a refusal; pass no prompt to score the response alone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ._validation import check_choice, check_probability, check_thresholds, described_names
from .actions import OnFail
from .base import DEFAULT_REFUSAL, DescriptionMode, ModelArg, OnError, TextGuard
from .errors import GuardConfigError
from .results import Check, GuardResult, Violation
from .taxonomy import DEFAULT_CATEGORIES
from .text import TextPiece, split_sentences

__all__ = ["DEFAULT_PROMPT_TEMPLATE", "Granularity", "SafetyGuard"]

Granularity = Literal["text", "sentence"]
DEFAULT_PROMPT_TEMPLATE = "Classify the assistant's reply to this user message: {prompt}"


class SafetyGuard(TextGuard):
    """Flags texts that fall into harm categories (default: the MLCommons / Llama Guard taxonomy, prompt
    injection and jailbreak; see :mod:`gliclass_guards.taxonomy`).

    Args:
        model: a checkpoint name or path, a loaded ZeroShotClassifier, or None (the embedded default model).
        categories: a dict name -> description (None or "" for none) or a list of names; default the taxonomy.
        threshold: the score at which a category is violated, for categories ``thresholds`` does not name.
            Defaults are calibrated for the embedded default model; other models need their own.
        thresholds: per-category thresholds.
        descriptions: where descriptions go: ``"auto"`` (beside the text for uni-encoders, inside the label for
            bi-encoders), ``"text"``, ``"label"`` or ``"off"``.
        granularity: ``"text"`` scores the whole text (violation spans cover it); ``"sentence"`` scores each
            sentence, so violations point at sentences and ``fix`` removes only those.
        prompt_template: how a response's user message becomes GLiClass's prompt; must contain ``{prompt}``.
        on_fail, on_error, refusal, redaction, device, dtype, batch_size: see :class:`gliclass_guards.base.Guard`.
    """

    kind = "safety"

    def __init__(
        self,
        model: ModelArg = None,
        *,
        categories: Mapping[str, str | None] | Sequence[str] | None = None,
        threshold: float = 0.5,
        thresholds: Mapping[str, float] | None = None,
        descriptions: DescriptionMode = "auto",
        granularity: Granularity = "text",
        prompt_template: str = DEFAULT_PROMPT_TEMPLATE,
        on_fail: OnFail = "noop",
        on_error: OnError = "closed",
        refusal: str = DEFAULT_REFUSAL,
        redaction: str = "",
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int = 8,
    ) -> None:
        super().__init__(
            model, on_fail=on_fail, on_error=on_error, refusal=refusal, redaction=redaction, device=device,
            dtype=dtype, batch_size=batch_size,
        )  # fmt: skip
        names, described = described_names("categories", DEFAULT_CATEGORIES if categories is None else categories)
        self._names = names
        self._descriptions = described
        self.threshold = check_probability("threshold", threshold)
        self.thresholds = check_thresholds("thresholds", thresholds, names)
        self.descriptions: DescriptionMode = check_choice(
            "descriptions", descriptions, ("auto", "text", "label", "off")
        )  # type: ignore[assignment]
        self.granularity: Granularity = check_choice("granularity", granularity, ("text", "sentence"))  # type: ignore[assignment]
        if not isinstance(prompt_template, str) or "{prompt}" not in prompt_template:
            raise GuardConfigError(
                f"prompt_template must be a str containing '{{prompt}}', but got {prompt_template!r}"
            )
        self.prompt_template = prompt_template

    @property
    def categories(self) -> dict[str, str | None]:
        """The categories with their descriptions (a copy; None where a category has none)."""
        return {name: self._descriptions.get(name) for name in self._names}

    def threshold_for(self, category: str) -> float:
        """The threshold a category's score must reach to be violated."""
        if category not in self._names:
            raise KeyError(category)
        return self.thresholds.get(category, self.threshold)

    def _settings(self) -> dict[str, Any]:
        return {
            "categories": self.categories,
            "threshold": self.threshold,
            "thresholds": dict(self.thresholds),
            "descriptions": self.descriptions,
            "granularity": self.granularity,
            "prompt_template": self.prompt_template,
        }

    def _units(self, text: str) -> list[TextPiece]:
        if self.granularity == "sentence":
            return split_sentences(text)
        stripped = text.strip()
        if not stripped:
            return []
        start = text.index(stripped)
        return [TextPiece(start, start + len(stripped), stripped)]

    def _evaluate(self, texts: list[str], prompts: list[str | None]) -> list[GuardResult]:
        def compute() -> list[GuardResult]:
            units = [self._units(text) for text in texts]
            flat = [(i, piece) for i, pieces in enumerate(units) for piece in pieces]
            if not flat:
                return [self._result(text, []) for text in texts]
            labels, passed_descriptions, to_name = self._labels(self._names, self._descriptions, self.descriptions)
            asked = [prompts[i] for i, _ in flat]
            prompt = None
            if any(asked):
                prompt = [self.prompt_template.replace("{prompt}", p) if p else "" for p in asked]
            rows = self._model_scores(
                [piece.text for _, piece in flat], labels, prompt=prompt, label_descriptions=passed_descriptions
            )
            checks: list[list[Check]] = [[] for _ in texts]
            for (i, piece), row in zip(flat, rows, strict=True):
                for label in labels:
                    name, score = to_name[label], float(row[label])
                    limit = self.threshold_for(name)
                    checks[i].append(Check(name, score, score, limit, score < limit, (piece.start, piece.end)))
            return [self._result(text, found) for text, found in zip(texts, checks, strict=True)]

        return self._guarded(texts, compute)

    def _result(self, text: str, checks: list[Check]) -> GuardResult:
        violations = [
            Violation(
                c.label,
                c.score,
                c.span,
                f"{c.label} scored {c.score:.3f}, at or above its threshold {c.threshold:.2f}",
                text[c.span[0] : c.span[1]] if c.span else "",
            )
            for c in checks
            if not c.passed
        ]
        violations.sort(key=lambda v: (v.span or (0, 0))[0])
        return GuardResult(
            self.kind,
            text,
            passed=not violations,
            score=max((c.risk for c in checks), default=0.0),
            violations=tuple(violations),
            checks=tuple(checks),
        )
