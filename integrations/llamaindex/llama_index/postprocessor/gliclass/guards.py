"""GLiClassGuardPostprocessor: drop retrieved nodes that fail a gliclass-guards check before an LLM reads them.

Two kinds of check, picked by the guard given:

- a text guard (:class:`~gliclass_guards.SafetyGuard`, :class:`~gliclass_guards.RuleGuard`) checks each node's text:
  unsafe nodes, or nodes breaking a rule, are dropped. The query is not needed (``query_as_prompt=True`` passes it
  as the guard's prompt, which a RuleGuard reads as the user message: "The passage answers the user's question").
- a :class:`~gliclass_guards.HallucinationGuard` checks the *query* against each node: the node is the context,
  each sentence of the query a claim. A node is **unsupported** when some checked sentence of the query scores
  below the guard's threshold on it, i.e. when the node does not back the query; unsupported nodes are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from gliclass_guards import Guard, GuardResult, HallucinationGuard, RuleGuard, SafetyGuard, TextGuard
from llama_index.core.bridge.pydantic import (
    ConfigDict,
    Field,
    WithJsonSchema,
    field_serializer,
    field_validator,
    model_validator,
)
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle

from gliclass_rag import InvalidInputError

from ._model import check_bool, check_nodes, check_query

__all__ = ["GUARD_METADATA_KEY", "GLiClassGuardPostprocessor"]

dispatcher = get_dispatcher(__name__)

GUARD_METADATA_KEY = "gliclass_guard"

# the guards whose settings round-trip through to_dict / from_dict, by the name written in the settings
_GUARD_TYPES: dict[str, type[Guard]] = {cls.__name__: cls for cls in (SafetyGuard, RuleGuard, HallucinationGuard)}


class GLiClassGuardPostprocessor(BaseNodePostprocessor):
    """Drop the nodes that fail a guard; keep the others, in order, with the guard's scores in their metadata.

    Args:
        guard: A :class:`~gliclass_guards.SafetyGuard` (default: the harm taxonomy on the embedded model),
            a :class:`~gliclass_guards.RuleGuard` (or another text guard), or a
            :class:`~gliclass_guards.HallucinationGuard` (drop the nodes that do not support the query).
            The guard's model, thresholds and ``on_error`` apply as configured.
        query_as_prompt: Text guards only: pass the query as the guard's ``prompt`` (the user message).
        metadata_key: Where each kept node's copy records the check (excluded from embedding and LLM text).

    The text checked is what the LLM would read: ``node.node.get_content(metadata_mode=MetadataMode.LLM)``. All
    nodes are checked in one model call. A node is dropped when its check fails, whatever the guard's ``on_fail``,
    except that ``on_fail="exception"`` raises :class:`~gliclass_guards.GuardViolation` instead (``.index`` is the
    node's position). When the engine fails (a missing checkpoint, an overflow), a guard with ``on_error="closed"``
    (its default) fails every check, so every node is dropped; ``"open"`` keeps them and records the error;
    ``"raise"`` lets the error through.

    Kept nodes are new ``NodeWithScore`` objects around shallow copies of the nodes (``score`` unchanged), whose
    metadata gains ``metadata[metadata_key][guard.kind] = {"risk": ..., "scores": {...}, "error": ...}``: the
    result's risk in [0, 1], each checked label's score (harm categories, rules, or the query's sentences with
    their support), and the engine error or None. The nodes given are never modified.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, validate_assignment=True)

    guard: Annotated[Guard, WithJsonSchema({"type": "object"})] = Field(
        default_factory=SafetyGuard,
        description="A gliclass-guards SafetyGuard, RuleGuard or HallucinationGuard (default: SafetyGuard()).",
    )
    query_as_prompt: bool = Field(
        default=False, description="Text guards: pass the query as the guard's prompt (the user message)."
    )
    metadata_key: str = Field(
        default=GUARD_METADATA_KEY, description="Metadata key under which kept nodes record the guard's scores."
    )

    # --- settings ------------------------------------------------------------------------------------------
    @field_validator("guard", mode="before")
    @classmethod
    def _check_guard(cls, value: Any) -> Guard:
        if isinstance(value, Mapping):
            return _guard_from_dict(value)
        if isinstance(value, (TextGuard, HallucinationGuard)):
            return value
        msg = (
            "guard must be a gliclass_guards SafetyGuard, RuleGuard (or another TextGuard) or HallucinationGuard, "
            f"but got {type(value).__name__}"
        )
        raise InvalidInputError(msg)

    @field_validator("query_as_prompt", mode="before")
    @classmethod
    def _check_query_as_prompt(cls, value: Any) -> bool:
        return check_bool(value, "query_as_prompt")

    @field_validator("metadata_key", mode="before")
    @classmethod
    def _check_metadata_key(cls, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise InvalidInputError(f"metadata_key must be a non-empty str, but got {value!r}")
        return value

    @model_validator(mode="after")
    def _check_combination(self) -> GLiClassGuardPostprocessor:
        if self.query_as_prompt and isinstance(self.guard, HallucinationGuard):
            msg = (
                "query_as_prompt=True is for text guards: a HallucinationGuard always checks the query itself "
                "(its sentences as claims, each node as their context)"
            )
            raise InvalidInputError(msg)
        return self

    @field_serializer("guard")
    def _serialize_guard(self, guard: Guard) -> dict[str, Any]:
        name = type(guard).__name__
        if _GUARD_TYPES.get(name) is not type(guard):
            msg = (
                f"{self.class_name()} can write the settings of {sorted(_GUARD_TYPES)} only, not of a {name}; "
                "build the postprocessor in code to use it"
            )
            raise InvalidInputError(msg)
        return {"class_name": name, "settings": guard.to_dict()}

    @classmethod
    def class_name(cls) -> str:
        return "GLiClassGuardPostprocessor"

    def warm_up(self) -> None:
        """Load the guard's model now rather than on the first query (errors surface here)."""
        self.guard.warm_up()

    @property
    def checks_support(self) -> bool:
        """True when nodes are checked for support of the query (a HallucinationGuard), False for text guards."""
        return isinstance(self.guard, HallucinationGuard)

    # --- postprocessing ------------------------------------------------------------------------------------
    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        check_nodes(nodes)
        query = self._query(query_bundle)
        if not nodes:
            return []
        texts = _texts(nodes)
        if isinstance(self.guard, HallucinationGuard):
            assert query is not None
            results = self.guard.check_batch([query] * len(texts), texts)  # each node is one context passage
        else:
            assert isinstance(self.guard, TextGuard)
            results = self.guard.check_batch(texts, prompts=query if self.query_as_prompt else None)
        return self._kept(nodes, results)

    @dispatcher.span
    async def _apostprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        check_nodes(nodes)
        query = self._query(query_bundle)
        if not nodes:
            return []
        texts = _texts(nodes)
        # the guards' async forms run the model in a worker thread: the event loop stays free
        if isinstance(self.guard, HallucinationGuard):
            assert query is not None
            results = await self.guard.acheck_batch([query] * len(texts), texts)
        else:
            assert isinstance(self.guard, TextGuard)
            results = await self.guard.acheck_batch(texts, prompts=query if self.query_as_prompt else None)
        return self._kept(nodes, results)

    def _query(self, query_bundle: QueryBundle | None) -> str | None:
        """The query text when the check needs it (support checks, ``query_as_prompt``), else None."""
        if not (self.checks_support or self.query_as_prompt):
            return None
        if query_bundle is None:
            why = "a support check" if self.checks_support else "query_as_prompt=True"
            msg = f"{self.class_name()} needs a query for {why}: pass query_bundle or query_str to postprocess_nodes"
            raise InvalidInputError(msg)
        if not isinstance(query_bundle, QueryBundle):
            raise InvalidInputError(f"query_bundle must be a QueryBundle, but got {type(query_bundle).__name__}")
        return check_query(query_bundle.query_str)

    def _kept(self, nodes: Sequence[NodeWithScore], results: Sequence[GuardResult]) -> list[NodeWithScore]:
        return [self._annotated(node, result) for node, result in zip(nodes, results, strict=True) if result.passed]

    def _annotated(self, original: NodeWithScore, result: GuardResult) -> NodeWithScore:
        node = original.node
        key = self.metadata_key
        metadata = dict(node.metadata)
        previous = metadata.get(key)
        records = dict(previous) if isinstance(previous, Mapping) else {}  # earlier guards' records stay
        records[result.guard] = {"risk": result.score, "scores": result.scores, "error": result.error}
        metadata[key] = records
        update: dict[str, Any] = {"metadata": metadata}
        for field in ("excluded_embed_metadata_keys", "excluded_llm_metadata_keys"):
            excluded = list(getattr(node, field))
            update[field] = excluded if key in excluded else [*excluded, key]
        return original.model_copy(update={"node": node.model_copy(update=update)})


def _guard_from_dict(data: Mapping[str, Any]) -> Guard:
    """A guard from the ``{"class_name": ..., "settings": {...}}`` that the postprocessor's settings hold."""
    name = data.get("class_name")
    if set(data) != {"class_name", "settings"} or name not in _GUARD_TYPES:
        msg = (
            'guard settings must be {"class_name": one of ' + f"{sorted(_GUARD_TYPES)}" + ', "settings": {...}}, '
            f"but got {dict(data)!r}"
        )
        raise InvalidInputError(msg)
    return _GUARD_TYPES[name].from_dict(data["settings"])


def _texts(nodes: Sequence[NodeWithScore]) -> list[str]:
    return [node.node.get_content(metadata_mode=MetadataMode.LLM) for node in nodes]
