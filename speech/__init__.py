"""Speech: a text spoken by an offline engine and encoded as MP3, Ogg Vorbis or WAV, in sentence-sized pieces so
that memory stays bounded whatever the text's length. No Flask and no model here: tasks/audio.py uses it.

- engine.py runs the speech engine, Debian's espeak-ng, as a separate process for each piece. espeak-ng is
  GPL-3.0; it is never linked into this service, only run as a program, so the service's own licence is not
  bound by it (README "Spoken summaries").
- audio.py splits the text, speaks each piece and encodes the sound as it comes, with libsndfile (through the
  soundfile package; LAME inside it makes the MP3s).
"""

from speech.audio import FORMATS, Spoken, speak
from speech.engine import NoSpeechError, SpeechEngine, SpeechError, UnknownVoiceError

__all__ = ["FORMATS", "NoSpeechError", "SpeechEngine", "SpeechError", "Spoken", "UnknownVoiceError", "speak"]
