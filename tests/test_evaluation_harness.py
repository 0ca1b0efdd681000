"""The harness with a tiny fake classifier; the embedding baselines on a few hand-written rows (slow)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from gliclass_rag.evaluation import (
    BinaryResult,
    ClassificationResult,
    Comparison,
    EmbeddingBaseline,
    Example,
    LabelledSet,
    NearestCentroidBaseline,
    PairSet,
    RankingResult,
    compare,
    evaluate_binary,
    evaluate_classification,
    evaluate_pairs,
    evaluate_reranking,
    evaluate_set,
    examples_keyword,
    few_shot_examples,
    format_table,
)


class KeywordClassifier:
    """Scores a label 0.9 when its name occurs in the text, else 0.1 (single-label: normalised to sum 1).

    With ``examples``, a label whose example texts share a word with the text also scores 0.9. Every call is
    recorded for the assertions.
    """

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def scores(
        self,
        texts: list[str],
        labels: list[str] | list[list[str]],
        *,
        multi_label: bool,
        batch_size: int,
        examples: Sequence[dict[str, Any]] | None = None,
    ) -> list[dict[str, float]]:
        self.calls.append({"texts": list(texts), "labels": labels, "multi_label": multi_label, "examples": examples})
        per_text = [labels] * len(texts) if all(isinstance(label, str) for label in labels) else labels
        out = []
        for text, row in zip(texts, per_text, strict=True):
            words = set(text.split())
            hits = {}
            for label in row:
                assert isinstance(label, str)
                hit = label in text
                for example in examples or []:
                    if label in example["labels"] and words & set(example["text"].split()) - {"text"}:
                        hit = True
                hits[label] = 0.9 if hit else 0.1
            if not multi_label:
                total = sum(hits.values())
                hits = {label: value / total for label, value in hits.items()}
            out.append(hits)
        return out


def _set(rows: list[tuple[str, str]], labels: Sequence[str], name: str = "toy", split: str = "test") -> LabelledSet:
    return LabelledSet(
        name, tuple(text for text, _ in rows), tuple((gold,) for _, gold in rows), tuple(labels), split=split
    )


# ------------------------------------------------------------------------------------------------ classification


def test_zero_shot_classification_hand_computed() -> None:
    data = _set(
        [("about cats", "cats"), ("about dogs", "dogs"), ("about birds", "birds"), ("nothing here", "dogs")],
        ["cats", "dogs", "birds"],
    )
    fake = KeywordClassifier()
    result = evaluate_classification(fake, data, model_name="fake")
    # predictions: cats, dogs, birds, cats (all-tie row -> first label)
    assert result.accuracy == pytest.approx(0.75)
    # cats: tp1 gold1 pred2 -> 2/3; dogs: tp1 gold2 pred1 -> 2/3; birds: 1 -> macro (2/3 + 2/3 + 1) / 3
    assert result.macro_f1 == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert result.k_shot == 0
    assert result.task == "zero-shot"
    assert result.n_labels == 3
    assert fake.calls[0]["labels"] == ["cats", "dogs", "birds"]
    assert fake.calls[0]["multi_label"] is False
    assert fake.calls[0]["examples"] is None
    assert len(result.confidences) == 4
    assert result.correct == (True, True, True, False)
    assert 0 <= result.ece <= 1


def test_multi_label_sets_are_thresholded() -> None:
    data = LabelledSet(
        "multi",
        ("cats and dogs", "dogs", "birds"),
        (("cats", "dogs"), ("dogs",), ("cats",)),
        ("cats", "dogs", "birds"),
        multi_label=True,
    )
    result = evaluate_classification(KeywordClassifier(), data)
    # predicted sets: {cats, dogs}, {dogs}, {birds}; exact-set accuracy 2/3
    assert result.accuracy == pytest.approx(2 / 3)
    # over gold labels cats, dogs: cats tp1 gold2 pred1 -> 2/3; dogs tp2 gold2 pred2 -> 1
    assert result.macro_f1 == pytest.approx((2 / 3 + 1) / 2)
    assert "ECE" not in result.metrics()


def test_k_shot_examples_come_from_the_train_pool_and_reach_the_classifier() -> None:
    pool = _set(
        [("kitten purr", "cats"), ("kitten meow", "cats"), ("puppy bark", "dogs"), ("puppy wag", "dogs")],
        ["cats", "dogs"],
        split="train",
    )
    examples = few_shot_examples(pool, 1, seed=0)
    assert Counter(label for example in examples for label in example["labels"]) == {"cats": 1, "dogs": 1}
    test = _set([("a kitten", "cats"), ("a puppy", "dogs")], ["cats", "dogs"])
    fake = KeywordClassifier()
    zero = evaluate_classification(fake, test)
    few = evaluate_classification(fake, test, examples=examples)
    assert zero.accuracy == pytest.approx(0.5)  # no label name occurs: all ties -> "cats"
    assert few.accuracy == pytest.approx(1.0)
    assert few.k_shot == 1
    assert few.task == "1-shot"
    assert fake.calls[-1]["examples"] == examples


def test_examples_can_be_passed_under_another_keyword() -> None:
    received: dict[str, Any] = {}

    class StoreClassifier:
        def scores(
            self, texts: list[str], labels: Any, *, multi_label: bool, batch_size: int, examples_store: Any = None
        ) -> list[dict[str, float]]:
            received["store"] = examples_store
            return [dict.fromkeys(labels, 0.5) for _ in texts]

    data = _set([("x", "a")], ["a", "b"])
    examples: list[Example] = [{"text": "y", "labels": ["a"]}]
    evaluate_classification(
        StoreClassifier(), data, examples=examples, pass_examples=examples_keyword("examples_store")
    )
    assert received["store"] == examples
    with pytest.raises(ValueError, match="identifier"):
        examples_keyword("not valid")


def test_classifier_returning_the_wrong_number_of_rows_is_reported() -> None:
    class Broken:
        def scores(
            self, texts: list[str], labels: Any, *, multi_label: bool, batch_size: int
        ) -> list[dict[str, float]]:
            return []

    with pytest.raises(ValueError, match="one score dict per text"):
        evaluate_classification(Broken(), _set([("x", "a")], ["a"]))


# -------------------------------------------------------------------------------------------- binary and pairs


def test_binary_auroc_on_a_labelled_set() -> None:
    data = _set(
        [("dangerous stuff", "dangerous"), ("fine", "harmless"), ("dangerous too", "dangerous")],
        ["harmless", "dangerous"],
    )
    result = evaluate_binary(KeywordClassifier(), data, "dangerous")
    assert isinstance(result, BinaryResult)
    assert result.auroc == pytest.approx(1.0)
    assert result.n_positive == 2
    with pytest.raises(ValueError, match="positive must be one of"):
        evaluate_binary(KeywordClassifier(), data, "maybe")


def test_pair_auroc_uses_the_hypothesis_as_the_only_label() -> None:
    pairs = PairSet(
        "sick",
        ("a man plays guitar", "a dog runs", "a cat sleeps", "kids play"),
        ("guitar", "cat", "sleeps", "adults"),
        ("entailment", "contradiction", "entailment", "neutral"),
    )
    fake = KeywordClassifier()
    result = evaluate_pairs(fake, pairs)
    assert result.auroc == pytest.approx(1.0)  # both entailed hypotheses occur in their premise, no other does
    assert result.positive == "entailment"
    assert fake.calls[0]["labels"] == [["guitar"], ["cat"], ["sleeps"], ["adults"]]
    assert fake.calls[0]["multi_label"] is True


def test_qnli_pairs_put_the_passage_as_text_and_the_query_as_label() -> None:
    pairs = PairSet("qnli_heldout", ("q1", "q2"), ("passage with q1", "passage"), (1, 0), split="test")
    fake = KeywordClassifier()
    result = evaluate_pairs(fake, pairs)
    assert fake.calls[0]["texts"] == ["passage with q1", "passage"]
    assert fake.calls[0]["labels"] == [["q1"], ["q2"]]
    assert result.auroc == pytest.approx(1.0)
    with pytest.raises(ValueError, match="text_side"):
        evaluate_pairs(fake, PairSet("custom", ("a",), ("b",), (1,)))


def test_reranking_mrr_groups_by_query() -> None:
    pairs = PairSet(
        "qnli_heldout",
        ("alpha", "alpha", "beta", "beta", "gamma"),
        ("has alpha", "nothing", "nothing at all", "here beta", "only one"),
        (1, 0, 0, 1, 1),
    )
    result = evaluate_reranking(KeywordClassifier(), pairs)
    assert isinstance(result, RankingResult)
    assert result.n_queries == 2  # gamma has no irrelevant candidate
    assert result.mrr == pytest.approx(1.0)
    assert result.mean_candidates == pytest.approx(2.0)
    with_distractors = evaluate_reranking(KeywordClassifier(), pairs, n_distractors=2, seed=3)
    assert with_distractors.n_queries == 3  # gamma now has irrelevant candidates
    assert with_distractors.mean_candidates > 2.0


def test_reranking_ties_are_not_rewarded() -> None:
    pairs = PairSet("qnli", ("q", "q", "q"), ("x", "y", "z"), (0, 0, 1))
    result = evaluate_reranking(KeywordClassifier(), pairs)  # every score 0.1
    assert result.mrr == pytest.approx(1 / 3)


def test_evaluate_set_runs_auroc_and_mrr_for_qnli() -> None:
    pairs = PairSet("qnli_heldout", ("a", "a"), ("has a", "none"), (1, 0), split="test")
    kinds = [type(result) for result in evaluate_set(KeywordClassifier(), pairs)]
    assert kinds == [BinaryResult, RankingResult]


# -------------------------------------------------------------------------------------------- compare and table


def test_compare_scores_model_and_baseline_on_the_same_rows() -> None:
    rows = [(f"{label} text {index}", label) for label in ("red", "green", "blue") for index in range(20)]
    data = _set(rows, ["red", "green", "blue"])
    model, baseline = KeywordClassifier(), KeywordClassifier()
    comparisons = compare(model, baseline, [data], max_rows=12, seed=5, model_name="m", baseline_name="b")
    assert len(comparisons) == 1
    assert model.calls[0]["texts"] == baseline.calls[0]["texts"]
    assert len(model.calls[0]["texts"]) == 12
    assert Counter(text.split()[0] for text in model.calls[0]["texts"]) == {"red": 4, "green": 4, "blue": 4}
    again = KeywordClassifier()
    compare(again, None, [data], max_rows=12, seed=5)
    assert again.calls[0]["texts"] == model.calls[0]["texts"]
    assert comparisons[0].model.model == "m"
    assert comparisons[0].baseline is not None
    assert comparisons[0].baseline.model == "b"


def test_compare_feeds_the_baseline_its_own_way_when_the_model_reads_a_store(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI gives the model its examples through an ExampleStore; the baseline must still get them as examples=.
    from gliclass_rag.evaluation import harness

    pool = _set([("kitten purr", "cats"), ("puppy bark", "dogs")], ["cats", "dogs"], split="train")
    test = _set([("a kitten", "cats"), ("a puppy", "dogs")], ["cats", "dogs"])
    monkeypatch.setattr(harness, "load_set", lambda name, split, data_dir=None: test)
    monkeypatch.setattr(harness, "load_labelled", lambda name, split, data_dir=None: pool)
    received: dict[str, Any] = {}

    def via_store(classifier: Any, texts: Any, labels: Any, examples: Any, **kwargs: Any) -> Any:
        received["store"] = examples
        return [dict.fromkeys(labels, 0.5) for _ in texts]

    baseline = KeywordClassifier()
    [comparison] = compare(KeywordClassifier(), baseline, ["toy"], k_shot=1, pass_examples=via_store)
    assert received["store"] == baseline.calls[0]["examples"]
    assert comparison.baseline is not None
    assert comparison.baseline.accuracy == pytest.approx(1.0)  # the examples reached it


def test_compare_rejects_bad_options() -> None:
    data = _set([("x", "a")], ["a"])
    with pytest.raises(ValueError, match="k_shot"):
        compare(KeywordClassifier(), None, [data], k_shot=-1)
    with pytest.raises(ValueError, match="max_rows"):
        compare(KeywordClassifier(), None, [data], max_rows=0)
    with pytest.raises(ValueError, match="by name"):
        compare(KeywordClassifier(), None, [data], k_shot=2)


def test_format_table_side_by_side() -> None:
    model = ClassificationResult("bbc", "test", "mine", 100, 5, 0, 0.8, 0.81, 0.05, 1.0)
    base = ClassificationResult("bbc", "test", "cosine", 100, 5, 0, 0.75, 0.7, 0.1, 1.0)
    ranking = RankingResult("qnli_heldout", "test", "mine", 50, 2.0, 0, 0.9, 1.0)
    table = format_table([Comparison(model, base), Comparison(ranking, None)])
    lines = table.strip().splitlines()
    assert lines[0] == "| set | split | task | n | metric | mine | cosine | Δ |"
    assert "| bbc | test | zero-shot | 100 | macro-F1 | 0.800 | 0.750 | +0.050 |" in lines
    assert "| bbc | test | zero-shot | 100 | accuracy | 0.810 | 0.700 | +0.110 |" in lines
    assert "| qnli_heldout | test | rerank (2.0 candidates) | 50 | MRR | 0.900 | – | – |" in lines
    alone = format_table([model]).splitlines()
    assert alone[0] == "| set | split | task | n | metric | mine |"
    assert format_table([]) == ""


# ----------------------------------------------------------------------------------------------------- baselines


def test_baseline_validates_labels_before_loading_weights() -> None:
    baseline = EmbeddingBaseline()
    with pytest.raises(ValueError, match="one label list per text"):
        baseline.scores(["a", "b"], [["x"]])
    with pytest.raises(ValueError, match="repeat"):
        baseline.scores(["a"], ["x", "x"])
    with pytest.raises(ValueError, match="non-empty list"):
        baseline.scores(["a"], [])
    with pytest.raises(ValueError, match="temperature"):
        EmbeddingBaseline(temperature=0)


_TOY_ROWS = [
    ("Will it rain in Paris tomorrow?", "weather forecast"),
    ("How hot will it be this afternoon?", "weather forecast"),
    ("Is there snow expected this weekend?", "weather forecast"),
    ("What's the temperature outside right now?", "weather forecast"),
    ("Play some jazz music for me", "play music"),
    ("Put on my workout playlist", "play music"),
    ("I want to listen to the Beatles", "play music"),
    ("Start playing the new Taylor Swift album", "play music"),
    ("Book a table for two at an Italian restaurant", "restaurant reservation"),
    ("Reserve dinner for four at 8pm", "restaurant reservation"),
    ("Can you get me a booking at the sushi place?", "restaurant reservation"),
    ("I need a restaurant reservation for Friday night", "restaurant reservation"),
    ("My card was stolen, please block it", "lost or stolen card"),
    ("I lost my credit card yesterday", "lost or stolen card"),
    ("Someone took my wallet with my bank card", "lost or stolen card"),
    ("I can't find my debit card anywhere", "lost or stolen card"),
    ("Set an alarm for 6 am", "set alarm"),
    ("Wake me up at seven tomorrow", "set alarm"),
    ("Create an alarm for my nap in 20 minutes", "set alarm"),
    ("Alarm at 5:30 please", "set alarm"),
]


@pytest.fixture(scope="module")
def embedder() -> EmbeddingBaseline:
    baseline = EmbeddingBaseline()
    try:
        baseline.warm_up()
    except (ImportError, OSError) as error:
        pytest.skip(f"all-MiniLM-L6-v2 is not installed here: {error}")
    return baseline


@pytest.mark.slow
def test_embedding_baseline_on_twenty_rows(embedder: EmbeddingBaseline) -> None:
    labels = sorted({label for _, label in _TOY_ROWS})
    data = _set(_TOY_ROWS, labels)
    result = evaluate_classification(embedder, data, model_name="cosine")
    assert result.accuracy >= 0.8
    scores = embedder.scores([_TOY_ROWS[0][0]], labels, multi_label=False)[0]
    assert list(scores) == labels
    assert sum(scores.values()) == pytest.approx(1.0)
    independent = embedder.scores([_TOY_ROWS[0][0]], [labels[:2]], multi_label=True)[0]
    assert list(independent) == labels[:2]
    assert all(0.0 <= value <= 1.0 for value in independent.values())


@pytest.mark.slow
def test_embedding_baseline_matches_between_calls_and_caches_labels(embedder: EmbeddingBaseline) -> None:
    texts = [text for text, _ in _TOY_ROWS[:4]]
    first = embedder.scores(texts, ["weather forecast", "play music"], multi_label=True, batch_size=3)
    second = embedder.scores(texts, ["weather forecast", "play music"], multi_label=True, batch_size=1)
    for a, b in zip(first, second, strict=True):
        assert a == pytest.approx(b, abs=1e-5)
    assert "weather forecast" in embedder._label_cache


@pytest.mark.slow
def test_rerank_orders_by_similarity(embedder: EmbeddingBaseline) -> None:
    ranked = embedder.rerank(
        "What is the capital of France?",
        ["Bananas are yellow.", "Paris is the capital and largest city of France.", "The stock market fell."],
        top_k=2,
    )
    assert ranked[0].index == 1
    assert len(ranked) == 2
    assert ranked[0].score >= ranked[1].score


@pytest.mark.slow
def test_nearest_centroid_uses_examples_and_falls_back_to_names(embedder: EmbeddingBaseline) -> None:
    centroid = NearestCentroidBaseline(embedder)
    labels = ["label one", "label two"]
    examples = [
        {"text": "Will it rain tomorrow?", "labels": ["label one"]},
        {"text": "Play some rock music", "labels": ["label two"]},
    ]
    scores = centroid.scores(
        ["Is it going to be sunny?", "Put on a song"], labels, multi_label=False, examples=examples
    )
    assert max(scores[0], key=scores[0].__getitem__) == "label one"
    assert max(scores[1], key=scores[1].__getitem__) == "label two"
    without = centroid.scores(["Is it going to be sunny?"], labels, multi_label=False)
    plain = embedder.scores(["Is it going to be sunny?"], labels, multi_label=False)
    assert without[0] == pytest.approx(plain[0])
    with pytest.raises(ValueError, match="labels"):
        centroid.scores(["x"], labels, examples=[{"text": "y", "labels": "label one"}])


# --------------------------------------------------------------------------------------- the real classifier API


def test_harness_runs_the_real_zero_shot_classifier() -> None:
    """The engine's ZeroShotClassifier (a tiny random one) fits the harness: classification, k-shot, pairs, MRR."""
    tiny = pytest.importorskip("tiny", reason="tests/tiny.py (tiny engine models) is not available")
    classifier = tiny.build_classifier("uni-encoder")
    data = _set([(text, label) for text, label in _TOY_ROWS[:8]], ["weather forecast", "play music"])
    [comparison] = compare(classifier, KeywordClassifier(), [data], max_rows=6, model_name="tiny")
    assert isinstance(comparison.model, ClassificationResult)
    assert comparison.model.n_rows == 6
    assert 0.0 <= comparison.model.macro_f1 <= 1.0
    pool = _set(_TOY_ROWS[8:12], ["restaurant reservation"], split="train")
    few = evaluate_classification(classifier, data, examples=few_shot_examples(pool, 1))
    assert few.k_shot == 1
    pairs = PairSet("qnli", ("q one", "q one", "q two", "q two"), ("a b", "c d", "e f", "g h"), (1, 0, 0, 1))
    results = evaluate_set(classifier, pairs)
    assert [type(result) for result in results] == [BinaryResult, RankingResult]
