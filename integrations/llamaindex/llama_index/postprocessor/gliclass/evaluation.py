"""GLiClassFaithfulnessEvaluator: is a response supported by its contexts? A continuous score, no LLM."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gliclass_guards import GuardResult, HallucinationGuard
from llama_index.core.evaluation import BaseEvaluator, EvaluationResult
from llama_index.core.prompts.mixin import PromptDictType

from gliclass_rag import InvalidInputError

__all__ = ["GLiClassFaithfulnessEvaluator"]


class GLiClassFaithfulnessEvaluator(BaseEvaluator):
    """Faithfulness of a response to its contexts, scored by a :class:`~gliclass_guards.HallucinationGuard`.

    A drop-in for LlamaIndex's ``FaithfulnessEvaluator`` (same inputs: the response and the context strings; the
    query is recorded, not scored) without an LLM call: the response is split into sentences, each sentence is
    scored as a claim against the contexts (the best of their windows), and

    - ``score`` is the support of the least supported sentence, in [0, 1] (continuous, where the peer gives 0 or
      1); 1.0 when the response has no sentence long enough to check (see the guard's ``min_words``);
    - ``passing`` is True when every checked sentence reaches the guard's threshold, i.e. ``score >= threshold``;
    - ``feedback`` lists the unsupported sentences with their support.

    Args:
        guard: The :class:`~gliclass_guards.HallucinationGuard` to use (its model, ``threshold``, windows,
            ``min_words``, ``on_error``); default ``HallucinationGuard()`` on the embedded model. Its
            ``on_fail="exception"`` makes a failing response raise :class:`~gliclass_guards.GuardViolation` (the
            peer's ``raise_error=True``); other fail actions do not change the evaluation.

    When the engine fails, a guard with ``on_error="closed"`` (its default) fails the response (``passing=False``,
    ``score=0.0``); the result is also marked ``invalid_result=True`` with the error in ``invalid_reason``.
    ``evaluate`` runs in the calling thread (it also works inside a running event loop); ``aevaluate`` runs the
    model in a worker thread. ``evaluate_response`` / ``aevaluate_response`` take a query engine's ``Response``
    and use its source nodes as the contexts.
    """

    def __init__(self, guard: HallucinationGuard | None = None) -> None:
        if guard is None:
            guard = HallucinationGuard()
        elif not isinstance(guard, HallucinationGuard):
            msg = f"guard must be a gliclass_guards HallucinationGuard or None, but got {type(guard).__name__}"
            raise InvalidInputError(msg)
        self._guard = guard

    @property
    def guard(self) -> HallucinationGuard:
        """The guard that scores responses (call ``guard.check`` for the full :class:`GuardResult`)."""
        return self._guard

    def warm_up(self) -> None:
        """Load the guard's model now rather than on the first evaluation (errors surface here)."""
        self._guard.warm_up()

    def _get_prompts(self) -> PromptDictType:
        return {}  # no LLM, no prompts

    def _update_prompts(self, prompts: PromptDictType) -> None:
        pass

    def evaluate(
        self,
        query: str | None = None,
        response: str | None = None,
        contexts: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> EvaluationResult:
        """Evaluate ``response`` against ``contexts`` (extra keyword arguments are accepted and unused)."""
        answer, passages = _inputs(response, contexts)
        return _evaluation(query, answer, passages, self._guard.check(answer, passages))

    async def aevaluate(
        self,
        query: str | None = None,
        response: str | None = None,
        contexts: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> EvaluationResult:
        """:meth:`evaluate` with the model in a worker thread."""
        answer, passages = _inputs(response, contexts)
        return _evaluation(query, answer, passages, await self._guard.acheck(answer, passages))

    def __repr__(self) -> str:
        return f"GLiClassFaithfulnessEvaluator(guard={self._guard!r}, threshold={self._guard.threshold})"


def _inputs(response: object, contexts: object) -> tuple[str, list[str]]:
    if response is None or contexts is None:
        raise InvalidInputError("contexts and response must be provided")
    if not isinstance(response, str):
        raise InvalidInputError(f"response must be a str, but got {type(response).__name__}")
    if isinstance(contexts, str) or not isinstance(contexts, Sequence):
        raise InvalidInputError(f"contexts must be a list of str, but got {type(contexts).__name__}")
    for index, context in enumerate(contexts):
        if not isinstance(context, str):
            raise InvalidInputError(f"contexts[{index}] must be a str, but got {type(context).__name__}")
    return response, list(contexts)


def _evaluation(query: str | None, response: str, contexts: list[str], result: GuardResult) -> EvaluationResult:
    # the least support of a checked sentence; with no sentence checked, 1 - risk (1.0, or 0.0 if failed closed)
    score = min((check.score for check in result.checks), default=1.0 - result.score)
    return EvaluationResult(
        query=query,
        response=response,
        contexts=contexts,
        passing=result.passed,
        score=score,
        feedback=_feedback(result, score),
        invalid_result=result.error is not None,
        invalid_reason=None if result.error is None else f"the GLiClass engine failed: {result.error}",
    )


def _feedback(result: GuardResult, score: float) -> str:
    if result.error is not None:
        verdict = "passes (the guard fails open)" if result.passed else "fails (the guard fails closed)"
        return f"The faithfulness check could not run ({result.error}); the response {verdict}, score {score:.3f}."
    checks = result.checks
    if not checks:
        return "No sentence of the response is long enough to check; score 1.000."
    threshold = checks[0].threshold
    unsupported = [check for check in checks if not check.passed]
    head = (
        f"{len(checks) - len(unsupported)} of {len(checks)} sentences supported by the contexts "
        f"(threshold {threshold:.2f}); score {score:.3f}, the support of the least supported sentence."
    )
    if not unsupported:
        return head
    lines = [f"- {check.score:.3f}: {check.label}" for check in unsupported]
    return "\n".join([head, "Unsupported sentences (support: sentence):", *lines])
