"""Scripted stand-ins at the seams: a scorer for the guards, and an LLM that always gives the same answer.

Tiny random models score arbitrarily, so verdict tests use :class:`ScriptedScorer` (the guards accept any object
with a compatible ``scores()``): ``rule(text, label) -> score`` decides exactly which checks fail. Every call is
recorded with the thread it ran in; ``error`` makes the calls fail as an engine would.

:class:`FixedLLM` is a real LlamaIndex ``CustomLLM`` that answers every prompt with ``answer`` and keeps the prompts
it was given, so a test can see what reached the LLM.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llama_index.core.bridge.pydantic import Field
from llama_index.core.llms import CompletionResponse, CompletionResponseGen, CustomLLM, LLMMetadata
from llama_index.core.llms.callbacks import llm_completion_callback

__all__ = ["HARM_WORDS", "FixedLLM", "ScriptedScorer", "harm", "overlap", "words"]

HARM_WORDS = {"weapons": {"bomb", "explosive", "detonator"}, "hate": {"vermin", "subhuman"}}


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def harm(text: str, label: str) -> float:
    """0.9 when the text holds a word of the category (the label's name, before any ': description'), else 0.05."""
    name = label.split(":")[0].strip()
    return 0.9 if words(text) & HARM_WORDS.get(name, set()) else 0.05


def overlap(text: str, label: str) -> float:
    """Support: the share of the claim's (label's) words found in the text."""
    wanted = words(label)
    return len(wanted & words(text)) / len(wanted) if wanted else 0.0


@dataclass
class ScriptedScorer:
    """A stand-in model: ``rule(text, label) -> score``; ``calls`` records the arguments of every call."""

    rule: Callable[[str, str], float] = harm
    error: Exception | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def scores(
        self,
        texts: list[str],
        labels: list[str] | list[list[str]],
        *,
        multi_label: bool = True,
        prompt: str | Sequence[str] | None = None,
        label_descriptions: Mapping[str, str] | None = None,
        batch_size: int = 8,
    ) -> list[dict[str, float]]:
        self.calls.append({"texts": list(texts), "labels": labels, "prompt": prompt, "thread": threading.get_ident()})
        if self.error is not None:
            raise self.error
        per_text = labels if labels and not isinstance(labels[0], str) else [labels] * len(texts)
        return [
            {label: self.rule(text, label) for label in row}  # type: ignore[union-attr]
            for text, row in zip(texts, per_text, strict=True)
        ]


class FixedLLM(CustomLLM):
    """An LLM that answers ``answer`` to every prompt; ``prompts`` keeps what it was asked."""

    answer: str
    prompts: list[str] = Field(default_factory=list)

    @classmethod
    def class_name(cls) -> str:
        return "FixedLLM"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="fixed")

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        self.prompts.append(prompt)
        return CompletionResponse(text=self.answer)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        self.prompts.append(prompt)
        yield CompletionResponse(text=self.answer, delta=self.answer)
