"""Real LlamaIndex pipelines, offline: a VectorStoreIndex query engine with the reranker, RouterQueryEngine and
RouterRetriever with the selector, one model shared by both. MockEmbedding and MockLLM are LlamaIndex's own classes;
the tiny random model decides, so expectations are computed from what that model says."""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core import Document, MockEmbedding, VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RouterQueryEngine
from llama_index.core.retrievers import RouterRetriever
from llama_index.core.schema import MetadataMode
from llama_index.core.tools import QueryEngineTool, RetrieverTool
from llama_index.postprocessor.gliclass import GLiClassRerank, GLiClassSelector

from gliclass_rag import ZeroShotClassifier, clear_shared_classifiers

EMBED = MockEmbedding(embed_dim=8)  # every text embeds alike: retrieval order is arbitrary, reranking decides
SPORTS = ["The team won the final match.", "The player scored two goals.", "Our team lost the game at home."]
SPACE = ["The rocket reached orbit.", "Scientists found a new planet.", "The moon is near the earth."]
DESCRIPTIONS = ["news about sports, the team and the match", "science: planets, stars and space"]
QUERIES = [
    "who won the match",
    "rocket launch to orbit",
    "a new planet",
    "the player scored",
    "stocks fell today",
    "the doctor said",
    "music and film",
    "the team and the player",
]


def index_of(texts: list[str]) -> VectorStoreIndex:
    return VectorStoreIndex.from_documents([Document(text=text) for text in texts], embed_model=EMBED)


@pytest.fixture(scope="module")
def indexes() -> tuple[VectorStoreIndex, VectorStoreIndex]:
    return index_of(SPORTS), index_of(SPACE)


def routed(classifier: ZeroShotClassifier, query: str) -> int:
    scores = classifier.scores(query, DESCRIPTIONS, multi_label=False)
    return max(range(len(DESCRIPTIONS)), key=lambda i: (scores[DESCRIPTIONS[i]], -i))


def one_query_per_tool(classifier: ZeroShotClassifier) -> dict[int, str]:
    chosen: dict[int, str] = {}
    for query in QUERIES:
        chosen.setdefault(routed(classifier, query), query)
    assert set(chosen) == {0, 1}, "the tiny model sends every query to one tool; change QUERIES"
    return chosen


def test_vector_index_query_engine_with_the_reranker(classifier: ZeroShotClassifier, indexes) -> None:
    index = index_of(SPORTS + SPACE)
    reranker = GLiClassRerank(model=classifier, top_n=2)
    engine = index.as_query_engine(llm=MockLLM(), similarity_top_k=6, node_postprocessors=[reranker])
    query = "rocket launch to orbit"
    response = engine.query(query)

    retrieved = index.as_retriever(similarity_top_k=6).retrieve(query)
    assert len(retrieved) == 6
    texts = [n.node.get_content(metadata_mode=MetadataMode.EMBED) for n in retrieved]
    best = classifier.rerank(query, texts, top_k=2)
    assert [n.node.get_content() for n in response.source_nodes] == [texts[p.index] for p in best]
    assert [n.score for n in response.source_nodes] == pytest.approx([p.score for p in best])
    assert best[0].text in str(response)  # MockLLM echoes the prompt it was given: the reranked context

    aresponse = asyncio.run(engine.aquery(query))
    assert [n.node.node_id for n in aresponse.source_nodes] == [n.node.node_id for n in response.source_nodes]


def test_retriever_then_postprocessor(classifier: ZeroShotClassifier) -> None:
    retriever = index_of(SPORTS + SPACE).as_retriever(similarity_top_k=6)
    nodes = retriever.retrieve("a new planet")
    before = [n.model_dump() for n in nodes]
    out = GLiClassRerank(model=classifier, top_n=3, keep_retrieval_score=True).postprocess_nodes(
        nodes, query_str="a new planet"
    )
    assert len(out) == 3
    assert [n.score for n in out] == sorted((n.score for n in out), reverse=True)
    assert all(n.node.metadata["retrieval_score"] == pytest.approx(1.0) for n in out)  # MockEmbedding: cosine 1
    assert [n.model_dump() for n in nodes] == before


def test_router_query_engine_routes_to_the_selected_tool(classifier: ZeroShotClassifier, indexes) -> None:
    tools = [
        QueryEngineTool.from_defaults(
            index.as_query_engine(llm=MockLLM(), similarity_top_k=3), name=name, description=description
        )
        for index, name, description in zip(indexes, ["sports", "space"], DESCRIPTIONS, strict=True)
    ]
    router = RouterQueryEngine(selector=GLiClassSelector(classifier), query_engine_tools=tools, llm=MockLLM())
    assert "selector" not in {key.split(":")[0] for key in router.get_prompts()}  # the selector has no prompts
    for tool, query in one_query_per_tool(classifier).items():
        response = router.query(query)
        selection = response.metadata["selector_result"]
        assert selection.ind == tool
        assert selection.reason.startswith("GLiClass score ")
        assert selection.reason.endswith(repr(tools[tool].metadata.name))
        assert {n.node.get_content() for n in response.source_nodes} == set([SPORTS, SPACE][tool])
        aresponse = asyncio.run(router.aquery(query))
        assert aresponse.metadata["selector_result"].ind == tool


def test_router_query_engine_multi_select_queries_every_selected_tool(classifier: ZeroShotClassifier, indexes) -> None:
    tools = [
        QueryEngineTool.from_defaults(
            index.as_query_engine(llm=MockLLM(), similarity_top_k=3), name=name, description=description
        )
        for index, name, description in zip(indexes, ["sports", "space"], DESCRIPTIONS, strict=True)
    ]
    selector = GLiClassSelector(classifier, multi_select=True, threshold=0.0)
    router = RouterQueryEngine(selector=selector, query_engine_tools=tools, llm=MockLLM())
    response = router.query("who won the match")
    assert sorted(response.metadata["selector_result"].inds) == [0, 1]
    assert {n.node.get_content() for n in response.source_nodes} == set(SPORTS + SPACE)


def test_router_retriever_routes_to_the_selected_retriever(classifier: ZeroShotClassifier, indexes) -> None:
    tools = [
        RetrieverTool.from_defaults(index.as_retriever(similarity_top_k=3), name=name, description=description)
        for index, name, description in zip(indexes, ["sports", "space"], DESCRIPTIONS, strict=True)
    ]
    router = RouterRetriever(selector=GLiClassSelector(classifier), retriever_tools=tools, llm=MockLLM())
    for tool, query in one_query_per_tool(classifier).items():
        assert {n.node.get_content() for n in router.retrieve(query)} == set([SPORTS, SPACE][tool])
        assert {n.node.get_content() for n in asyncio.run(router.aretrieve(query))} == set([SPORTS, SPACE][tool])


def test_router_retriever_feeding_the_reranker_on_one_shared_model(classifier: ZeroShotClassifier, indexes) -> None:
    tools = [
        RetrieverTool.from_defaults(index.as_retriever(similarity_top_k=3), name=name, description=description)
        for index, name, description in zip(indexes, ["sports", "space"], DESCRIPTIONS, strict=True)
    ]
    selector = GLiClassSelector(classifier, multi_select=True, threshold=0.0)
    reranker = GLiClassRerank(model=classifier, top_n=2)
    assert selector.classifier is reranker.classifier is classifier  # one model in memory
    nodes = RouterRetriever(selector=selector, retriever_tools=tools, llm=MockLLM()).retrieve("the team and the player")
    assert len(nodes) == 6
    out = reranker.postprocess_nodes(nodes, query_str="the team and the player")
    texts = [n.node.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
    assert [n.node.get_content() for n in out] == [
        texts[p.index] for p in classifier.rerank("the team and the player", texts, top_k=2)
    ]


def test_components_named_alike_share_one_model(classifier: ZeroShotClassifier, tmp_path) -> None:
    path = classifier.save_pretrained(tmp_path / "tiny")
    clear_shared_classifiers()
    try:
        reranker = GLiClassRerank(model=str(path))
        selector = GLiClassSelector(path)  # a Path names the same model
        reranker.warm_up()
        selector.warm_up()
        assert reranker.classifier is selector.classifier
        assert reranker.classifier is not classifier
        query = "rocket launch to orbit"
        assert selector.select(DESCRIPTIONS, query) == GLiClassSelector(classifier).select(DESCRIPTIONS, query)
    finally:
        clear_shared_classifiers()
