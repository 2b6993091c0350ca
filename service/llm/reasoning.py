"""Separating a model's reasoning from its answer while the stream arrives.

`ThinkSplitter` is a small state machine over `content` text that may carry `<think>...</think>`:
- tags may be split across chunks at any position ("<thi" + "nk>"), so a possible tag prefix at the end of
  a chunk is held back until the next chunk decides it;
- the opening tag may be missing (the model starts mid-thought): until a tag or the end of the stream is
  seen, text is kept pending; a `</think>` then turns everything pending into reasoning, while the end of
  the stream without any tag turns it into answer;
- several think blocks are allowed; a stray `</think>` after the answer started is dropped.
Reasoning that arrives in separate fields (reasoning_content, reasoning, reasoning_details) never passes
through here; the stream accumulator keeps it apart.
"""

from __future__ import annotations

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"

_START, _THINK, _ANSWER = "start", "think", "answer"


def _held_prefix(text: str, tags: tuple[str, ...]) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of one of `tags`."""
    longest = 0
    for tag in tags:
        for size in range(min(len(tag) - 1, len(text)), longest, -1):
            if text.endswith(tag[:size]):
                longest = size
                break
    return longest


class ThinkSplitter:
    """Feed content pieces; read `.reasoning` and `.answer` after `finish()`."""

    def __init__(self) -> None:
        self._state = _START
        self._buffer = ""  # unprocessed text (may end in a partial tag)
        self._pending: list[str] = []  # START state: not yet known to be reasoning or answer
        self._reasoning: list[str] = []
        self._answer: list[str] = []
        self.saw_tags = False

    def feed(self, text: str) -> None:
        if not text:
            return
        self._buffer += text
        self._drain(final=False)

    def finish(self) -> None:
        """End of stream: flush held-back text and settle pending text."""
        self._drain(final=True)
        if self._buffer:
            self._sink().append(self._buffer)
            self._buffer = ""
        if self._pending:
            self._answer.extend(self._pending)  # no tag ever arrived: it was an answer
            self._pending = []

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    @property
    def answer(self) -> str:
        return "".join(self._answer)

    def _sink(self) -> list[str]:
        if self._state == _START:
            return self._pending
        return self._reasoning if self._state == _THINK else self._answer

    def _tags(self) -> tuple[str, ...]:
        return (CLOSE_TAG,) if self._state == _THINK else (OPEN_TAG, CLOSE_TAG)

    def _drain(self, final: bool) -> None:
        while self._buffer:
            found = self._next_tag()
            if found is None:
                keep = 0 if final else _held_prefix(self._buffer, self._tags())
                cut = len(self._buffer) - keep
                if cut:
                    self._sink().append(self._buffer[:cut])
                self._buffer = self._buffer[cut:]
                return
            pos, tag = found
            if pos:
                self._sink().append(self._buffer[:pos])
            self._buffer = self._buffer[pos + len(tag) :]
            self._on_tag(tag)

    def _next_tag(self) -> tuple[int, str] | None:
        hits = [(self._buffer.find(tag), tag) for tag in self._tags()]
        hits = [(pos, tag) for pos, tag in hits if pos >= 0]
        return min(hits) if hits else None

    def _on_tag(self, tag: str) -> None:
        self.saw_tags = True
        if tag == OPEN_TAG:
            if self._state == _START:
                self._answer.extend(self._pending)  # text before an explicit <think> is answer text
                self._pending = []
            self._state = _THINK
        elif self._state == _START:
            self._reasoning.extend(self._pending)  # missing <think>: everything so far was reasoning
            self._pending = []
            self._state = _ANSWER
        else:
            self._state = _ANSWER  # closes a think block, or a stray close tag in the answer (dropped)


def split_think(text: str) -> tuple[str, str]:
    """(reasoning, answer) of a complete text."""
    splitter = ThinkSplitter()
    splitter.feed(text)
    splitter.finish()
    return splitter.reasoning, splitter.answer
