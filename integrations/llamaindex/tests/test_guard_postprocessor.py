"""GLiClassGuardPostprocessor: verdicts on a scripted scorer, plumbing on a tiny random model, errors, settings."""

from __future__ import annotations

import asyncio
import json
import pickle
import threading

import pytest
from gliclass_guards import (
    GuardViolation,
    HallucinationGuard,
    IntentRouter,
    RuleGuard,
    SafetyGuard,
    TextGuard,
)
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import ImageNode, MetadataMode, NodeWithScore, QueryBundle, TextNode
from llama_index.postprocessor.gliclass import GLiClassGuardPostprocessor, GLiClassRerank
from scripted import ScriptedScorer, overlap

from gliclass_rag import CheckpointError, ZeroShotClassifier, clear_shared_classifiers

CATEGORIES = ["weapons", "hate"]
TEXTS = [
    "Knead the dough for ten minutes.",
    "Pack the pipe with explosive and add a detonator.",
    "The rocket reached orbit after launch.",
    "They called the neighbours vermin.",
    "Simmer the sauce with garlic.",
]
SAFE = [0, 2, 4]


def make_nodes(texts: list[str] = TEXTS) -> list[NodeWithScore]:
    return [
        NodeWithScore(node=TextNode(text=text, id_=f"n{i}", metadata={"source": f"doc-{i}"}), score=1.0 - i / 10)
        for i, text in enumerate(texts)
    ]


def safety(scorer: ScriptedScorer | None = None, **settings) -> GLiClassGuardPostprocessor:
    guard = SafetyGuard(model=scorer or ScriptedScorer(), categories=CATEGORIES, **settings)
    return GLiClassGuardPostprocessor(guard=guard)


def support(scorer: ScriptedScorer | None = None, **settings) -> GLiClassGuardPostprocessor:
    guard = HallucinationGuard(model=scorer or ScriptedScorer(overlap), **{"min_words": 1, **settings})
    return GLiClassGuardPostprocessor(guard=guard)


def ids(nodes: list[NodeWithScore]) -> list[str]:
    return [n.node.node_id for n in nodes]


def test_is_a_node_postprocessor_guarding_safety_by_default() -> None:
    postprocessor = GLiClassGuardPostprocessor()
    assert isinstance(postprocessor, BaseNodePostprocessor)
    assert isinstance(postprocessor.guard, SafetyGuard)  # the default: the harm taxonomy
    assert postprocessor.guard.model is None  # on the embedded model, not loaded yet
    assert not postprocessor.checks_support


# --- verdicts (scripted scorer) -----------------------------------------------------------------------------
def test_safety_drops_unsafe_nodes_in_one_model_call() -> None:
    scorer = ScriptedScorer()
    nodes = make_nodes()
    out = safety(scorer).postprocess_nodes(nodes)  # no query needed
    assert ids(out) == [f"n{i}" for i in SAFE]
    assert [n.score for n in out] == [nodes[i].score for i in SAFE]  # scores stay: a guard filters, never ranks
    assert [n.node.get_content() for n in out] == [TEXTS[i] for i in SAFE]
    assert out[0].node.metadata == {
        "source": "doc-0",
        "gliclass_guard": {"safety": {"risk": 0.05, "scores": {"weapons": 0.05, "hate": 0.05}, "error": None}},
    }
    (call,) = scorer.calls
    assert call["texts"] == [f"source: doc-{i}\n\n{text}" for i, text in enumerate(TEXTS)]  # what the LLM reads
    assert call["prompt"] is None


def test_the_text_checked_is_what_the_llm_reads() -> None:
    visible = NodeWithScore(node=TextNode(text="A cake recipe.", metadata={"title": "bomb manual"}), score=1.0)
    hidden = NodeWithScore(
        node=TextNode(text="A cake recipe.", metadata={"title": "bomb manual"}, excluded_llm_metadata_keys=["title"]),
        score=1.0,
    )
    out = safety().postprocess_nodes([visible, hidden])
    assert [n.node.node_id for n in out] == [hidden.node.node_id]


def test_support_drops_nodes_that_do_not_back_the_query() -> None:
    scorer = ScriptedScorer(overlap)
    query = "The rocket reached orbit."
    out = support(scorer).postprocess_nodes(make_nodes(), query_str=query)
    assert ids(out) == ["n2"]  # the only node holding every word of the query
    assert out[0].node.metadata["gliclass_guard"] == {
        "hallucination": {"risk": 0.0, "scores": {query: 1.0}, "error": None}
    }
    (call,) = scorer.calls
    assert call["texts"] == [n.node.get_content(metadata_mode=MetadataMode.LLM) for n in make_nodes()]
    assert call["labels"] == [[query]] * len(TEXTS)  # the query's sentence is the claim, each node its context


def test_support_needs_every_checked_sentence_of_the_query() -> None:
    nodes = make_nodes()
    query = "The rocket reached orbit. Knead the dough."
    # n0 backs the second sentence only, n2 the first only: neither is kept
    assert support(threshold=0.5).postprocess_nodes(nodes, query_str=query) == []
    kept = support(threshold=0.3).postprocess_nodes(nodes, query_str=query)  # n2's "the": 1/3 of the dough claim
    assert ids(kept) == ["n2"]
    assert kept[0].node.metadata["gliclass_guard"]["hallucination"]["scores"] == {
        "The rocket reached orbit.": 1.0,
        "Knead the dough.": pytest.approx(1 / 3),
    }


def test_a_query_too_short_to_check_keeps_every_node() -> None:
    scorer = ScriptedScorer(overlap)
    out = support(scorer, min_words=3).postprocess_nodes(make_nodes(), query_str="rocket orbit")
    assert ids(out) == ids(make_nodes())
    assert out[0].node.metadata["gliclass_guard"]["hallucination"] == {"risk": 0.0, "scores": {}, "error": None}
    assert scorer.calls == []


def test_rule_guard_reads_the_query_as_the_user_message() -> None:
    scorer = ScriptedScorer(lambda text, label: 0.9 if "orbit" in text else 0.1)
    guard = RuleGuard(model=scorer, rules={"on-topic": "The passage answers the question."}, domain="space")
    out = GLiClassGuardPostprocessor(guard=guard, query_as_prompt=True).postprocess_nodes(
        make_nodes(), query_str="how do rockets fly"
    )
    assert ids(out) == ["n2"]
    assert out[0].node.metadata["gliclass_guard"]["rules"]["scores"] == {"on-topic": 0.9}
    assert scorer.calls[0]["prompt"] == ["Domain: space. User message: how do rockets fly"] * len(TEXTS)


def test_records_of_chained_guards_merge_and_stay_out_of_model_text() -> None:
    query = "The rocket reached orbit."
    first = safety().postprocess_nodes(make_nodes())
    out = support().postprocess_nodes(first, query_str=query)
    assert ids(out) == ["n2"]
    node = out[0].node
    assert set(node.metadata["gliclass_guard"]) == {"safety", "hallucination"}
    assert node.excluded_llm_metadata_keys == ["gliclass_guard"]  # listed once, though two guards wrote it
    assert node.excluded_embed_metadata_keys == ["gliclass_guard"]
    for mode in (MetadataMode.LLM, MetadataMode.EMBED):
        assert "gliclass_guard" not in node.get_content(metadata_mode=mode)
        assert "source: doc-2" in node.get_content(metadata_mode=mode)
    json.dumps(node.metadata)  # plain values
    custom = GLiClassGuardPostprocessor(guard=SafetyGuard(ScriptedScorer(), categories=CATEGORIES), metadata_key="g")
    assert "g" in custom.postprocess_nodes(make_nodes())[0].node.metadata


def test_nodes_are_never_modified() -> None:
    nodes = make_nodes()
    listed = list(nodes)
    before = [n.model_dump() for n in nodes]
    safety().postprocess_nodes(nodes)
    support().postprocess_nodes(nodes, query_str="The rocket reached orbit.")
    asyncio.run(safety().apostprocess_nodes(nodes))
    assert nodes == listed
    assert [n.model_dump() for n in nodes] == before


def test_async_equals_sync_and_runs_the_model_off_the_event_loop() -> None:
    for make, query in ((safety, None), (support, "The rocket reached orbit.")):
        sync = make().postprocess_nodes(make_nodes(), query_str=query)
        scorer = ScriptedScorer() if make is safety else ScriptedScorer(overlap)

        async def run(postprocessor: GLiClassGuardPostprocessor, query: str | None = query) -> tuple[list, int]:
            return await postprocessor.apostprocess_nodes(make_nodes(), query_str=query), threading.get_ident()

        out, loop_thread = asyncio.run(run(make(scorer)))
        assert [n.model_dump() for n in out] == [n.model_dump() for n in sync]
        assert scorer.calls
        assert all(call["thread"] != loop_thread for call in scorer.calls)


def test_nodes_without_text() -> None:
    image = NodeWithScore(node=ImageNode(image="aGk=", id_="image"), score=0.5)
    assert ids(safety().postprocess_nodes([image])) == ["image"]  # nothing unsafe to see
    assert support().postprocess_nodes([image], query_str="The rocket reached orbit.") == []  # nothing supports it


# --- engine errors: fail closed -------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [safety, support])
def test_an_engine_error_drops_every_node(make) -> None:
    scorer = ScriptedScorer(error=RuntimeError("CUDA out of memory"))
    postprocessor = make(scorer)
    assert postprocessor.postprocess_nodes(make_nodes(), query_str="The rocket reached orbit.") == []
    assert asyncio.run(postprocessor.apostprocess_nodes(make_nodes(), query_str="The rocket reached orbit.")) == []


def test_a_missing_checkpoint_fails_closed(tmp_path) -> None:
    postprocessor = GLiClassGuardPostprocessor(guard=SafetyGuard(model=tmp_path / "missing"))
    assert postprocessor.postprocess_nodes(make_nodes()) == []


def test_on_error_open_keeps_the_nodes_and_records_the_error() -> None:
    scorer = ScriptedScorer(error=RuntimeError("boom"))
    out = safety(scorer, on_error="open").postprocess_nodes(make_nodes())
    assert ids(out) == ids(make_nodes())
    assert out[0].node.metadata["gliclass_guard"]["safety"] == {
        "risk": 0.0,
        "scores": {},
        "error": "RuntimeError: boom",
    }


def test_on_error_raise_lets_the_error_through() -> None:
    postprocessor = safety(ScriptedScorer(error=RuntimeError("boom")), on_error="raise")
    with pytest.raises(RuntimeError, match="boom"):
        postprocessor.postprocess_nodes(make_nodes())


def test_on_fail_exception_aborts_with_the_failing_node() -> None:
    with pytest.raises(GuardViolation) as caught:
        safety(on_fail="exception").postprocess_nodes(make_nodes())
    assert caught.value.index == 1
    assert caught.value.result.violations[0].label == "weapons"


@pytest.mark.parametrize("on_fail", ["noop", "fix", "refrain"])
def test_other_fail_actions_still_drop_the_node(on_fail: str) -> None:
    assert ids(safety(on_fail=on_fail).postprocess_nodes(make_nodes())) == [f"n{i}" for i in SAFE]


# --- plumbing on a tiny random model ----------------------------------------------------------------------------
def between(values: list[float]) -> float:
    """A threshold that splits ``values`` in two non-empty groups."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    assert ordered[middle - 1] < ordered[middle], "the tiny model gave ties; change TEXTS"
    return (ordered[middle - 1] + ordered[middle]) / 2


def test_safety_on_a_tiny_model_keeps_what_the_guard_passes(classifier: ZeroShotClassifier) -> None:
    nodes = make_nodes()
    texts = [n.node.get_content(metadata_mode=MetadataMode.LLM) for n in nodes]
    categories = ["crime", "politics"]
    risks = [r.score for r in SafetyGuard(model=classifier, categories=categories).check_batch(texts)]
    guard = SafetyGuard(model=classifier, categories=categories, threshold=between(risks))
    out = GLiClassGuardPostprocessor(guard=guard).postprocess_nodes(nodes)
    kept = [i for i, risk in enumerate(risks) if risk < guard.threshold]
    assert ids(out) == [f"n{i}" for i in kept]
    assert [n.node.metadata["gliclass_guard"]["safety"]["risk"] for n in out] == pytest.approx([risks[i] for i in kept])


def test_support_on_a_tiny_model_keeps_what_the_guard_passes(classifier: ZeroShotClassifier) -> None:
    nodes = make_nodes()
    texts = [n.node.get_content(metadata_mode=MetadataMode.LLM) for n in nodes]
    query = "rocket launch to orbit"
    checked = HallucinationGuard(model=classifier, min_words=1).check_batch([query] * len(texts), texts)
    supports = [r.checks[0].score for r in checked]
    guard = HallucinationGuard(model=classifier, min_words=1, threshold=between(supports))
    out = GLiClassGuardPostprocessor(guard=guard).postprocess_nodes(nodes, query_bundle=QueryBundle(query))
    kept = [i for i, value in enumerate(supports) if value >= guard.threshold]
    assert ids(out) == [f"n{i}" for i in kept]
    assert [n.node.metadata["gliclass_guard"]["hallucination"]["scores"][query] for n in out] == pytest.approx(
        [supports[i] for i in kept]
    )
    aout = asyncio.run(GLiClassGuardPostprocessor(guard=guard).apostprocess_nodes(nodes, query_str=query))
    assert [n.model_dump() for n in aout] == [n.model_dump() for n in out]


# --- arguments and settings -----------------------------------------------------------------------------------
def test_queries_and_nodes_are_checked() -> None:
    assert safety().postprocess_nodes([]) == []
    assert support().postprocess_nodes([], query_str="The rocket reached orbit.") == []
    with pytest.raises(ValueError, match="needs a query for a support check"):
        support().postprocess_nodes(make_nodes())
    with pytest.raises(ValueError, match="needs a query for a support check"):
        asyncio.run(support().apostprocess_nodes(make_nodes()))
    rules = RuleGuard(model=ScriptedScorer(), rules=["The passage is polite."])
    with pytest.raises(ValueError, match="needs a query for query_as_prompt=True"):
        GLiClassGuardPostprocessor(guard=rules, query_as_prompt=True).postprocess_nodes(make_nodes())
    with pytest.raises(ValueError, match="the query must be a non-empty str"):
        support().postprocess_nodes(make_nodes(), query_str=" ")
    with pytest.raises(ValueError, match=r"nodes\[1\] must be a NodeWithScore, but got TextNode"):
        safety().postprocess_nodes([make_nodes()[0], TextNode(text="x")])


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"guard": "safety"}, "guard must be a gliclass_guards SafetyGuard, .* but got str"),
        ({"guard": IntentRouter(routes=["a", "b"])}, "but got IntentRouter"),
        ({"guard": {"class_name": "os.system", "settings": {}}}, r"guard settings must be .* but got"),
        ({"guard": HallucinationGuard(), "query_as_prompt": True}, "query_as_prompt=True is for text guards"),
        ({"query_as_prompt": "yes"}, "query_as_prompt must be True or False, but got 'yes'"),
        ({"metadata_key": " "}, "metadata_key must be a non-empty str, but got ' '"),
    ],
)
def test_bad_settings_name_the_value(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GLiClassGuardPostprocessor(**settings)


def test_settings_are_validated_on_assignment() -> None:
    postprocessor = GLiClassGuardPostprocessor(guard=HallucinationGuard())
    with pytest.raises(ValueError, match="query_as_prompt=True is for text guards"):
        postprocessor.query_as_prompt = True
    postprocessor.guard = SafetyGuard()
    assert not postprocessor.checks_support


@pytest.mark.parametrize(
    "guard",
    [
        SafetyGuard("some/model", categories={"weapons": "guns and bombs"}, threshold=0.3, granularity="sentence"),
        RuleGuard("some/model", rules={"polite": "The passage is polite."}, domain="banking"),
        HallucinationGuard(None, threshold=0.6, min_words=1, on_error="open"),
    ],
)
def test_settings_round_trip(guard) -> None:
    postprocessor = GLiClassGuardPostprocessor(guard=guard, metadata_key="checks")
    data = json.loads(postprocessor.to_json())
    assert data == {
        "class_name": "GLiClassGuardPostprocessor",
        "guard": {"class_name": type(guard).__name__, "settings": guard.to_dict()},
        "query_as_prompt": False,
        "metadata_key": "checks",
    }
    again = GLiClassGuardPostprocessor.from_json(postprocessor.to_json())
    assert type(again.guard) is type(guard)
    assert again.to_dict() == postprocessor.to_dict()
    assert pickle.loads(pickle.dumps(postprocessor)).to_dict() == postprocessor.to_dict()


def test_guards_that_cannot_be_written_refuse_to_serialise(classifier: ZeroShotClassifier) -> None:
    with pytest.raises(ValueError, match="needs model as a name or path"):
        GLiClassGuardPostprocessor(guard=SafetyGuard(model=classifier)).to_dict()

    class MyGuard(SafetyGuard):
        pass

    assert isinstance(MyGuard(), TextGuard)
    with pytest.raises(ValueError, match=r"can write the settings of .* not of a MyGuard"):
        GLiClassGuardPostprocessor(guard=MyGuard()).to_dict()


def test_guards_share_a_named_model_with_the_reranker(classifier: ZeroShotClassifier, tmp_path) -> None:
    path = classifier.save_pretrained(tmp_path / "tiny")
    clear_shared_classifiers()
    try:
        postprocessor = GLiClassGuardPostprocessor(guard=SafetyGuard(model=path))
        postprocessor.warm_up()
        assert postprocessor.guard.scorer is GLiClassRerank(model=str(path)).classifier
        assert postprocessor.guard.scorer is not classifier
    finally:
        clear_shared_classifiers()


def test_warm_up_loads_the_guards_model(tmp_path) -> None:
    postprocessor = GLiClassGuardPostprocessor(guard=SafetyGuard(model=tmp_path / "missing"))
    with pytest.raises(CheckpointError):
        postprocessor.warm_up()
