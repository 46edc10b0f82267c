"""Every form that posts carries Django's CSRF token itself, so it also works as a plain form
(without htmx, whose requests send the token from <body>)."""

import re
from pathlib import Path

from django.conf import settings

FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>", re.I)


def test_every_posting_form_in_the_templates_has_a_csrf_token():
    missing = []
    for path in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        text = path.read_text()
        for match in FORM.finditer(text):
            body = text[match.end():text.find("</form>", match.end())]
            if "{% csrf_token %}" not in body:
                missing.append(f"{path.relative_to(settings.BASE_DIR)}:{text.count(chr(10), 0, match.start()) + 1}")
    assert not missing, missing
    assert len(list(Path(settings.BASE_DIR, "templates").rglob("*.html"))) > 10  # the templates were found
