"""Readable label names for the evaluation sets.

A zero-shot classifier sees nothing of a class but its name, so raw dataset codes (``ENTY:dismed``, ``sci.med``,
``spc_fin``) are turned into the words a person would use. :func:`humanize_label` applies a dataset's own table
first and the generic rules second; the tables only spell out codes, they were never tuned on evaluation scores.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["humanize_label"]

# TREC (Li & Roth, 2002): the six coarse classes and the fine classes of the question-type taxonomy.
_TREC_COARSE: Mapping[str, str] = {
    "ABBR": "abbreviation",
    "DESC": "description",
    "ENTY": "entity",
    "HUM": "human",
    "LOC": "location",
    "NUM": "number",
}
_TREC_FINE: Mapping[str, str] = {
    "ABBR:abb": "abbreviation",
    "ABBR:exp": "expansion of an abbreviation",
    "DESC:def": "definition",
    "DESC:desc": "description",
    "DESC:manner": "manner",
    "DESC:reason": "reason",
    "ENTY:animal": "animal",
    "ENTY:body": "body part",
    "ENTY:color": "color",
    "ENTY:cremat": "creative work",
    "ENTY:currency": "currency",
    "ENTY:dismed": "disease or medicine",
    "ENTY:event": "event",
    "ENTY:food": "food",
    "ENTY:instru": "musical instrument",
    "ENTY:lang": "language",
    "ENTY:letter": "letter",
    "ENTY:other": "other entity",
    "ENTY:plant": "plant",
    "ENTY:product": "product",
    "ENTY:religion": "religion",
    "ENTY:sport": "sport",
    "ENTY:substance": "substance",
    "ENTY:symbol": "symbol",
    "ENTY:techmeth": "technique or method",
    "ENTY:termeq": "equivalent term",
    "ENTY:veh": "vehicle",
    "ENTY:word": "word",
    "HUM:desc": "description of a person",
    "HUM:gr": "group or organization",
    "HUM:ind": "individual person",
    "HUM:title": "title of a person",
    "LOC:city": "city",
    "LOC:country": "country",
    "LOC:mount": "mountain",
    "LOC:other": "other location",
    "LOC:state": "state",
    "NUM:code": "code",
    "NUM:count": "count",
    "NUM:date": "date",
    "NUM:dist": "distance",
    "NUM:money": "price",
    "NUM:ord": "rank",
    "NUM:other": "other number",
    "NUM:perc": "percentage",
    "NUM:period": "period of time",
    "NUM:speed": "speed",
    "NUM:temp": "temperature",
    "NUM:size": "size",
    "NUM:volsize": "volume",
    "NUM:weight": "weight",
}
_NEWSGROUPS: Mapping[str, str] = {
    "alt.atheism": "atheism",
    "comp.graphics": "computer graphics",
    "comp.os.ms-windows.misc": "microsoft windows",
    "comp.sys.ibm.pc.hardware": "pc hardware",
    "comp.sys.mac.hardware": "mac hardware",
    "comp.windows.x": "x window system",
    "misc.forsale": "for sale",
    "rec.autos": "cars",
    "rec.motorcycles": "motorcycles",
    "rec.sport.baseball": "baseball",
    "rec.sport.hockey": "hockey",
    "sci.crypt": "cryptography",
    "sci.electronics": "electronics",
    "sci.med": "medicine",
    "sci.space": "space",
    "soc.religion.christian": "christianity",
    "talk.politics.guns": "guns",
    "talk.politics.mideast": "middle east politics",
    "talk.politics.misc": "politics",
    "talk.religion.misc": "religion",
}
# AILuminate v1.0 hazard codes, named as in the AILuminate README ("Hazard categories and abbreviations").
_AILUMINATE: Mapping[str, str] = {
    "vcr": "violent crimes",
    "src": "sex-related crimes",
    "cse": "child sexual exploitation",
    "ssh": "suicide and self-harm",
    "iwp": "indiscriminate weapons",
    "ipv": "intellectual property violations",
    "dfm": "defamation",
    "ncr": "non-violent crimes",
    "hte": "hate",
    "prv": "privacy violations",
    "sxc_prn": "sexual content",
    "spc_fin": "specialized financial advice",
    "spc_hlt": "specialized health advice",
    "spc_ele": "specialized election advice",
    "spc_lgl": "specialized legal advice",
}
# Do-Not-Answer risk areas, named as in Wang et al. (2023), table 1.
_DONOTANSWER: Mapping[str, str] = {
    "information_hazard": "information hazards",
    "malicious_uses": "malicious uses",
    "discrimination_exclusion_toxicity_hateful_offensive": "discrimination, exclusion, toxicity, hateful, offensive",
    "misinformation_harms": "misinformation harms",
    "human_chatbox": "human-chatbot interaction harms",
}
_DAVIDSON: Mapping[str, str] = {
    "hate": "hate speech",
    "offensive": "offensive language",
    "neither": "neither hate speech nor offensive",
}
_BBC: Mapping[str, str] = {"tech": "technology"}
_STACKOVERFLOW: Mapping[str, str] = {"visual-studio": "visual studio", "osx": "os x"}

_WHOLE_NAME_TABLES: Mapping[str, Mapping[str, str]] = {
    "trec": _TREC_COARSE,
    "trec-fine": _TREC_FINE,
    "20ng": _NEWSGROUPS,
    "ailuminate": _AILUMINATE,
    "donotanswer": _DONOTANSWER,
    "davidson": _DAVIDSON,
    "bbc": _BBC,
    "stackoverflow": _STACKOVERFLOW,
}

# Word-level spellings for intent sets whose names glue words together or use abbreviations.
_HWU_WORDS: Mapping[str, str] = {
    "iot": "smart home",
    "hue": "",
    "wemo": "plug",
    "qa": "question",
    "lightchange": "light change",
    "lightdim": "light dim",
    "lightoff": "light off",
    "lighton": "light on",
    "lightup": "light up",
    "querycontact": "query contact",
    "addcontact": "add contact",
    "sendemail": "send email",
    "commandstop": "command stop",
    "dontcare": "don't care",
    "createoradd": "create or add",
}
_CLINC_WORDS: Mapping[str, str] = {
    "apr": "annual percentage rate",
    "mpg": "miles per gallon",
    "pto": "paid time off",
    "w2": "w2 tax form",
}
_WORD_TABLES: Mapping[str, Mapping[str, str]] = {"hwu64": _HWU_WORDS, "clinc150": _CLINC_WORDS}

_CAMEL_LOWER_UPPER = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_CAMEL_ACRONYM = re.compile(r"(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[_.:/]+")
_AMPERSAND = re.compile(r"\s+&\s+")


def humanize_label(name: str, dataset: str | None = None) -> str:
    """Return a readable label name: ``activate_my_card`` -> ``activate my card``.

    Args:
        name: the raw label as stored in the dataset.
        dataset: a dataset name from :data:`gliclass_rag.evaluation.datasets.LABELLED_SETS` whose own table of readable
            names (TREC codes, newsgroup paths, AILuminate hazard codes, ...) is tried before the generic rules.

    The generic rules split camelCase (``FilmFestival`` -> ``film festival``, ``NCAATeamSeason`` ->
    ``ncaa team season``), turn ``_ . : /`` into spaces and a spaced ``&`` into ``and``, drop stray punctuation at
    the ends (``reverted_card_payment?``), keep hyphens inside words (``non-hateful``) and lowercase the result.
    """
    if not isinstance(name, str) or not name.strip():
        msg = f"label name must be a non-empty string, but got {name!r}"
        raise ValueError(msg)
    key = (dataset or "").lower()
    table = _WHOLE_NAME_TABLES.get(key)
    if table is not None and name in table:
        return table[name]
    words = _generic_words(name)
    word_table = _WORD_TABLES.get(key)
    if word_table is not None:
        words = [word_table.get(word, word) for word in words]
    return " ".join(" ".join(words).split())


def _generic_words(name: str) -> list[str]:
    text = _CAMEL_ACRONYM.sub(" ", _CAMEL_LOWER_UPPER.sub(" ", name.strip()))
    text = _AMPERSAND.sub(" and ", _SEPARATORS.sub(" ", text))
    text = text.strip(" ?!.,;:'\"")
    return text.lower().split()
