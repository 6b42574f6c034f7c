"""Model loading, prompts and generation: the only package that talks to llama.cpp."""

from llm.chunking import TextBlock, blocks_from_text
from llm.points import KeyPoints, key_points
from llm.runner import TaskRunner
from llm.summarize import Summary, summarize

__all__ = ["KeyPoints", "Summary", "TaskRunner", "TextBlock", "blocks_from_text", "key_points", "summarize"]
