"""The results table: printed at the end and written to bench/results/<date>.md."""

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

Value = float | int | str | tuple


@dataclass
class Row:
    subject: str
    metric: str
    value: Value
    baseline: Value | None = None
    target: str = ""
    met: bool | None = None


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str = ""

    def row(self, subject: str, metric: str, value: Value, *, baseline: Value | None = None, target: str = "",
            met: bool | None = None) -> None:
        self.rows.append(Row(subject, metric, value, baseline, target, met))

    def note(self, text: str) -> None:
        self.notes.append(text)


def at_least(values: tuple[float, ...]) -> tuple[str, ...]:
    """Figures that are lower bounds (work was still open when they were taken), marked so."""
    return tuple(f"≥ {fmt(float(v))}" for v in values)


def fmt(value: Value | None) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return " / ".join(fmt(v) for v in value)
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def ratio(value: Value, baseline: Value | None) -> str:
    """value / baseline, element by element for tuples (e.g. p50 / p95 / p99)."""
    if baseline is None:
        return ""
    if isinstance(value, tuple) and isinstance(baseline, tuple) and len(value) == len(baseline):
        return " / ".join(ratio(v, b) for v, b in zip(value, baseline))
    if isinstance(value, (int, float)) and isinstance(baseline, (int, float)) and baseline:
        return f"{value / baseline:.2f}x"
    return ""


def verdict(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: ""}[met]


def markdown(sections: list[Section], machine: dict[str, str], sizes: dict[str, str], started: datetime,
             seconds: float, quick: bool) -> str:
    lines = [
        f"# Switchboard benchmarks, {started:%Y-%m-%d %H:%M} UTC" + (" (quick mode: tiny sizes)" if quick else ""),
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()),
        "",
        "Sizes: " + ", ".join(f"{k} {v}" for k, v in sizes.items()),
        "",
        f"Whole run: {seconds:.0f} s. Ratios are value / baseline measured in the same run.",
        "",
        "## Targets",
        "",
        summary(sections),
        "",
    ]
    for section in sections:
        lines += [f"## {section.title}", ""]
        if section.error:
            lines += [f"Did not complete: {section.error}", ""]
        if section.rows:
            lines += ["| what | metric | value | baseline | ratio | target | |", "| --- | --- | ---: | ---: | ---: | --- | --- |"]
            for r in section.rows:
                lines.append(f"| {r.subject} | {r.metric} | {fmt(r.value)} | {fmt(r.baseline)} | "
                             f"{ratio(r.value, r.baseline)} | {r.target} | {verdict(r.met)} |")
            lines.append("")
        lines += [f"- {n}" for n in section.notes]
        if section.notes:
            lines.append("")
    return "\n".join(lines)


def summary(sections: list[Section]) -> str:
    """The rows that carry a target, one table: what the README shows."""
    lines = ["| part | what | metric | value | baseline | target | |", "| --- | --- | --- | ---: | ---: | --- | --- |"]
    for section in sections:
        part = section.title.split(" ", 1)[0].rstrip(".")
        if section.error:
            lines.append(f"| {part} | did not complete | {section.error} | | | | |")
        for r in section.rows:
            if r.target:
                lines.append(f"| {part} | {r.subject} | {r.metric} | {fmt(r.value)} | {fmt(r.baseline)} | "
                             f"{r.target} | {verdict(r.met)} |")
    return "\n".join(lines)


def write(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
