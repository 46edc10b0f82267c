"""Every URL the project has, as every role, with the status the server must answer.

A URL added to the project without a row here fails ``test_every_url_has_a_row``.
"""

from collections.abc import Callable

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROLES = ("anonymous", "owner", "finance", "support", "norole")


def expect(anonymous: int, owner: int, finance: int, support: int, norole: int) -> dict[str, int]:
    return dict(anonymous=anonymous, owner=owner, finance=finance, support=support, norole=norole)


PUBLIC = expect(200, 200, 200, 200, 200)
EVERY_ROLE = expect(302, 200, 200, 200, 403)

# (url name, method) -> expected status per role
MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("healthz", "GET"): PUBLIC,
    ("readyz", "GET"): PUBLIC,
    ("login", "GET"): expect(200, 302, 302, 302, 302),
    ("logout", "POST"): expect(302, 302, 302, 302, 302),
    ("password_change", "GET"): expect(302, 200, 200, 200, 200),
    ("password_change_done", "GET"): expect(302, 200, 200, 200, 200),
    ("home", "GET"): EVERY_ROLE,
}

# URL name -> function building its kwargs (objects created per test).
URL_KWARGS: dict[str, Callable[[], dict]] = {}


def _project_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace: str | None) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace == "admin":
                    continue  # Django's admin: superusers only, guarded by Django itself
                walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and p.name:
                names.add(f"{namespace}:{p.name}" if namespace else p.name)

    walk(get_resolver().url_patterns, None)
    return names


def test_every_url_has_a_row():
    covered = {name for name, _ in MATRIX}
    missing = _project_url_names() - covered
    assert not missing, f"URLs without a row in the role matrix: {sorted(missing)}"


CASES = [(name, method, role) for (name, method) in MATRIX for role in ROLES]


@pytest.mark.parametrize(("name", "method", "role"), CASES, ids=[f"{m} {n} as {r}" for n, m, r in CASES])
def test_role_gets_expected_status(client, users, name, method, role):
    if role != "anonymous":
        client.force_login(users[role])
    kwargs = URL_KWARGS.get(name, dict)()
    url = reverse(name, kwargs=kwargs)
    response = client.get(url) if method == "GET" else client.post(url)
    assert response.status_code == MATRIX[(name, method)][role], (
        f"{method} {url} as {role}: {response.status_code}"
    )
