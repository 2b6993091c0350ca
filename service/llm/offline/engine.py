"""The offline engine: deterministic extractive analysis when no model provider is configured."""

from __future__ import annotations

from service.llm.base import RunHooks
from service.models import EngineAnswer, EngineOutput, JobSpec, PackedPrompt, Usage

from .analysis import Analysis, analyse, facts_dict
from .corpus import build_corpus
from .qa import answer_question
from .render import LABEL
from .runctl import Guard
from .summarize import summarize

MODEL = "longdoc-offline-1"


class OfflineEngine:
    """Summaries and answers built from the documents' own sentences, facts and log statistics.

    No language model is involved: every answer says so on its first line, and every quote is an exact
    substring of the cited page or lines.
    """

    name = "offline"
    model = MODEL

    def run(self, prompt: PackedPrompt, spec: JobSpec, hooks: RunHooks) -> EngineOutput:
        guard = Guard(hooks)
        guard.progress(0.0)
        corpus = build_corpus(prompt.documents, guard)
        guard.progress(35.0)
        analysis = analyse(corpus, guard, spec.options)
        guard.progress(60.0)
        options = spec.options
        if prompt.job_type == "summarize":
            answers = [summarize(analysis, options.summary_sentences, options.max_citations, guard)]
        else:
            answers = self._answers(analysis_questions(prompt, spec), analysis, options.max_citations, guard)
        facts = facts_dict(analysis)
        guard.progress(100.0)
        completion = sum(len(answer.answer) for answer in answers) // 4
        prompt_tokens = prompt.manifest.total_tokens
        usage = Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion,
            total_tokens=prompt_tokens + completion,
            estimated=True,
        )
        return EngineOutput(self.name, MODEL, answers, usage=usage, finish_reason="stop", facts=facts)

    @staticmethod
    def _answers(
        questions: list[str], analysis: Analysis, max_citations: int, guard: Guard
    ) -> list[EngineAnswer]:
        if not questions:
            return [EngineAnswer(None, f"{LABEL}\n\nNo question was given.\n")]
        answers = []
        for number, question in enumerate(questions):
            guard.progress(60.0 + 40.0 * number / len(questions))
            answers.append(answer_question(analysis, question, max_citations))
        return answers


def analysis_questions(prompt: PackedPrompt, spec: JobSpec) -> list[str]:
    """The prompt's questions, falling back to the spec's when the packer passed none."""
    return [q for q in prompt.questions if q.strip()] or spec.all_questions()
