"""Sentences for people: counts with the right noun, text shortened between words."""


def count_of(n: int, noun: str, plural: str = "") -> str:
    """``count_of(1, "job")`` is "1 job", ``count_of(8, "job")`` "8 jobs" (``plural`` when not just +s)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def shortened(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: whole when it fits, else cut after its last whole word
    that fits, with "…" (a single word longer than that is cut inside it)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-") + "…"
