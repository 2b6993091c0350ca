"""Model-free log analysis: timestamps, levels, events and event templates.

Typical use::

    summary = mine_file("app.log")          # LogSummary; summary.to_dict() for JSON
    miner = TemplateMiner(sample=first_lines)
    tid = miner.add(line_no, line)           # streaming; miner.templates() at the end
"""

from .events import Event, iter_events
from .header import HeaderModel, learn_header
from .levels import detect_level
from .masking import WILDCARD, mask_text, mask_token
from .summary import LogSummary, mine_file
from .templates import Template, TemplateMiner
from .timestamps import TimestampDetector

__all__ = [
    "WILDCARD",
    "Event",
    "HeaderModel",
    "LogSummary",
    "Template",
    "TemplateMiner",
    "TimestampDetector",
    "detect_level",
    "iter_events",
    "learn_header",
    "mask_text",
    "mask_token",
    "mine_file",
]
