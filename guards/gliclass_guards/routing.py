"""IntentRouter: a query to one route (top-1) or several (multi-label), with a fallback when none fits.

Every route is a label (with its description, placed as ``descriptions`` says) scored in one pass with independent
sigmoid scores. Top-1 takes the best route, the argmax (the same route a softmax over the routes would pick), and
keeps it when its score reaches its threshold; multi-label keeps every route that reaches its threshold, best
first. When nothing does, the query goes to the fallback route. Thresholds compare independent scores, so "nothing
clears" means the query fits no route (out of scope), not that two routes are close.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ._validation import (
    check_choice,
    check_optional_str,
    check_probability,
    check_text,
    check_texts,
    check_thresholds,
    described_names,
)
from .base import DescriptionMode, ModelArg, ModelUser, _EngineFailure, describe_error
from .errors import GuardConfigError
from .results import RouteResult

__all__ = ["IntentRouter", "RouterOnError"]

RouterOnError = Literal["fallback", "raise"]


class IntentRouter(ModelUser):
    """Routes queries to intents.

    Args:
        routes: a list of route names, or a dict name -> description (None or "" for none).
        multi_label: False (default): at most one route, the best; True: every route reaching its threshold.
        threshold: the score a route needs, for routes ``thresholds`` does not name (0.0: top-1 always routes).
            Calibrated for the embedded default model; another model needs its own.
        thresholds: per-route thresholds.
        fallback: the route for queries no route fits (None: return no route).
        descriptions: where descriptions go (``"auto"``, ``"text"``, ``"label"``, ``"off"``; see SafetyGuard).
        prompt: an optional GLiClass prompt ("Which department should answer this request?").
        on_error: ``"fallback"`` (the engine failed: route to the fallback, error in ``result.error``) or
            ``"raise"``.
        device, dtype, batch_size: see :class:`gliclass_guards.base.ModelUser`.
    """

    kind = "router"

    def __init__(
        self,
        model: ModelArg = None,
        *,
        routes: Sequence[str] | Mapping[str, str | None],
        multi_label: bool = False,
        threshold: float = 0.5,
        thresholds: Mapping[str, float] | None = None,
        fallback: str | None = "fallback",
        descriptions: DescriptionMode = "auto",
        prompt: str | None = None,
        on_error: RouterOnError = "fallback",
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int = 8,
    ) -> None:
        super().__init__(model, device=device, dtype=dtype, batch_size=batch_size)
        self._names, self._descriptions = described_names("routes", routes)
        if not isinstance(multi_label, bool):
            raise GuardConfigError(f"multi_label must be True or False, but got {multi_label!r}")
        self.multi_label = multi_label
        self.threshold = check_probability("threshold", threshold)
        self.thresholds = check_thresholds("thresholds", thresholds, self._names)
        self.fallback = check_optional_str("fallback", fallback)
        if self.fallback is not None and (not self.fallback.strip() or self.fallback in self._names):
            raise GuardConfigError(f"fallback must be a non-empty name that is not a route, but got {fallback!r}")
        self.descriptions: DescriptionMode = check_choice(
            "descriptions", descriptions, ("auto", "text", "label", "off")
        )  # type: ignore[assignment]
        self.prompt = check_optional_str("prompt", prompt)
        self.on_error: RouterOnError = check_choice("on_error", on_error, ("fallback", "raise"))  # type: ignore[assignment]

    @property
    def routes(self) -> dict[str, str | None]:
        """The routes with their descriptions (a copy; None where a route has none)."""
        return {name: self._descriptions.get(name) for name in self._names}

    def _settings(self) -> dict[str, Any]:
        return {
            "routes": self.routes,
            "multi_label": self.multi_label,
            "threshold": self.threshold,
            "thresholds": dict(self.thresholds),
            "fallback": self.fallback,
            "descriptions": self.descriptions,
            "prompt": self.prompt,
            "on_error": self.on_error,
        }

    def route(self, query: str) -> RouteResult:
        """The route(s) for one query."""
        return self.route_batch([check_text("query", query)])[0]

    def route_batch(self, queries: Sequence[str]) -> list[RouteResult]:
        """The route(s) for many queries, in one model call."""
        items = check_texts("queries", queries)
        todo = [i for i, query in enumerate(items) if query.strip()]
        results = [self._fallback(query) for query in items]
        if not todo:
            return results
        try:
            labels, passed_descriptions, to_name = self._labels(self._names, self._descriptions, self.descriptions)
            rows = self._model_scores(
                [items[i] for i in todo], labels, prompt=self.prompt, label_descriptions=passed_descriptions
            )
        except _EngineFailure as failure:
            if self.on_error == "raise":
                raise failure.error from None
            return [self._fallback(query, describe_error(failure.error)) for query in items]
        for i, row in zip(todo, rows, strict=True):
            scores = tuple((to_name[label], float(row[label])) for label in labels)
            results[i] = self._choose(items[i], scores)
        return results

    async def aroute(self, query: str) -> RouteResult:
        """:meth:`route` in a worker thread."""
        return await asyncio.to_thread(self.route, query)

    async def aroute_batch(self, queries: Sequence[str]) -> list[RouteResult]:
        """:meth:`route_batch` in a worker thread."""
        return await asyncio.to_thread(self.route_batch, queries)

    def _fallback(self, query: str, error: str | None = None) -> RouteResult:
        routes = (self.fallback,) if self.fallback is not None else ()
        return RouteResult(query, routes, (), fallback=True, error=error)

    def _choose(self, query: str, scores: tuple[tuple[str, float], ...]) -> RouteResult:
        ranked = sorted(scores, key=lambda pair: -pair[1])
        if not self.multi_label:
            ranked = ranked[:1]
        chosen = tuple(name for name, score in ranked if score >= self.thresholds.get(name, self.threshold))
        if chosen:
            return RouteResult(query, chosen, scores)
        return RouteResult(query, (self.fallback,) if self.fallback is not None else (), scores, fallback=True)
