"""Translations of a sequence's operator-visible texts, carried in the sequence file.

::

    [translations.fr]
    "Connect pack" = { name = "Raccorder le pack", text = "Pack sur le banc, …, porte fermée ?" }
    "DCIR" = { name = "Résistance interne" }

A table per language (``station.languages``), keyed by step name: ``name`` is the name
the operator screen shows for the step, ``text`` the prompt text the step asks (only for
a step with a ``text`` parameter). The file's sha256 and its release cover them like any
other line; the run record keeps the step names as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from station.inputs import did_you_mean
from station.languages import language_problem

FIELDS = ("name", "text")


@dataclass(frozen=True)
class StepText:
    """One step's texts in one language (None: not translated, the original shows)."""

    name: str | None = None
    text: str | None = None


Translations = Mapping[str, Mapping[str, StepText]]
"""Language code → step name → its translated texts."""


def load_translations(
    raw: object,
    prompt_texts: Mapping[str, str | None],
    broken: Iterable[str],
    problem: Callable[[str, str], None],
) -> dict[str, dict[str, StepText]]:
    """Check the ``[translations]`` table of a sequence file; report each problem once.

    ``prompt_texts`` maps every loaded step's name to its ``text`` parameter (or None);
    ``broken`` names steps that failed to load (they have their own problem already).
    """
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problem("translations", "must be a table per language, e.g. [translations.fr]")
        return {}
    skip = set(broken)
    out: dict[str, dict[str, StepText]] = {}
    for language, steps in raw.items():
        where = f"translations.{language}"
        wrong = language_problem(language)
        if wrong:
            problem(where, wrong)
            continue
        if not isinstance(steps, dict):
            problem(where, 'must be a table of step names, e.g. "DCIR" = { name = "…" }')
            continue
        table: dict[str, StepText] = {}
        for step, texts in steps.items():
            at = f"{where}.{step!r}"
            if step not in prompt_texts:
                if step not in skip:
                    problem(at, f"no step named {step!r}{did_you_mean(step, prompt_texts)}")
                continue
            found = _step_text(texts, prompt_texts[step], at, problem)
            if found is not None:
                table[step] = found
        out[language] = table
    return out


def _step_text(
    texts: object, prompt: str | None, at: str, problem: Callable[[str, str], None]
) -> StepText | None:
    if not isinstance(texts, dict):
        problem(at, 'must be a table such as { name = "…", text = "…" }')
        return None
    ok = True
    for key, value in texts.items():
        if key not in FIELDS:
            problem(f"{at}.{key}", f"unknown field{did_you_mean(key, FIELDS)}; use name or text")
            ok = False
        elif not isinstance(value, str) or not value.strip():
            problem(f"{at}.{key}", "must be a non-empty string")
            ok = False
    if "text" in texts and prompt is None:
        problem(f"{at}.text", "the step asks no prompt text to translate (no text parameter)")
        ok = False
    return StepText(texts.get("name"), texts.get("text")) if ok else None
