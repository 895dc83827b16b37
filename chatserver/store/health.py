"""What the storage's health is, from what the writes met, and when the health check must look again.

Every write reports its outcome here. The health check cannot wait for traffic to find out that a
cause went away (a quiet night, a full disk emptied by an operator), so when the last outcome is
older than PROBE_EVERY it looks for itself with a tiny write of its own (Database.probe). While
requests write, their outcomes are fresh and no probe runs. A corrupt file does not heal by itself:
once seen, the health stays red until the process restarts (after the file is checked or restored).
Times are monotonic seconds, passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatserver.store.faults import LASTING

# how old the last write's outcome may be before the health check probes again
PROBE_EVERY = 1.0


@dataclass(frozen=True, slots=True)
class Report:
    ok: bool
    problem: str | None = None  # a fault kind from store/faults.py, when not ok
    message: str | None = None  # what SQLite said, for the log


OK = Report(True)


class StorageHealth:
    def __init__(self) -> None:
        self._failure: Report | None = None
        self._lasting: Report | None = None
        self._outcome_at: float | None = None

    def succeeded(self, now: float) -> None:
        self._failure = None
        self._outcome_at = now

    def failed(self, kind: str, message: str, now: float) -> None:
        self._failure = Report(False, kind, message)
        if kind in LASTING:
            self._lasting = self._failure
        self._outcome_at = now

    def report(self) -> Report:
        """What is known now, without looking."""
        return self._lasting or self._failure or OK

    def probe_due(self, now: float) -> bool:
        if self._lasting is not None:
            return False  # a probe on another table would say nothing about the damaged one
        return self._outcome_at is None or now - self._outcome_at >= PROBE_EVERY
