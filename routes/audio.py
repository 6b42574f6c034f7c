"""POST /generate-audio (and the book service's POST /summaries/generate/audio), GET /jobs/<id>/audio and GET /voices.
A request becomes an audio job (tasks/audio.py); a synchronous one answers with the audio itself, so that
`curl ... --output summary.mp3` saves audio or fails with a JSON error, never saves a job reference."""

from __future__ import annotations

from flask import Blueprint, Response, g, request, url_for

from jobs.errors import JobNotFinishedError, ResultNotReadyError
from jobs.store import SUCCEEDED, Job
from routes.apispec import GENERATE, JOBS, answers, api
from routes.auth import current_library
from routes.errors import ApiError, invalid_request
from routes.inputs import json_body, one_of, stored_document
from routes.resources import get_jobs, get_model_host, get_settings, get_speech
from routes.responses import json_response
from routes.schemas import AsyncQuery, AudioRequest, VoiceList, validate
from routes.submission import answer_job, job_answers
from speech import FORMATS
from tasks import Received, new_job
from tasks.audio import AUDIO, AudioOptions, AudioResult
from tasks.document import check_text, from_text
from tasks.errors import TextTooLongError

bp = Blueprint("audio", __name__)
AUDIO_TYPES = tuple(audio_format.content_type for audio_format in FORMATS.values())


def _summary_text(job_id: str) -> str:
    """The summary of a finished summary job of this library; 404, 400 or 409 (JobNotFinishedError) otherwise."""
    job = get_jobs().get(job_id, current_library())
    if job.task != "summary":
        raise invalid_request(f"job {job_id} is a {job.task} job, not a summary: only a summary's job can be spoken")
    if job.status != SUCCEEDED:
        state = "is still " + job.status if not job.finished else f"ended {job.status}, without a summary"
        raise JobNotFinishedError(f"job {job_id} {state}: speak its summary once it has succeeded")
    return job.result["summary"]


def _what_to_speak(body: AudioRequest, summarize_by_default: bool) -> tuple[Received, bool]:
    """The job's input (the text, the stored document, or a summary job's summary) and whether to summarize it."""
    one_of(body, ("text", "document_id", "job_id"),
           "send a 'text', a 'document_id' or a summary's 'job_id', one of the three")
    settings = get_settings()
    if body.job_id is not None:
        if body.summarize:
            raise invalid_request("a summary job's summary is spoken as it is: leave out 'summarize'")
        return from_text(_summary_text(body.job_id), settings.max_text_chars), False
    if body.document_id is not None:
        summarize = True if body.summarize is None else body.summarize
        received = stored_document(body.document_id)
        characters = sum(len(block.text) for block in received.document.blocks)
    else:
        summarize = summarize_by_default if body.summarize is None else body.summarize
        received = from_text(check_text(body.text), settings.max_text_chars)
        characters = len(body.text)
    if not summarize and characters > settings.max_speech_chars:
        raise TextTooLongError(f"the text has {characters:,} characters; at most {settings.max_speech_chars:,} are "
                               "spoken as given (MAX_SPEECH_CHARS): send a shorter text, or \"summarize\": true")
    return received, summarize


def _audio(job: Job) -> Response:
    """A finished audio job's file, as the answer."""
    stored = get_jobs().file(job.id)
    if stored is None:
        raise JobNotFinishedError(f"job {job.id} has no audio any more")
    result = AudioResult.model_validate(job.result)
    name = "summary" if result.summarized or job.options.get("source_job") else "speech"
    # Sent a chunk at a time from the database: a long text's audio is never all in memory.
    return Response(stored.chunks, mimetype=stored.content_type, headers={
        "Content-Disposition": f'attachment; filename="{name}.{result.format}"',
        "Content-Length": str(stored.size), "X-Audio-Duration": str(result.duration_s),
    })


def _not_ready(job: Job) -> Response:
    status_url = url_for("jobs.get_job", job_id=job.id)
    raise ResultNotReadyError(f"the audio is still being made (job {job.id}): send the same request again in a "
                              f"while, or follow {status_url} and then GET {status_url}/audio")


def _generate(summarize_by_default: bool) -> Response:
    settings = get_settings()
    query = validate(AsyncQuery, request.args.to_dict(), settings, strict=False, drop_empty=True)
    body = validate(AudioRequest, json_body(), settings, strict=True)
    received, summarize = _what_to_speak(body, summarize_by_default)
    voice = get_speech().check_voice(body.voice or settings.speech_voice)
    options = AudioOptions(summarize=summarize, length=body.length, voice=voice, format=body.format,
                           speed=body.speed, temperature=body.temperature, source_job=body.job_id)
    model = get_model_host().get()  # 503 while the model loads or when it failed to load
    job = get_jobs().submit(new_job(AUDIO, options, received, model.name, g.get("request_id"),
                                    library=current_library(), document_id=body.document_id))
    # A client that hangs up does not lose the audio: the job goes on, and the same request later collects it.
    return answer_job(job, body.run_async or query.run_async, _audio, on_unfinished=_not_ready, abandon=False)


_AUDIO_ANSWERS = job_answers(400, 404, 409, 413, 415, 422, 500, 503,
                             HTTP_200=(None, "The audio (MP3, Ogg Vorbis or WAV, as asked)."),
                             media={200: AUDIO_TYPES})


@bp.post("/generate-audio")
@api.validate(query=AsyncQuery, json=AudioRequest, resp=_AUDIO_ANSWERS, tags=[GENERATE],
              operation_id="generateAudio")
def generate_audio():
    """Speak a text, a document's summary or a finished summary

    The answer is the audio itself (`curl ... --output summary.mp3`): a `text` spoken as given (or summarized
    first with `"summarize": true`), a stored document's summary (`document_id`, at `length`), or the summary of a
    finished summary job (`job_id`). Offline speech (espeak-ng), in sentence-sized pieces, encoded as `format`.
    The work is a job that goes on if the client hangs up: the same request later collects the audio. Still
    running after SYNC_TIMEOUT_S it answers 503 `not_ready` (a JSON error, never a job reference saved as audio);
    with `async` it answers 202 with the job, whose result links GET /jobs/<id>/audio.
    """
    return _generate(summarize_by_default=False)


@bp.post("/summaries/generate/audio")
@api.validate(query=AsyncQuery, json=AudioRequest, resp=_AUDIO_ANSWERS, tags=[GENERATE],
              operation_id="generateSummaryAudio")
def generate_summary_audio():
    """Summarize a text and speak the summary (the book service's path)

    The same as POST /generate-audio, except that a `text` is summarized before it is spoken unless
    `"summarize": false` is sent, as the book service's endpoint did.
    """
    return _generate(summarize_by_default=True)


@bp.get("/jobs/<job_id>/audio")
@api.validate(resp=answers(404, 409, 500, HTTP_200=(None, "The audio."), media={200: AUDIO_TYPES}), tags=[JOBS],
              operation_id="getJobAudio", path_parameter_descriptions={"job_id": "The audio job's id."})
def job_audio(job_id: str):
    """The audio an audio job made

    409 `job_not_finished` while the job runs (or when it failed); 404 for a job that is not an audio job.
    """
    job = get_jobs().get(job_id, current_library())
    if job.task != AUDIO.name:
        raise ApiError(404, "not_found", f"job {job_id} is a {job.task} job: it has no audio")
    if job.status != SUCCEEDED:
        raise JobNotFinishedError(f"job {job_id} is {job.status}: its audio is there once it has succeeded")
    return _audio(job)


@bp.get("/voices")
@api.validate(resp=answers(500, 503, HTTP_200=(VoiceList, "The voices.")), tags=[GENERATE], operation_id="voices")
def voices():
    """The voices audio can be spoken with"""
    return json_response(VoiceList(voices=list(get_speech().voices), default=get_settings().speech_voice))
