"""`python -m tests.fake_node [api.py flags]`: the service's own server process (api.py's main, any ROLE) on the
fake model instead of the bundled one, for tests that run several real processes (the API nodes and workers of a
deployment on PostgreSQL). FAKE_SECONDS_PER_TOKEN slows its generation, so a test can act while a job runs;
FAKE_N_CTX and FAKE_MODEL_NAME set its context and name."""

from __future__ import annotations

import os
import sys

import api
from tests.fakes import FakeModel

if __name__ == "__main__":
    api.main(sys.argv[1:], model=FakeModel(seconds_per_token=float(os.environ.get("FAKE_SECONDS_PER_TOKEN", "0")),
                                           n_ctx=int(os.environ.get("FAKE_N_CTX", "2048")),
                                           name=os.environ.get("FAKE_MODEL_NAME", "fake-model")))
