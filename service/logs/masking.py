"""Tokenising messages and masking the variable parts of tokens.

A token is variable when its core (surrounding brackets/punctuation stripped) contains a digit
(numbers, IPs with ports, block ids, durations like 12ms, versions, hex with digits, UUIDs), is a
boolean or null literal, or looks like a path (also a relative one with a dotted part), URL, e-mail
or long hex word. ``key=value`` keeps the key and masks the value; so does ``label:value`` when the
label is letters only and the value has a digit (``onExtend:1514038530000``, ``port:8080``).
Quoted strings with spaces are one token and are masked whole, except an HTTP request line,
whose route keeps its constant segments (``"GET /api/users/<*> <*>"``); so is a date and time quoted
in a message with spaces (``at Fri Jun 17 07:07:00 2005``).

Per-token results are memoised in a bounded dict: words repeat endlessly in logs, so most
tokens cost one dict lookup.
"""

from __future__ import annotations

import re

__all__ = ["WILDCARD", "TokenMasker", "mask_text", "mask_token", "tokenize"]

WILDCARD = "<*>"
_LEAD = "([{<\"'"
_TRAIL = ")]}>,;:.\"'!?"
_EDGES = _LEAD + _TRAIL
_HAS_DIGIT = re.compile(r"\d").search
_SHAPES = re.compile(
    r"0[xX][0-9a-fA-F]+"
    r"|[0-9a-fA-F]{8,}"
    r"|[a-zA-Z][\w+.-]*://\S*"
    r"|[^@\s]+@[^@\s]+\.\w+"
    r"|~?/[^\s/]+(?:/[^\s/]*)*"
    r"|[A-Za-z]:\\\S*"
).fullmatch
# Tokens that are wholly variable with no surrounding punctuation to keep: the common case.
_PLAIN_VARIABLE = re.compile(r"([(\[{<\"']*)[\w.:/@+-]*\d[\w.:/@+-]*?([)\]}>,;:.\"'!?]*)").fullmatch
_KEY = re.compile(r"[A-Za-z_][\w.-]*").fullmatch
# A value that is one plain word (user=root, tty=NODEVssh, state=running) is kept like any other
# word: a slot of many such words still generalises in `clusters`, a few stay apart.
_WORD_VALUE = re.compile(r"[A-Za-z]+").fullmatch
# A relative path or component name with a dotted part: "conf/app.yaml", "com.example/.MainActivity".
_DOTTED_PATH = re.compile(r"[\w$-][\w.$-]*(?:/[\w.$-]*)+").fullmatch
# A word with a one-digit suffix names a thing, not a count: eth0, awdl0, IPv6, ssh2, md5.
_NAME_DIGIT = re.compile(r"[A-Za-z]{2,}\d").fullmatch
# A label padded with dot leaders up to its value, as in register and settings dumps.
_DOT_LEADER = re.compile(r"([A-Za-z][\w/()-]*\.{3,})[^.\s]*\d[^.\s]*").fullmatch
# A call-like token, name(arguments): the name is constant, the arguments are the variable part.
_CALL = re.compile(r"([A-Za-z_][\w.$:]*)\(([^()\s]+)\)").fullmatch
# A label glued to its value by a colon, "onExtend:1514038530000", "port:8080", "Time:12:30:00": the
# label (letters only, so never part of a hex id) stays, a value with a digit is variable.
_LABEL = re.compile(r"[A-Za-z_]{2,}").fullmatch
_LABELLED = re.compile(r"[(\[{<\"']*[A-Za-z_]{2,}:[^/]").match
# Boolean and null literals are values, like numbers: "down true", "isOn false", "ws=null".
_LITERALS = frozenset(("true", "false", "True", "False", "TRUE", "FALSE", "null", "NULL"))
# Route segments holding ids: any digit, or very long (hashes, tokens).
_ROUTE_VARIABLE = re.compile(r"(?<=/)(?:[^/\s]*\d[^/\s]*|[^/\s]{25,})").sub
# A double-quoted string, with spaces, is one token; so is key="value with spaces".
_QUOTED = r'(?:[A-Za-z_][\w.-]*=)?"[^"]*"\S*'
_QUOTED_SPLIT = re.compile(_QUOTED + r"|\S+").findall
_OPENERS = {")": "(", "]": "[", "}": "{", ">": "<"}
# A date and time quoted inside a message ("timed out at Sat Jun 18 02:23:10 2005"), spaces and all:
# ctime and syslog forms, optionally after a weekday and before a year.
_SPACED_TIME = (
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),? )?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2},? "
    r"\d{1,2}:\d{2}:\d{2}(?:\.\d+)?(?: \d{4}\b)?"
)
_MONTH_TOKENS = frozenset(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
)
# An amount with its unit, written with a space, is one token: "5.2 KB", "<1 sec", and with a
# restatement in other units, "18846 bytes (18.4 KB)", which only appears above some size. It masks
# to "<*> KB": the unit stays (and may itself vary, see `clusters`), the restatement goes.
AMOUNT_UNITS = (
    "B",
    "kB",
    "KB",
    "MB",
    "GB",
    "TB",
    "PB",
    "KiB",
    "MiB",
    "GiB",
    "TiB",
    "bytes",
    "ns",
    "us",
    "µs",
    "ms",
    "s",
    "sec",
    "secs",
)
_NUMBER = r"(?:[<>~]=?)?\d[\d.,]*"
_UNIT = "(?:" + "|".join(AMOUNT_UNITS) + ")"
_AMOUNT = rf"(?<!\S)(?P<lead>[(\[]?){_NUMBER} (?P<unit>{_UNIT})(?: \({_NUMBER} {_UNIT}\))?(?P<trail>[)\],;:.!?]*)(?!\S)"
_AMOUNT_TOKEN = re.compile(_AMOUNT).fullmatch
_UNIT_TOKENS = frozenset(
    unit + end for unit in AMOUNT_UNITS for end in ("", ",", ")", "),", ";", ".", ":", ").")
)
_SPACED_WORDS = _MONTH_TOKENS | _UNIT_TOKENS
_SPACED_SPLIT = re.compile(
    "|".join((_SPACED_TIME, re.sub(r"\?P<\w+>", "?:", _AMOUNT), _QUOTED, r"\S+"))
).findall
_HTTP_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT"})


def tokenize(message: str) -> list[str]:
    """Split on whitespace, keeping as one token a double-quoted string, a date and time written
    with spaces (``Fri Jun 17 07:07:00 2005``) and an amount with its unit (``18846 bytes (18.4 KB)``)."""
    tokens: list[str] = _QUOTED_SPLIT(message) if '"' in message else message.split()
    # Month names and unit words are rare enough that the costlier split runs only then.
    if not _SPACED_WORDS.isdisjoint(tokens):
        tokens = _SPACED_SPLIT(message)
    return tokens


def _mask_route(path: str) -> str:
    route, sep, _query = path.partition("?")
    return _ROUTE_VARIABLE("<*>", route) + (sep + WILDCARD if sep else "")


def _mask_quoted(token: str) -> str:
    first, last = token.index('"'), token.rindex('"')
    words = token[first + 1 : last].split()
    if len(words) >= 2 and words[0] in _HTTP_METHODS:
        inner = " ".join([words[0], _mask_route(words[1]), *(mask_token(w) for w in words[2:])])
    else:
        inner = WILDCARD
    return token[: first + 1] + inner + token[last:]


def _quoted_wildcard(value: str) -> str:
    """WILDCARD for a key's value, after its opening quote if any: ``tag="a b"`` and ``tag="a"`` mask alike."""
    return value[0] + WILDCARD if value[:1] in ('"', "'") else WILDCARD


def _core_end(token: str, start: int) -> int:
    """Where the token's core (from `start`) ends: before trailing punctuation, except closing
    brackets opened inside the core (``ws=Source{12},`` keeps ``}`` in its value)."""
    end = len(token.rstrip(_TRAIL))
    while end < len(token):
        closer = token[end]
        opener = _OPENERS.get(closer)
        if opener is None or token.count(opener, start, end) <= token.count(closer, start, end):
            break
        end += 1
    return end


def mask_token(token: str) -> str:
    """Return `token` with its variable part replaced by WILDCARD (or unchanged)."""
    if " " in token:
        if '"' in token:
            return _mask_quoted(token)
        amount = _AMOUNT_TOKEN(token)  # the unit stays, a restatement in other units goes
        return f"{amount['lead']}{WILDCARD} {amount['unit']}{amount['trail']}" if amount else WILDCARD
    start = len(token) - len(token.lstrip(_LEAD))
    end = _core_end(token, start)
    if start >= end:
        return token
    core = token[start:end]
    key, eq, value = core.partition("=")
    if eq and _KEY(key):  # key=value: the key stays, a value is variable
        if not value or (_WORD_VALUE(value) and value not in _LITERALS):
            return token
        return token[:start] + key + eq + _quoted_wildcard(value) + token[end:]
    # The rarer shapes are tested behind cheap substring checks: unique tokens come here often.
    if "..." in core:
        leader = _DOT_LEADER(core)
        if leader is not None:  # "depth.........0": a label, dot leaders, then its value
            return token[:start] + leader.group(1) + WILDCARD + token[end:]
    if core[-1] == ")":
        call = _CALL(core)
        if call is not None and _variable_args(call.group(2)):  # "PollerOpen(0)": the name stays
            return token[:start] + call.group(1) + "(" + WILDCARD + ")" + token[end:]
    if ":" in core:  # "isOverlap:false", "onExtend:1514038530000": a label stays, its value is variable
        name, _, flag = core.partition(":")
        if (flag in _LITERALS and _KEY(name)) or (_HAS_DIGIT(flag) and flag[0] != "/" and _LABEL(name)):
            return token[:start] + name + ":" + WILDCARD + token[end:]
    if _named_by_digit(core):
        return token
    if (
        _HAS_DIGIT(core)
        or _SHAPES(core)
        or core in _LITERALS
        or ("/" in core and "." in core and _DOTTED_PATH(core))
    ):
        return token[:start] + WILDCARD + token[end:]
    return token


def _named_by_digit(core: str) -> bool:
    return core[-1:].isdigit() and core[-2:-1].isalpha() and _NAME_DIGIT(core) is not None


def _variable_args(args: str) -> bool:
    return bool(_HAS_DIGIT(args)) or args in _LITERALS


class TokenMasker(dict[str, str]):
    """Memoising `mask_token`: ``masker[token]`` is the masked token. Bounded by `limit` entries."""

    def __init__(self, limit: int = 200_000) -> None:
        super().__init__()
        self.limit = limit

    def __missing__(self, token: str) -> str:
        plain = (
            _PLAIN_VARIABLE(token)
            if "..." not in token and not _named_by_digit(token.strip(_EDGES)) and not _LABELLED(token)
            else None
        )
        if plain is not None:  # unique values (ids, IPs): not worth a cache slot
            lead, trail = plain.groups()
            return lead + WILDCARD + trail if lead or trail else WILDCARD
        masked = mask_token(token)
        if len(self) >= self.limit:
            self.clear()
        self[token] = masked
        return masked


def mask_text(message: str) -> str:
    """Mask every variable token of `message` and join the result with single spaces."""
    return " ".join(mask_token(t) for t in tokenize(message))
