"""Model loading, prompts and generation: the only package that talks to llama.cpp."""

from llm.chunking import TextBlock, blocks_from_text
from llm.points import PointsResult, key_points
from llm.runner import TaskRunner
from llm.summarize import SummaryResult, summarize

__all__ = ["PointsResult", "SummaryResult", "TaskRunner", "TextBlock", "blocks_from_text", "key_points", "summarize"]
