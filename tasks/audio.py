"""The audio task: a text spoken (as given, or summarized first, as the book service did), saved with its job and
served by GET /jobs/<id>/audio. The speaking itself is in speech/."""

from __future__ import annotations

import re
import tempfile
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from llm import summarize
from llm.cleanup import split_sentences
from llm.prompts import LENGTHS
from speech import FORMATS, speak
from speech.audio import pieces_of
from tasks.base import Task, TaskOptions, TaskWork, Usage, Warnings
from tasks.document import Document
from tasks.errors import NoAnswerError

MIN_SPEED, MAX_SPEED = 0.5, 2.0


class AudioOptions(TaskOptions):
    """How a text is spoken, as its job keeps it (the text is the job's input)."""

    summarize: bool = Field(False, description="Summarize the text first and speak the summary.")
    length: Literal[tuple(LENGTHS)] = Field("medium", description="With `summarize`: the summary's length.")
    voice: str = Field(min_length=1, max_length=100, description="The voice (GET /voices lists them).")
    format: Literal[tuple(FORMATS)] = Field("mp3", description="mp3, ogg (Vorbis) or wav.")
    speed: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED, allow_inf_nan=False,
                         description="1 is the voice's usual pace (175 words a minute); 0.5 to 2.")
    source_job: str | None = Field(None, description="The summary job whose summary is spoken, when one was named.")


class AudioResult(BaseModel):
    """Audio made of a text: where to fetch it and what it holds."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    audio_url: str = Field(description="GET it for the audio itself.")
    content_type: str
    format: Literal[tuple(FORMATS)]
    voice: str
    speed: float
    duration_s: float = Field(gt=0, description="Seconds of speech.")
    bytes: int = Field(gt=0, description="Size of the audio file.")
    text: str = Field(description="What was spoken: the text as given, or its summary.")
    summarized: bool
    model: str | None = Field(None, description="The model that wrote the summary (none when the text was spoken "
                                                "as given).")
    usage: Usage | None = None
    elapsed_ms: int = Field(ge=0, description="Time the job's work took.")
    warnings: Warnings


def _sentences(text: str) -> list[str]:
    return [sentence for paragraph in re.split(r"\n\s*\n", text) for sentence in split_sentences(paragraph)]


def run(work: TaskWork, document: Document, options: AudioOptions) -> AudioResult:
    """Summarize the document if asked, then speak it into the job's file."""
    text = "\n\n".join(block.text for block in document.blocks)
    warnings = list(document.warnings)
    if options.summarize:
        made = summarize(work.runner, document.blocks, length=options.length, checkpoints=work.checkpoints,
                         plan=work.summary_plan)
        if not made.summary.strip():
            raise NoAnswerError("no summary could be written to speak: the text has no sentences to summarize")
        text = made.summary
        warnings += made.warnings
    chosen = FORMATS[options.format]
    with tempfile.TemporaryFile() as out:  # on disk: a long text's audio is never all in memory
        spoken = speak(pieces_of(_sentences(text)), out, engine=work.speech, voice=options.voice,
                       speed=options.speed, audio_format=options.format,
                       should_stop=work.runner.check_cancelled,
                       on_piece=lambda done, total: work.progress("speaking", done, total))
        size = out.tell()
        out.seek(0)
        work.save_file(chosen.content_type, out, size)
    return AudioResult(
        audio_url=f"/jobs/{work.job_id}/audio", content_type=chosen.content_type, format=options.format,
        voice=options.voice, speed=options.speed, duration_s=round(spoken.duration_s, 2), bytes=size, text=text,
        summarized=options.summarize, model=work.runner.model.name if options.summarize else None,
        usage=Usage(**work.runner.usage.as_dict()) if options.summarize else None, elapsed_ms=work.elapsed_ms(),
        warnings=warnings,
    )


AUDIO = Task(
    name="audio", title="Audio", options=AudioOptions, result=AudioResult, run=run,
    example={"text": "The lighthouse at Port Aven was built in 1850 to guide fishing boats past the reef.",
             "format": "mp3"},
)
