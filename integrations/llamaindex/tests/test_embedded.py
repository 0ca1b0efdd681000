"""End to end on the embedded default model (skipped while it is being trained): meaningful scores and routes."""

from __future__ import annotations

import pytest
from llama_index.core import Document, MockEmbedding, VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RouterQueryEngine
from llama_index.core.tools import QueryEngineTool
from llama_index.postprocessor.gliclass import GLiClassRerank, GLiClassSelector

from gliclass_rag import ZeroShotClassifier

pytestmark = pytest.mark.slow

EMBED = MockEmbedding(embed_dim=8)
SPACE = [
    "The rocket lifted off and reached low Earth orbit ten minutes after launch.",
    "Astronomers discovered a rocky planet orbiting a nearby red dwarf star.",
]
COOKING = [
    "Knead the dough for ten minutes, then let it rise in a warm place for an hour.",
    "Simmer the tomato sauce with garlic and basil before adding the pasta.",
]


def test_reranker_puts_the_relevant_passages_first(embedded: ZeroShotClassifier) -> None:
    index = VectorStoreIndex.from_documents([Document(text=t) for t in COOKING + SPACE], embed_model=EMBED)
    engine = index.as_query_engine(
        llm=MockLLM(), similarity_top_k=4, node_postprocessors=[GLiClassRerank(model=embedded, top_n=None)]
    )
    response = engine.query("How did the rocket get into orbit?")
    ranked = [n.node.get_content() for n in response.source_nodes]
    assert ranked[0] == SPACE[0]
    assert set(ranked[:2]) == set(SPACE)  # both space passages above both cooking ones


def test_router_sends_each_query_to_its_tool(embedded: ZeroShotClassifier) -> None:
    tools = [
        QueryEngineTool.from_defaults(
            VectorStoreIndex.from_documents([Document(text=t) for t in texts], embed_model=EMBED).as_query_engine(
                llm=MockLLM()
            ),
            name=name,
            description=description,
        )
        for texts, name, description in [
            (COOKING, "cooking", "Answers questions about cooking, recipes, baking and food"),
            (SPACE, "space", "Answers questions about space exploration, rockets, stars and planets"),
        ]
    ]
    selector = GLiClassSelector()  # model=None: the embedded default model, shared with the fixture's
    assert selector.classifier is embedded
    router = RouterQueryEngine(selector=selector, query_engine_tools=tools, llm=MockLLM())
    assert router.query("How long should bread dough rise?").metadata["selector_result"].ind == 0
    assert router.query("Which planets orbit red dwarf stars?").metadata["selector_result"].ind == 1
