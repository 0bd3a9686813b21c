"""What import and export report: a `Message` per element left out or converted with a
caveat, and `Unsupported`, raised where a construct has no counterpart in the format."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Message:
    """Something import or export could not convert (error) or converted with a
    caveat (warning), naming the DMN element by kind, name and id."""

    severity: str  # "error": the element was left out; "warning": converted, read this
    element: str  # "decision", "input", "business knowledge model", "table", ...
    name: str
    id: str
    text: str
    topic: str = ""  # a short category, for summaries (`literal expression`)

    def format(self, model: str = "") -> str:
        where = f"{self.element} {self.name!r}" + (f" ({self.id})" if self.id else "")
        prefix = f"{model}: " if model else ""
        return f"{prefix}{self.severity}: {where}: {self.text}"


class Unsupported(Exception):
    """A DMN construct or FEEL text the workbook format cannot express."""

    def __init__(self, text: str, topic: str) -> None:
        super().__init__(text)
        self.text = text
        self.topic = topic
