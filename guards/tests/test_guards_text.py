from __future__ import annotations

import pytest
from gliclass_guards import split_sentences, split_windows
from gliclass_guards.text import last_boundary


def test_sentences_have_exact_spans() -> None:
    text = "  Paris is in France.  It has 2.1 million people!\nIs it big? Yes  "
    pieces = split_sentences(text)
    assert [p.text for p in pieces] == ["Paris is in France.", "It has 2.1 million people!", "Is it big?", "Yes"]
    assert all(text[p.start : p.end] == p.text for p in pieces)


def test_abbreviations_initials_and_quotes_do_not_split() -> None:
    text = 'Dr. Smith met J. R. Tolkien, e.g. in the U.S. once. He said "hi." Then left.'
    assert [p.text for p in split_sentences(text)] == [
        "Dr. Smith met J. R. Tolkien, e.g. in the U.S. once.",
        'He said "hi."',
        "Then left.",
    ]


def test_line_breaks_split_list_items() -> None:
    assert [p.text for p in split_sentences("Facts:\n- one thing\n- another thing")] == [
        "Facts:",
        "- one thing",
        "- another thing",
    ]


def test_blank_text_has_no_sentences() -> None:
    assert split_sentences("   \n ") == []


def test_windows_hold_whole_sentences_with_overlap() -> None:
    text = "Aa bb. Cc dd. Ee ff. Gg hh."
    windows = split_windows(text, size=13, overlap=7)
    assert [w.text for w in windows] == ["Aa bb. Cc dd.", "Cc dd. Ee ff.", "Ee ff. Gg hh."]
    assert all(text[w.start : w.end] == w.text for w in windows)
    assert [w.text for w in split_windows(text, size=13)] == ["Aa bb. Cc dd.", "Ee ff. Gg hh."]


def test_a_long_sentence_is_cut_at_words_and_short_text_is_one_window() -> None:
    text = "alpha beta gamma delta epsilon zeta eta theta"
    windows = split_windows(text, size=12)
    assert all(len(w.text) <= 12 for w in windows)
    assert " ".join(w.text for w in windows) == text
    assert [w.text for w in split_windows(" short. text. ", size=100, overlap=10)] == ["short. text."]


def test_windows_by_a_custom_length() -> None:
    text = "a b c. d e f. g h i."
    windows = split_windows(text, size=6, length=lambda s: len(s.split()))
    assert [w.text for w in windows] == ["a b c. d e f.", "g h i."]


def test_window_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="overlap"):
        split_windows("text", size=10, overlap=10)


def test_last_boundary_needs_whitespace_after_the_terminator() -> None:
    assert last_boundary("It is 3.") is None
    assert last_boundary("One. Two") == len("One. ")
    assert last_boundary("Mr. Smith") is None
