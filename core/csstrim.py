"""Bootstrap's style sheet cut down to the rules whose classes Switchboard's own files mention.

Every page loads the style sheet before it can paint, and nine tenths of Bootstrap's 230 kB are
rules for components no page uses; on a phone parsing and matching them is most of the work before
the first paint. ``python -m core.csstrim`` writes the cut copy next to the vendored one (run it
after giving a page a Bootstrap class no page used before); a test checks that the committed copy
is what it makes from today's templates and code.

A rule stays when one of its selectors names only classes that appear as a word anywhere in the
templates, the scripts or the apps' Python (so a class built in a view, a form widget or a script
counts too); rules that name no class (elements, ``:root``, attributes) always stay. Generous on
purpose: a word that is only prose keeps a rule too, but no class a page can show is ever lost.
"""

import re
import sys
from collections.abc import Iterable
from pathlib import Path

SOURCE = Path("static/vendor/bootstrap/bootstrap.min.css")
TRIMMED = Path("static/vendor/bootstrap/bootstrap.trimmed.css")
# What a page's classes can come from; tests and benchmarks only read pages, they add none.
SKIP_DIRS = {"var", "tests", "bench", "static", "staticfiles", "templates", "docs"}

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_CLASS = re.compile(r"\.(-?[A-Za-z_][A-Za-z0-9_-]*)")


def words_in(root: Path) -> set[str]:
    """Every word of the files a page's markup and classes come from."""
    apps = [d for d in root.iterdir() if d.is_dir() and d.name not in SKIP_DIRS and not d.name.startswith(".")]
    paths = [*root.glob("templates/**/*.html"), *root.glob("static/js/**/*.js"),
             *(path for app in apps for path in app.glob("**/*.py"))]
    words: set[str] = set()
    for path in paths:
        words.update(_WORD.findall(path.read_text(encoding="utf-8")))
    return words


def _blocks(css: str) -> Iterable[tuple[str, str | None]]:
    """Top-level (prelude, body) pairs; body None for a statement such as ``@charset "UTF-8";``.
    Comments stay in the prelude of what follows them; strings are skipped whole."""
    i, start, depth, prelude_end = 0, 0, 0, 0
    while i < len(css):
        c = css[i]
        if c in "\"'":
            i = css.index(c, i + 1)
        elif css.startswith("/*", i):
            i = css.index("*/", i) + 1
        elif c == "{":
            if depth == 0:
                prelude_end = i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                yield css[start:prelude_end], css[prelude_end + 1:i]
                start = i + 1
        elif c == ";" and depth == 0:
            yield css[start:i + 1], None
            start = i + 1
        i += 1
    if css[start:].strip():
        yield css[start:], None


def _selectors(prelude: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, c in enumerate(prelude):
        depth += (c in "([") - (c in ")]")
        if c == "," and depth == 0:
            parts.append(prelude[start:i])
            start = i + 1
    parts.append(prelude[start:])
    return parts


def trim(css: str, used: set[str]) -> str:
    out = []
    for prelude, body in _blocks(css):
        comment, _, selectors = prelude.rpartition("*/")
        head = selectors.strip()
        if body is None or head.startswith(("@keyframes", "@font-face")):
            out.append(prelude + ("" if body is None else "{" + body + "}"))
        elif head.startswith(("@media", "@supports", "@layer", "@container")):
            inner = trim(body, used)
            if inner:
                out.append(prelude + "{" + inner + "}")
        else:
            kept = [s for s in _selectors(selectors) if set(_CLASS.findall(s)) <= used]
            if kept:
                out.append((comment + "*/" if comment else "") + ",".join(kept) + "{" + body + "}")
            elif comment:
                out.append(comment + "*/")  # the licence comment stays even if the rule after it goes
    return "".join(out)


def trimmed_bootstrap(root: Path) -> str:
    return trim((root / SOURCE).read_text(encoding="utf-8"), words_in(root)) + "\n"


def main(root: Path = Path(__file__).resolve().parent.parent) -> int:
    text = trimmed_bootstrap(root)
    (root / TRIMMED).write_text(text, encoding="utf-8")
    print(f"{TRIMMED}: {len(text):,} bytes, from {(root / SOURCE).stat().st_size:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
