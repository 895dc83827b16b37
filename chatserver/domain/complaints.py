"""Complaint rules that chat closing needs: references, categories, due times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

SOURCES = ("chat_unanswered", "chat_not_solved", "agent_closed", "form", "agent_logged")
DEFAULT_CATEGORY = "other"


def format_reference(year: int, number: int) -> str:
    return f"C-{year}-{number:06d}"


@dataclass(frozen=True, slots=True)
class DueTimes:
    first_response_due: datetime
    resolution_due: datetime


def due_times(created_at: datetime, first_response_hours: float, resolution_hours: float) -> DueTimes:
    """Absolute UTC due times, fixed at creation so that restarts and clock steps cannot move them."""
    return DueTimes(
        first_response_due=created_at + timedelta(hours=first_response_hours),
        resolution_due=created_at + timedelta(hours=resolution_hours),
    )


def category_for_topic(topic: str | None, known_categories: set[str]) -> str:
    """A chat's topic is a category slug when the customer picked one; otherwise 'other'."""
    return topic if topic in known_categories else DEFAULT_CATEGORY
