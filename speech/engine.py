"""The speech engine: espeak-ng, run as a program for each piece of text (a process boundary: it is GPL-3.0)."""

from __future__ import annotations

import difflib
import shutil
import subprocess
from dataclasses import dataclass
from functools import cached_property

BASE_WORDS_PER_MINUTE = 175  # espeak-ng's own default rate: speed 1.0
WELL_KNOWN = ("en-us", "en-gb", "de", "fr", "es", "it")  # named when a voice is unknown
PIECE_TIMEOUT_S = 60.0  # one sentence-sized piece takes milliseconds; a stuck engine is stopped


class SpeechError(Exception):
    """The speech engine is missing or failed."""


class NoSpeechError(SpeechError):
    """The engine made only silence of the text (nothing in it it can say)."""


class UnknownVoiceError(ValueError):
    """A voice the engine does not have."""


@dataclass(frozen=True)
class SpeechEngine:
    """espeak-ng at `command`; voices are its voice names (`en-us`, `en-gb`, `de`, ... as `espeak-ng --voices`
    lists them, with any voice files a user added to its data folder)."""

    command: str = "espeak-ng"

    def executable(self) -> str:
        """The engine's path; raises SpeechError when it is not installed."""
        found = shutil.which(self.command)
        if found is None:
            raise SpeechError(f"the speech engine {self.command!r} is not installed (Debian: apt-get install "
                              "espeak-ng; python3 manage.py install does it)")
        return found

    @cached_property
    def voices(self) -> tuple[str, ...]:
        """The voice names the engine has, sorted."""
        listed = subprocess.run([self.executable(), "--voices"], capture_output=True, text=True,
                                timeout=PIECE_TIMEOUT_S, check=False)
        if listed.returncode != 0:
            raise SpeechError("the speech engine could not list its voices")
        names = {line.split()[1] for line in listed.stdout.splitlines()[1:] if len(line.split()) > 1}
        return tuple(sorted(names))

    def check_voice(self, voice: str) -> str:
        """The voice, if the engine has it; else UnknownVoiceError naming some it has."""
        if voice not in self.voices:
            close = difflib.get_close_matches(voice, self.voices, n=3)
            suggested = list(dict.fromkeys([*close, *(name for name in WELL_KNOWN if name in self.voices)]))[:6]
            raise UnknownVoiceError(f"unknown voice {voice!r}: this server has {len(self.voices)} voices, e.g. "
                                    f"{', '.join(suggested or self.voices[:6])} (GET /voices lists them)")
        return voice

    def wav(self, text: str, voice: str, speed: float) -> bytes:
        """The piece spoken, as WAV bytes (16-bit mono at the voice's rate)."""
        rate = str(round(BASE_WORDS_PER_MINUTE * speed))
        try:
            # The text goes on stdin, never on the command line: it cannot be read as an option.
            spoken = subprocess.run([self.executable(), "--stdout", "-v", voice, "-s", rate],
                                    input=text.encode("utf-8"), capture_output=True, timeout=PIECE_TIMEOUT_S,
                                    check=False)
        except subprocess.TimeoutExpired:
            raise SpeechError(f"the speech engine took longer than {PIECE_TIMEOUT_S:.0f} s on one piece") from None
        if spoken.returncode != 0 or not spoken.stdout:
            raise SpeechError("the speech engine failed on a piece of the text")
        return spoken.stdout
