"""Regular expressions for contract facts, kept apart from the logic that uses them."""

from __future__ import annotations

import re

MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
)
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "eighteen": 18, "twenty": 20, "thirty": 30,
    "forty-five": 45, "sixty": 60, "ninety": 90, "twenty-four": 24, "thirty-six": 36,
}  # fmt: skip
_NUM = r"(?P<n>\d{1,4}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"

DATE = re.compile(
    rf"\b(?:(?:{MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:day\s+of\s+)?(?:{MONTHS})\.?,?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4})\b"
)
_AMOUNT_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
AMOUNT = re.compile(
    rf"(?P<cur1>USD|EUR|GBP|CHF|CAD|AUD|JPY|US\$|\$|\u20ac|\u00a3)\s?(?P<num1>{_AMOUNT_NUM})"
    r"(?:\s?(?P<mult1>million|billion|thousand)\b)?"
    rf"|\b(?P<num2>{_AMOUNT_NUM})\s?(?P<mult2>million|billion|thousand)?\s?"
    r"(?P<cur2>USD|EUR|GBP|CHF|CAD|AUD|JPY|[Dd]ollars|[Ee]uros|[Pp]ounds)\b"
)
DURATION = re.compile(
    rf"(?i)\b{_NUM}\s*(?:\(\d{{1,4}}\)\s*)?(?P<unit>business\s+day|calendar\s+day|day|week|month|year)s?\b"
)
DEFINED_PARTY = re.compile(
    r"\((?:hereinafter\s+(?:referred\s+to\s+as\s+)?)?(?:the\s+)?"
    r"[\"\u201c']([A-Z][A-Za-z ]{1,40})[\"\u201d']\)"
)
NAME_CUT = re.compile(r"(?:\bbetween\b|\band\b|\bby\b|\bwith\b|[;:]|\n\s*\n)\s*")
INCORPORATION = re.compile(r",?\s+(?:a|an)\s+[A-Za-z]+(?:\s+[A-Za-z-]+){0,4}\s*$|,\s*$")
ORG_SUFFIX = re.compile(
    r"\b(?:Inc|LLC|L\.L\.C|Ltd|Limited|GmbH|AG|plc|PLC|Corp|Corporation|Company|SA|S\.A|BV|B\.V|NV|N\.V"
    r"|LLP|LP|SAS|SARL|Pty|SE|KG|Oy|AB)\b"
)
BETWEEN = re.compile(
    r"\bbetween\s+(?P<a>[A-Z].{1,200}?)\s+and\s+(?P<b>[A-Z].{1,200}?)(?=[;]|\.\s|\n\n|$)", re.S
)
PARTY_CLEAN = re.compile(
    r"\s*(?:\(|,\s+(?:a|an|each|having|with|whose|located|organized)\b|,?\s+dated\b).*$", re.S
)
GOVERNING_LAW = re.compile(
    r"(?i:governed\s+by)(?:[\s,]+(?i:and\s+)?(?i:construed|interpreted|enforced)(?:\s+(?i:and\s+)?\w+)?"
    r"\s+(?i:in\s+accordance\s+with))?[\s,]+(?i:the\s+)?(?i:laws?|substantive\s+laws?)\s+(?i:of)\s+"
    r"(?i:the\s+)?(?P<juris>[A-Z][\w.]*(?:\s+(?:of\s+)?[A-Z][\w.]*){0,4}(?:\s+and\s+[A-Z]\w+)?)"
)
TERM = re.compile(r"(?i:\b(?:initial\s+)?term\b)")
RENEWAL = re.compile(
    r"(?i)\b(?:automatic(?:ally)?\s+renew\w*|renew\w*\s+automatically|successive\s+(?:renewal\s+)?"
    r"(?:terms?|periods?)|shall\s+renew|renewal\s+term)"
)
TERMINATION = re.compile(r"(?i)\bterminat\w*")
NOTICE_AFTER = re.compile(r"(?i)['\u2019]?s?\s+(?:prior\s+|advance\s+)?(?:written\s+)?notice")
NOTICE_BEFORE = re.compile(
    r"(?i)notice\s+(?:period\s+)?(?:of\s+)?(?:at\s+least\s+|not\s+less\s+than\s+|no\s+less\s+than\s+)?$"
)
CURE = re.compile(r"(?i)\bcure")
TERMINATION_GROUNDS = {
    "convenience": re.compile(r"(?i)\bconvenience|without\s+cause|for\s+any\s+reason"),
    "breach": re.compile(r"(?i)\bmaterial(?:ly)?\s+breach|\bbreach"),
    "insolvency": re.compile(r"(?i)insolven|bankrupt|receiver"),
}
LIABILITY = re.compile(r"(?i)\bliabilit")
LIABILITY_CAP = re.compile(
    r"(?i)\b(?:shall\s+not\s+exceed|not\s+to\s+exceed|exceed|limited\s+to|cap\b|in\s+no\s+event|aggregate)"
)
FEES_PAID = re.compile(r"(?i)(?:amounts?|fees?|charges?)\s+(?:actually\s+)?(?:paid|payable)[^.;]{0,100}")
NET_TERMS = re.compile(r"(?i)\bnet\s*[- ]?(\d{1,3})\b")
INVOICE_DUE = re.compile(
    r"(?i)within\s+(?P<d>[^.;]{1,25}?)\s+(?:of|after|from|following)\s+(?:the\s+)?(?:date\s+of\s+|receipt\s+of\s+)?"
    r"(?:the\s+|an\s+|each\s+|such\s+)?(?:applicable\s+)?invoice"
)
INTEREST = re.compile(
    r"(?i)(\d+(?:\.\d+)?)\s*%\s*(per\s+(?:month|annum|year)|a\s+month|monthly|annually|per\s+cent)?"
)
INTEREST_CONTEXT = re.compile(r"(?i)\binterest|late|overdue")
CONTRACT_WORDS = re.compile(r"(?i)\b(?:agreement|contract|hereinafter|whereas|the\s+parties)\b")
# Cheap tests that let most sentences skip the expensive patterns above.
HINT_DATE = re.compile(r"\d{4}")
HINT_AMOUNT = re.compile(r"[$\u20ac\u00a3]|\b(?:USD|EUR|GBP|CHF|CAD|AUD|JPY)\b|(?i:dollars|euros|pounds)")
HINT_TERM = re.compile(r"(?i)\bterm\b|renew")
HINT_PAYMENT = re.compile(r"(?i)\bnet\b|invoice|%")
