"""Speech speed and memory (speech/): seconds of speech made per second of compute, and peak memory, for a
2,000-word text (and a 4× longer one, to show memory does not grow with the text).

    python3 manage.py install --bench
    .venv/bin/python bench/audio.py

The text is the body of the first ACLSum `train` paper, cut to the number of words. Each format is made in its own
child process, so that its peak memory (ru_maxrss) is its own: the figure includes Python, numpy and libsndfile
(the baseline, a child that only imports them, is printed too); tracemalloc's peak is the Python heap alone.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def text_of(words: int) -> str:
    from bench.quality import load_papers

    body = load_papers("train", 1)[0]["body"].split()
    while len(body) < words:
        body = body + body
    return " ".join(body[:words])


def measure(words: int, audio_format: str) -> dict:
    """Speak the text in this process (the child's job) and report."""
    from llm.cleanup import split_sentences
    from speech import SpeechEngine, speak
    from speech.audio import pieces_of

    text = text_of(words)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    cpu = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryFile() as out:
        spoken = speak(pieces_of(split_sentences(text)), out, engine=SpeechEngine(), voice="en-us", speed=1.0,
                       audio_format=audio_format)
        size = out.tell()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    engine_cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    _, heap_peak = tracemalloc.get_traced_memory()
    return {"format": audio_format, "words": words, "speech_s": spoken.duration_s, "wall_s": wall,
            "cpu_s": time.process_time() - cpu + engine_cpu, "pieces": spoken.pieces, "bytes": size,
            "rss_before_mb": baseline / 1024, "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "heap_peak_mb": heap_peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", default="2000,8000", help="text lengths, comma-separated")
    parser.add_argument("--formats", default="mp3,ogg,wav")
    parser.add_argument("--child", nargs=2, metavar=("WORDS", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(int(args.child[0]), args.child[1])))
        return
    print(f"command: .venv/bin/python bench/audio.py {' '.join(sys.argv[1:])}")
    print(f"machine: {platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}")
    print("| words | format | speech | wall time | speech s per wall s | CPU s (all processes) | pieces | file | "
          "peak RSS (before speaking) | Python heap peak |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for words in [int(value) for value in args.words.split(",")]:
        for audio_format in args.formats.split(","):
            child = subprocess.run([sys.executable, __file__, "--child", str(words), audio_format],
                                   capture_output=True, text=True, check=True)
            row = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"| {words:,} | {audio_format} | {row['speech_s'] / 60:.1f} min | {row['wall_s']:.1f} s | "
                  f"{row['speech_s'] / row['wall_s']:.0f}× | {row['cpu_s']:.1f} | {row['pieces']} | "
                  f"{row['bytes'] / 2**20:.1f} MB | {row['rss_peak_mb']:.0f} MB ({row['rss_before_mb']:.0f} MB) | "
                  f"{row['heap_peak_mb']:.1f} MB |", flush=True)


if __name__ == "__main__":
    main()
