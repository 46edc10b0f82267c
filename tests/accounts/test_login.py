import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_staff_signs_in_with_email_and_reaches_the_home_page(client, owner):
    response = client.post(reverse("login"), {"username": owner.email, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert b"Needs action now" in response.content


@pytest.mark.django_db
def test_a_wrong_password_shows_an_error_and_does_not_sign_in(client, owner):
    response = client.post(reverse("login"), {"username": owner.email, "password": "wrong-password"})
    assert response.status_code == 200
    assert b"correct email" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_even_for_the_right_password(client, owner):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": owner.email, "password": "wrong-password"})
    response = client.post(reverse("login"), {"username": owner.email, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_user_without_a_role_sees_only_the_no_role_page(client, norole):
    client.force_login(norole)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert b"no role yet" in response.content
    assert b"Needs action now</a>" not in response.content


def test_sessions_expire():
    assert 0 < settings.SESSION_COOKIE_AGE <= 24 * 3600


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2_outside_the_test_suite(owner):
    from django.contrib.auth.hashers import make_password

    assert "django.contrib.auth.hashers.Argon2PasswordHasher" in settings.PASSWORD_HASHERS
    assert make_password("x", hasher="argon2").startswith("argon2$")


@pytest.mark.django_db
def test_navigation_shows_only_what_the_role_may_use(client, support):
    client.force_login(support)
    response = client.get(reverse("home"))
    assert response.context["nav"]["staff"] is False
    assert response.context["nav"]["customers"] is True


@pytest.mark.django_db
def test_pages_send_the_security_headers(client, owner):
    client.force_login(owner)
    response = client.get(reverse("home"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp


@pytest.mark.django_db
def test_htmx_requests_carry_the_csrf_token(client, owner):
    client.force_login(owner)
    response = client.get(reverse("home"))
    token = response.context["csrf_token"]
    assert f'hx-headers=\'{{"X-CSRFToken": "{token}"}}\'' in response.content.decode()


@pytest.mark.django_db
def test_a_post_without_csrf_token_is_refused(owner):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    response = strict.post(reverse("logout"))
    assert response.status_code == 403
