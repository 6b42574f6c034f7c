"""Tell real text from garbage: (cid:NN) runs, glyph names, private-use glyphs, mojibake, symbol soup."""

from __future__ import annotations

import re
import unicodedata

_CID = re.compile(r"\(cid:\d+\)")
# What a reader writes for a font with no map to Unicode (a Type 3 font's /g437/g258/g3...): glyph names, not text.
_GLYPH_NAMES = re.compile(r"(?:/[A-Za-z]{1,12}\d{1,6}){5,}")  # five or more in a row: paths have fewer
_MOJIBAKE = re.compile(r"Ã[\x80-\xbf\u0080-\u00bf]|â€|Â[\u00a0-\u00bf]|ï¿½")
_TOKEN = re.compile(r"\S+")
_DOT_LEADER = re.compile(r"(?:\s*\.){3,}")
_NUMBER = re.compile(r"[-+(]?\d[\d.,:/%)]*")
_LATIN_VOWELS = set("aeiouyàáâãäåèéêëìíîïòóôõöùúûüýÿæœ")


def _is_wordlike(token: str) -> bool:
    letters = [char for char in token if char.isalpha()]
    if len(letters) < max(1, len(token) // 2):
        return False
    latin = [char for char in letters if char.lower() <= "\u024f"]
    if len(latin) < len(letters) or len(letters) < 3:
        return True  # other scripts, and short words, are not judged by vowels
    return any(char.lower() in _LATIN_VOWELS for char in latin)


def is_garbled(text: str) -> bool:
    """Whether a page's text is mostly not readable language."""
    cids = len(_CID.findall(text))
    if cids >= 3:
        return True
    visible = [char for char in text if not char.isspace()]
    if not visible:
        return False
    if sum(len(run) for run in _GLYPH_NAMES.findall(text)) / len(visible) > 0.2:
        return True
    bad = sum(
        1 for char in visible if char == "\ufffd" or unicodedata.category(char) in ("Co", "Cn")
    )
    if bad / len(visible) > 0.1:
        return True
    if len(_MOJIBAKE.findall(text)) >= 3:
        return True
    # Tables of contents and figures are dots and numbers: judge only what is left.
    wordy = _NUMBER.sub(" ", _DOT_LEADER.sub(" ", text))
    wordy_visible = [char for char in wordy if not char.isspace()]
    if not wordy_visible:
        return False
    letters = sum(1 for char in wordy_visible if char.isalpha() or unicodedata.category(char) in ("Mn", "Mc"))
    if letters == 0 and len(wordy_visible) >= 3:
        return True
    # Formulas and code are symbol-heavy too: a low letter share alone is garbage only on a page of some size
    # whose tokens also fail the word test below.
    low_letters = len(wordy_visible) >= 20 and letters / len(wordy_visible) < 0.4
    tokens = _TOKEN.findall(wordy)
    wordlike = sum(1 for token in tokens if _is_wordlike(token))
    share = wordlike / len(tokens) if tokens else 1.0
    return len(tokens) >= 4 and (share < 0.4 or (low_letters and share < 0.6))
