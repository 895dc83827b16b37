"""What this machine cannot do: a test that needs it is skipped, and fails instead where every test
must run (STRICT_TESTS=1, which .ci/run sets), so that CI never passes on a suite that ran only in part."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def cannot_run_here(reason: str) -> NoReturn:
    if os.environ.get("STRICT_TESTS") == "1":
        pytest.fail(f"{reason} (STRICT_TESTS=1: every test must run on this machine)", pytrace=False)
    pytest.skip(reason)
