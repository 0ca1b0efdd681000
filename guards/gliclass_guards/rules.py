"""RuleGuard: natural-language rules, a verdict per rule (follows / violates) with its score.

Recipe (GLiClass's rule-following use: the domain in the prompt, each rule as a label): every rule is one label
scored against the text in one pass, sigmoid; the score is read as "the text follows this rule" (a rule is a claim
about the text, as a hypothesis is in NLI). A rule is violated when its score is below its threshold; the risk is
``1 - score`` of the worst rule. Write rules as statements a compliant text makes true ("The reply is polite",
"The text gives no dosage advice"): an embedding model without NLI training scores topic similarity, not
negation, so a prohibition phrased as "Do not discuss X" scores a text about X as *following* it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._validation import check_names, check_optional_str, check_probability, check_thresholds
from .actions import OnFail
from .base import DEFAULT_REFUSAL, ModelArg, OnError, TextGuard
from .errors import GuardConfigError
from .results import Check, GuardResult, Violation

__all__ = ["DEFAULT_RULE_PROMPT", "RuleGuard"]

DEFAULT_RULE_PROMPT = "Domain: {domain}."


def _rules(rules: object) -> dict[str, str]:
    if isinstance(rules, Mapping):
        names = check_names("rules", list(rules))
        out = {}
        for name in names:
            text = rules[name]
            if not isinstance(text, str) or not text.strip():
                raise GuardConfigError(f"rules[{name!r}] must be the rule's text (a non-empty str), but got {text!r}")
            out[name] = text
        if len(set(out.values())) != len(out):
            raise GuardConfigError("rules has the same rule text under two names; rule texts must be unique")
        return out
    return {rule: rule for rule in check_names("rules", rules)}


class RuleGuard(TextGuard):
    """Checks a text against natural-language rules: ``result.checks`` holds one verdict per rule
    (``passed`` = follows), ``result.violations`` the violated rules.

    Args:
        rules: a list of rule texts, or a dict rule name -> rule text (results then report the names).
        domain: what the texts are about ("customer support for a bank"); goes into GLiClass's prompt.
        threshold: the "follows" score a rule needs, for rules ``thresholds`` does not name.
        thresholds: per-rule thresholds (by rule name, or by rule text for a list).
        prompt_template: the prompt made of the domain; must contain ``{domain}``.
        on_fail, on_error, refusal, redaction, device, dtype, batch_size: see :class:`gliclass_guards.base.Guard`.

    A response checked with ``prompt=`` (the user message) gets ``" User message: <prompt>"`` after the domain.
    """

    kind = "rules"

    def __init__(
        self,
        model: ModelArg = None,
        *,
        rules: Sequence[str] | Mapping[str, str],
        domain: str | None = None,
        threshold: float = 0.5,
        thresholds: Mapping[str, float] | None = None,
        prompt_template: str = DEFAULT_RULE_PROMPT,
        on_fail: OnFail = "noop",
        on_error: OnError = "closed",
        refusal: str = DEFAULT_REFUSAL,
        redaction: str = "",
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int = 8,
    ) -> None:
        super().__init__(
            model, on_fail=on_fail, on_error=on_error, refusal=refusal, redaction=redaction, device=device,
            dtype=dtype, batch_size=batch_size,
        )  # fmt: skip
        self._rules = _rules(rules)
        self.domain = check_optional_str("domain", domain)
        self.threshold = check_probability("threshold", threshold)
        self.thresholds = check_thresholds("thresholds", thresholds, list(self._rules))
        if not isinstance(prompt_template, str) or "{domain}" not in prompt_template:
            raise GuardConfigError(
                f"prompt_template must be a str containing '{{domain}}', but got {prompt_template!r}"
            )
        self.prompt_template = prompt_template

    @property
    def rules(self) -> dict[str, str]:
        """Rule name -> rule text (a copy)."""
        return dict(self._rules)

    def _settings(self) -> dict[str, Any]:
        return {
            "rules": dict(self._rules),
            "domain": self.domain,
            "threshold": self.threshold,
            "thresholds": dict(self.thresholds),
            "prompt_template": self.prompt_template,
        }

    def _prompt(self, asked: str | None) -> str:
        parts = [self.prompt_template.replace("{domain}", self.domain)] if self.domain else []
        if asked:
            parts.append(f"User message: {asked}")
        return " ".join(parts)

    def _evaluate(self, texts: list[str], prompts: list[str | None]) -> list[GuardResult]:
        def compute() -> list[GuardResult]:
            todo = [i for i, text in enumerate(texts) if text.strip()]
            results = [GuardResult(self.kind, text, passed=True, score=0.0) for text in texts]
            if not todo:
                return results
            labels = list(self._rules.values())
            asked = [self._prompt(prompts[i]) for i in todo]
            prompt = asked if any(asked) else None
            rows = self._model_scores([texts[i].strip() for i in todo], labels, prompt=prompt)
            for i, row in zip(todo, rows, strict=True):
                results[i] = self._result(texts[i], row)
            return results

        return self._guarded(texts, compute)

    def _result(self, text: str, row: Mapping[str, float]) -> GuardResult:
        stripped = text.strip()
        start = text.index(stripped)
        span = (start, start + len(stripped))
        checks = []
        violations = []
        for name, rule in self._rules.items():
            score = float(row[rule])
            limit = self.thresholds.get(name, self.threshold)
            checks.append(Check(name, score, 1.0 - score, limit, score >= limit, span))
            if score < limit:
                reason = f"violates the rule {rule!r}: follows-score {score:.3f} is below its threshold {limit:.2f}"
                violations.append(Violation(name, 1.0 - score, span, reason, stripped))
        return GuardResult(
            self.kind,
            text,
            passed=not violations,
            score=max(c.risk for c in checks),
            violations=tuple(violations),
            checks=tuple(checks),
        )
