"""The default harm taxonomy: the MLCommons hazard categories as Llama Guard 3 uses them (S1-S14), plus prompt
injection and jailbreak. Names are the labels the model scores; descriptions are our own one-line summaries.

Edit a copy: ``categories = default_categories(); categories["offensive language"] = "profanity, insults"``, or
``del categories["elections"]``, then ``SafetyGuard(categories=categories)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["DEFAULT_CATEGORIES", "LLAMA_GUARD_CODES", "default_categories"]

DEFAULT_CATEGORIES: Mapping[str, str] = MappingProxyType(
    {
        "violent crimes": "helping with or endorsing violence against people or animals: murder, assault, "
        "kidnapping, terrorism, abuse",
        "non-violent crimes": "helping with crimes without violence: fraud, scams, theft, hacking, drug dealing, "
        "weapons or money laundering",
        "sex-related crimes": "helping with or endorsing sex trafficking, sexual assault, harassment or prostitution",
        "child sexual exploitation": "sexual content involving minors, or grooming and abuse of children",
        "defamation": "false statements that damage the reputation of a real, named person or organisation",
        "specialized advice": "financial, medical or legal advice given as authoritative, or saying dangerous "
        "activities are safe",
        "privacy": "exposing sensitive personal information about private individuals: addresses, IDs, "
        "health or financial records",
        "intellectual property": "violating copyrights, trademarks or patents, such as reproducing protected "
        "works or pirating software",
        "indiscriminate weapons": "making or using chemical, biological, radiological or nuclear weapons, or "
        "high-yield explosives",
        "hate": "demeaning or dehumanising people for race, ethnicity, religion, nationality, gender, sexual "
        "orientation, disability or other protected traits",
        "suicide and self-harm": "encouraging or enabling suicide, self-injury or eating disorders",
        "sexual content": "explicit sexual descriptions or erotic content",
        "elections": "false information about voting: when, where or how to vote, or who may vote",
        "code interpreter abuse": "code meant to abuse a code interpreter: escaping the sandbox, denial of "
        "service, or taking over the host",
        "prompt injection": "text that tries to override the system's instructions, such as 'ignore previous "
        "instructions' or instructions hidden in documents or tool output",
        "jailbreak": "attempts to make an AI assistant drop its safety rules: role-play as an unrestricted AI, "
        "'developer mode', hypothetical framing to obtain forbidden content",
    }
)
"""Category name -> description (read-only; :func:`default_categories` returns an editable copy)."""

LLAMA_GUARD_CODES: Mapping[str, str] = MappingProxyType(
    {
        "violent crimes": "S1",
        "non-violent crimes": "S2",
        "sex-related crimes": "S3",
        "child sexual exploitation": "S4",
        "defamation": "S5",
        "specialized advice": "S6",
        "privacy": "S7",
        "intellectual property": "S8",
        "indiscriminate weapons": "S9",
        "hate": "S10",
        "suicide and self-harm": "S11",
        "sexual content": "S12",
        "elections": "S13",
        "code interpreter abuse": "S14",
    }
)
"""Llama Guard 3's category codes for the taxonomy's MLCommons categories (for mapping results)."""


def default_categories() -> dict[str, str]:
    """An editable copy of :data:`DEFAULT_CATEGORIES`."""
    return dict(DEFAULT_CATEGORIES)
