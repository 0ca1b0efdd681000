"""Scripted stand-ins at the seams: a scorer for the guards, and an LLM that always gives the same answer.

Tiny random models score arbitrarily, so verdict tests use :class:`ScriptedScorer` (the guards accept any object
with a compatible ``scores()``): ``rule(text, label) -> score`` decides exactly which checks fail. Every call is
recorded with the thread it ran in; ``error`` makes the calls fail as an engine would.

:class:`FixedLLM` is a real LlamaIndex ``CustomLLM`` that answers every prompt with ``answer`` and keeps the prompts
it was given, so a test can see what reached the LLM.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gliclass_guards import testing
from gliclass_guards.testing import overlap_score as overlap  # support: the share of the claim's words in the text
from gliclass_guards.testing import words
from llama_index.core.bridge.pydantic import Field
from llama_index.core.llms import CompletionResponse, CompletionResponseGen, CustomLLM, LLMMetadata
from llama_index.core.llms.callbacks import llm_completion_callback

__all__ = ["HARM_WORDS", "FixedLLM", "ScriptedScorer", "harm", "overlap", "words"]

HARM_WORDS = {"weapons": {"bomb", "explosive", "detonator"}, "hate": {"vermin", "subhuman"}}


def harm(text: str, label: str) -> float:
    """0.9 when the text holds a word of the category (the label's name, before any ': description'), else 0.05."""
    name = label.split(":")[0].strip()
    return 0.9 if words(text) & HARM_WORDS.get(name, set()) else 0.05


@dataclass
class ScriptedScorer(testing.ScriptedScorer):
    """``gliclass_guards.testing``'s scripted scorer with :func:`harm` as its default rule."""

    rule: Callable[[str, str], float] = harm


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
