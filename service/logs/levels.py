"""Log level recognition in line headers.

Levels are normalised to TRACE, DEBUG, INFO, NOTICE, WARN, ERROR, FATAL so that counts from
different formats add up (ERR and SEVERE are ERROR, CRITICAL is FATAL, logcat's V is TRACE).
"""

from __future__ import annotations

__all__ = ["HEADER_TOKENS", "LEVEL_TOKENS", "detect_level", "level_of_token"]

_CANON = {
    "TRACE": "TRACE",
    "DEBUG": "DEBUG",
    "INFO": "INFO",
    "NOTICE": "NOTICE",
    "WARN": "WARN",
    "WARNING": "WARN",
    "ERROR": "ERROR",
    "ERR": "ERROR",
    "SEVERE": "ERROR",
    "FATAL": "FATAL",
    "CRITICAL": "FATAL",
    "CRIT": "FATAL",
}
_LETTERS = {"E": "ERROR", "W": "WARN", "I": "INFO", "D": "DEBUG", "V": "TRACE", "F": "FATAL"}

# How many header tokens after the timestamp are searched for a level.
HEADER_TOKENS = 6


def _variants() -> dict[str, str]:
    """Every spelling of a level token accepted in a header, mapped to its normalised level.

    Lower-case words count only when bracketed or followed by ':' ("[error]", "error:"), and
    single letters only as bare tokens, because message text is full of such words. A lookup
    table keeps this to one dict access per header token.
    """
    table = dict(_LETTERS)
    wrappers = ("[{}]", "<{}>", "({})", "{}:", "[{}]:", "{},", "|{}|", "{}|")
    for word, level in _CANON.items():
        for form in (word, word.title()):
            table[form] = level
            for wrap in wrappers:
                table[wrap.format(form)] = level
        for wrap in wrappers:
            table[wrap.format(word.lower())] = level
    return table


LEVEL_TOKENS: dict[str, str] = _variants()


def level_of_token(token: str) -> str | None:
    """Return the normalised level a header token names (see `LEVEL_TOKENS`), or None."""
    return LEVEL_TOKENS.get(token)


def detect_level(header: str) -> str | None:
    """Return the first level named in the first tokens of `header` (text after the timestamp)."""
    for token in header.split(None, HEADER_TOKENS)[:HEADER_TOKENS]:
        level = level_of_token(token)
        if level is not None:
            return level
    return None
