"""A text spoken piece by piece and encoded as it comes: at most one piece's sound is in memory at a time."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO

import soundfile

from speech.engine import NoSpeechError, SpeechEngine

PIECE_CHARS = 600  # sentences are joined into pieces of about this many characters (a few seconds of speech)
SILENT_PEAK = 64  # a piece whose loudest sample is below this (of 32767) is silence


@dataclass(frozen=True)
class AudioFormat:
    """How one of the formats is written: its content type and libsndfile's format and subtype."""

    content_type: str
    container: str
    subtype: str


FORMATS = {
    "mp3": AudioFormat("audio/mpeg", "MP3", "MPEG_LAYER_III"),
    "ogg": AudioFormat("audio/ogg", "OGG", "VORBIS"),
    "wav": AudioFormat("audio/wav", "WAV", "PCM_16"),
}


@dataclass(frozen=True)
class Spoken:
    """What was written: seconds of speech and the pieces spoken."""

    duration_s: float
    pieces: int


def pieces_of(sentences: Iterable[str], max_chars: int = PIECE_CHARS) -> list[str]:
    """Sentences joined into pieces of at most max_chars (a longer sentence is a piece of its own, cut at spaces
    when it is longer still)."""
    pieces: list[str] = []
    current = ""
    for sentence in sentences:
        sentence = " ".join(sentence.split())
        if current and len(current) + 1 + len(sentence) > max_chars:
            pieces.append(current)
            current = ""
        while len(sentence) > max_chars:  # one endless "sentence" (a table, a list without stops)
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            pieces.append(sentence[:cut])
            sentence = sentence[cut:].strip()
        current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return [piece for piece in pieces if piece]


def speak(pieces: list[str], out: BinaryIO, *, engine: SpeechEngine, voice: str, speed: float, audio_format: str,
          should_stop: Callable[[], bool] = lambda: False,
          on_piece: Callable[[int, int], None] = lambda done, total: None) -> Spoken:
    """Speak the pieces into out (a seekable binary file) in the format; raises SpeechError when the engine fails,
    NoSpeechError when everything it made is silence. should_stop is asked between pieces (raise from it to
    stop)."""
    chosen = FORMATS[audio_format]
    frames = 0
    loudest = 0
    written = None
    try:
        for number, piece in enumerate(pieces):
            on_piece(number, len(pieces))
            should_stop()
            with soundfile.SoundFile(io.BytesIO(engine.wav(piece, voice, speed))) as spoken:
                sound = spoken.read(dtype="int16")
                rate = spoken.samplerate
            if written is None:
                written = soundfile.SoundFile(out, mode="w", samplerate=rate, channels=1, format=chosen.container,
                                              subtype=chosen.subtype)
            if len(sound):
                written.write(sound)
                frames += len(sound)
                loudest = max(loudest, int(abs(sound.astype("int32")).max()))
        on_piece(len(pieces), len(pieces))
    finally:
        if written is not None:
            written.close()
    if written is None or loudest < SILENT_PEAK:
        raise NoSpeechError("the speech engine made no sound of this text: it has nothing the voice can say")
    return Spoken(duration_s=frames / written.samplerate, pieces=len(pieces))
