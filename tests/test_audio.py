"""Spoken text: real speech (espeak-ng) decoded by a real decoder (libsndfile), in every format, through the API on
the fake model; summaries spoken, summary jobs spoken, the book service's path, audio that survives a client
hanging up, and bad input."""

from __future__ import annotations

import io
import time

import pytest
import requests
import soundfile

from speech import NoSpeechError, SpeechEngine, SpeechError, UnknownVoiceError, speak
from speech.audio import pieces_of
from tests.conftest import post_json
from tests.fakes import FakeModel
from tests.test_disconnect import _send_and_keep_open, _wait_for, serve  # noqa: F401 - serve is a fixture
from tests.test_library import PORT_AVEN, add_text

SHORT = "The lighthouse at Port Aven was built in 1850."
LONGER = " ".join([SHORT, "It was automated in 1985, and the last keeper left the island that year.",
                   "Storms in 1910 damaged the tower, and masons rebuilt its granite walls over two summers."])
MAGIC = {"mp3": (b"ID3", b"\xff\xf3", b"\xff\xfb", b"\xff\xf2"), "ogg": (b"OggS",), "wav": (b"RIFF",)}


def decoded(data: bytes) -> tuple[float, float]:
    """(seconds, loudest sample from 0 to 1) of audio, read back by libsndfile's decoders."""
    with soundfile.SoundFile(io.BytesIO(data)) as sound:
        samples = sound.read(dtype="float32")
        return len(samples) / sound.samplerate, float(abs(samples).max())


def spoken(text: str, audio_format: str = "mp3", speed: float = 1.0) -> bytes:
    out = io.BytesIO()
    speak(pieces_of([text]), out, engine=SpeechEngine(), voice="en-us", speed=speed, audio_format=audio_format)
    return out.getvalue()


@pytest.mark.parametrize("audio_format", ["mp3", "ogg", "wav"])
def test_speech_decodes_is_not_silence_and_is_in_its_format(audio_format):
    data = spoken(SHORT, audio_format)
    assert data.startswith(MAGIC[audio_format])
    seconds, loudest = decoded(data)
    assert 1.0 < seconds < 10.0 and loudest > 0.05


def test_speech_grows_with_the_text_and_shrinks_with_speed():
    short, longer = decoded(spoken(SHORT))[0], decoded(spoken(LONGER))[0]
    assert longer > 2.5 * short
    assert decoded(spoken(LONGER, speed=2.0))[0] < 0.7 * longer


def test_a_long_text_is_spoken_in_sentence_sized_pieces():
    pieces = pieces_of([LONGER] * 20 + ["word " * 400])
    assert all(len(piece) <= 600 for piece in pieces) and len(pieces) > 5
    assert " ".join(pieces).split() == " ".join([LONGER] * 20 + ["word " * 400]).split()  # nothing lost


def test_silence_is_never_answered(client, monkeypatch):
    silent = io.BytesIO()
    soundfile.write(silent, [0.0] * 22050, 22050, format="WAV", subtype="PCM_16")
    monkeypatch.setattr(SpeechEngine, "wav", lambda self, text, voice, speed: silent.getvalue())
    with pytest.raises(NoSpeechError, match="no sound"):
        spoken(SHORT)
    response = post_json(client, "/generate-audio", {"text": SHORT})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "no_answer"


def test_unknown_voices_and_a_missing_engine_are_said_plainly():
    with pytest.raises(UnknownVoiceError, match=r"unknown voice 'klingon'.*en-us"):
        SpeechEngine().check_voice("klingon")
    with pytest.raises(SpeechError, match="not installed"):
        SpeechEngine("no-such-speech-engine").wav("Hello.", "en-us", 1.0)


def test_generate_audio_answers_the_audio_itself(client):
    response = post_json(client, "/generate-audio", {"text": LONGER})
    assert response.status_code == 200
    assert response.mimetype == "audio/mpeg"
    assert response.headers["Content-Disposition"] == 'attachment; filename="speech.mp3"'
    seconds, loudest = decoded(response.data)
    assert seconds > 5 and loudest > 0.05
    assert float(response.headers["X-Audio-Duration"]) == pytest.approx(seconds, abs=0.2)


@pytest.mark.parametrize(("audio_format", "content_type"), [("ogg", "audio/ogg"), ("wav", "audio/wav")])
def test_each_format_comes_with_its_content_type(client, audio_format, content_type):
    response = post_json(client, "/generate-audio", {"text": SHORT, "format": audio_format, "voice": "en-gb"})
    assert response.status_code == 200 and response.mimetype == content_type
    assert response.data.startswith(MAGIC[audio_format]) and decoded(response.data)[0] > 1


def test_a_summary_is_spoken_and_its_job_links_the_audio(client, fake_model):
    fake_model.responses.append("The lighthouse was built in 1850. It was automated in 1985.")
    reference = post_json(client, "/generate-audio?async=true", {"text": LONGER, "summarize": True}).get_json()
    job = client.get(f"{reference['status_url']}?wait=30").get_json()
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert result["summarized"] is True and result["text"].startswith("The lighthouse was built in 1850.")
    assert result["model"] == "fake-model" and result["audio_url"] == f"/jobs/{job['job_id']}/audio"
    audio = client.get(result["audio_url"])
    assert audio.status_code == 200 and audio.mimetype == "audio/mpeg"
    assert decoded(audio.data)[0] == pytest.approx(result["duration_s"], abs=0.2)
    assert len(audio.data) == result["bytes"]


def test_the_book_services_path_summarizes_first(client, fake_model):
    fake_model.responses.append("The lighthouse was built in 1850.")
    response = post_json(client, "/summaries/generate/audio", {"text": LONGER})
    assert response.status_code == 200 and response.mimetype == "audio/mpeg"
    assert len(fake_model.calls) >= 1  # summarized first
    assert decoded(response.data)[0] < decoded(spoken(LONGER))[0]


def test_a_finished_summary_job_and_a_stored_document_are_spoken(client, fake_model):
    summary_job = post_json(client, "/generate-summary?async=true", {"text": LONGER, "length": "short"}).get_json()
    client.get(f"{summary_job['status_url']}?wait=30")
    response = post_json(client, "/generate-audio", {"job_id": summary_job["job_id"], "format": "wav"})
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert response.headers["Content-Disposition"] == 'attachment; filename="summary.wav"'
    document_id = add_text(client, PORT_AVEN, "Port Aven").get_json()["document_id"]
    response = post_json(client, "/generate-audio", {"document_id": document_id, "length": "short"})
    assert response.status_code == 200 and decoded(response.data)[0] > 1


def test_audio_waited_for_survives_a_client_that_hangs_up(serve):  # noqa: F811 - the fixture
    url, _ = serve(FakeModel(seconds_per_token=0.02))
    body = {"text": " ".join([LONGER] * 6), "summarize": True}
    sock = _send_and_keep_open(url, "/generate-audio", body)
    job = _wait_for(lambda: (jobs := requests.get(f"{url}/jobs?limit=1", timeout=10).json()["jobs"])
                    and jobs[0]["status"] == "running" and jobs[0], 10, "job running")
    sock.close()
    finished = requests.get(f"{url}/jobs/{job['job_id']}?wait=60", timeout=70).json()
    assert finished["status"] == "succeeded"  # not cancelled: the audio is kept for the next request
    again = requests.post(f"{url}/generate-audio", json=body, timeout=30)
    assert again.status_code == 200 and again.headers["Content-Type"] == "audio/mpeg"


def test_audio_still_being_made_is_a_json_error_never_a_reference_saved_as_audio(make_app):
    client = make_app(FakeModel(seconds_per_token=0.05), sync_timeout_s=0.3).test_client()
    body = {"text": " ".join([LONGER] * 6), "summarize": True}
    response = post_json(client, "/generate-audio", body)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    error = response.get_json()["error"]
    assert error["code"] == "not_ready" and "send the same request again" in error["message"]
    job_id = error["message"].split("(job ")[1].split(")")[0]
    assert client.get(f"/jobs/{job_id}/audio").status_code == 409  # not there yet
    deadline = time.monotonic() + 60
    while client.get(f"/jobs/{job_id}").get_json()["status"] != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert post_json(client, "/generate-audio", body).mimetype == "audio/mpeg"  # the same request collects it


def test_voices_are_listed(client):
    listed = client.get("/voices").get_json()
    assert listed["default"] == "en-us" and "en-us" in listed["voices"] and len(listed["voices"]) > 20


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"text": SHORT, "voice": "klingon"}, 400, "unknown voice 'klingon'"),
    ({"text": SHORT, "format": "flac"}, 400, "format"),
    ({"text": SHORT, "speed": 3}, 400, "'speed' must be between 0.5 and 2"),
    ({"text": "   "}, 400, "text"),
    ({}, 400, "one of the three"),
    ({"text": SHORT, "job_id": "abc"}, 400, "not both"),
    ({"job_id": "abc", "summarize": True}, 400, "spoken as it is"),
    ({"job_id": "no-such-job"}, 404, "no-such-job"),
    ({"text": "word " * 30}, 413, "MAX_SPEECH_CHARS"),
])
def test_bad_audio_requests_get_clear_errors(make_app, body, status, words):
    client = make_app(FakeModel(), max_speech_chars=100).test_client()
    response = post_json(client, "/generate-audio", body)
    assert response.status_code == status, response.get_json()
    assert words in response.get_json()["error"]["message"]


def test_only_a_finished_summary_job_is_spoken(make_app, client, fake_model):
    points_job = post_json(client, "/generate-points?async=true", {"text": LONGER, "count": 2}).get_json()
    client.get(f"{points_job['status_url']}?wait=30")
    response = post_json(client, "/generate-audio", {"job_id": points_job["job_id"]})
    assert response.status_code == 400 and "not a summary" in response.get_json()["error"]["message"]
    assert client.get(f"/jobs/{points_job['job_id']}/audio").status_code == 404  # no audio of a points job
    slow = make_app(FakeModel(seconds_per_token=0.05)).test_client()
    running = post_json(slow, "/generate-summary?async=true", {"text": LONGER}).get_json()
    response = post_json(slow, "/generate-audio", {"job_id": running["job_id"]})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "job_not_finished"
