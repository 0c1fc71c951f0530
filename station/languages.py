"""The languages the station's screens speak, by ISO 639-1 code.

English is the language of the code and the files; the UI ships a translation for each
other language here (``ui/translations/``). The station config's ``[ui] language`` and a
sequence file's ``[translations.<code>]`` tables are checked against this list, so a
typing error is reported when the file is loaded, not on the line.
"""

from __future__ import annotations

LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "ar": "العربية"}
"""Code → the language's own name (as the language selector shows it)."""
DEFAULT = "en"


def language_problem(code: object) -> str:
    """Why ``code`` is not a station language ("" when it is)."""
    if isinstance(code, str) and code in LANGUAGES:
        return ""
    known = ", ".join(f"{c!r} ({name})" for c, name in LANGUAGES.items())
    return f"unknown language {code!r}; the station speaks {known}"
