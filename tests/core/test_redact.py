"""The one redactor, on its own: what the HTTP recorder stores and the job and event screens show."""

from core.redact import REDACTED, TEXT_LIMIT, redact


def test_redaction_removes_secrets_always_and_personal_data_when_asked():
    data = {"headers": {"Authorization": "Bearer sk_live_x"}, "email": "a@b.co", "note": "write to a@b.co",
            "address": {"line1": "1 Main St"}, "card": {"last4": "4242"}, "plan": "Pro"}
    assert redact(data, personal=False)["headers"]["Authorization"] == REDACTED
    assert redact(data, personal=False)["email"] == "a@b.co"
    out = redact(data)
    assert out["email"] == out["address"] == out["card"] == REDACTED
    assert out["note"] == "write to [redacted]" and out["plan"] == "Pro"


def test_it_blanks_the_keys_the_tools_requests_use_for_people_and_credentials():
    sent = {"firstname": "Ada", "lastname": "Lovelace", "email_address": "ada@example.com", "user_email": "x",
            "requester": {"name": "Ada"}, "comment": {"body": "my card was charged twice"},
            "_default_description_": "text", "value": "ada", "x-kit-api-key": "kit-1", "api_key": "k",
            "token": "t", "password": "p", "subject": "Payment failed", "tags": ["billing"]}
    out = redact(sent)
    assert {k for k, v in out.items() if v == REDACTED} == set(sent) - {"subject", "tags"}
    assert out["subject"] == "Payment failed" and out["tags"] == ["billing"]


def test_secret_keys_match_inside_longer_names_in_any_case():
    out = redact({"Stripe-Signature": "t=1,v1=x", "X-Api-Key": "k", "client_secret": "s",
                  "session_cookie": "c", "refresh_token": "r", "db_credentials": "d"}, personal=False)
    assert set(out.values()) == {REDACTED}


def test_an_address_under_an_innocent_key_is_caught_even_without_a_dot():
    out = redact({"inputs": [{"idProperty": "email", "id": "ada@example.com"}], "owner": "root@localhost"})
    assert out["inputs"][0]["id"] == out["owner"] == REDACTED and out["inputs"][0]["idProperty"] == "email"


def test_empty_values_stay_visible_so_a_missing_field_can_be_told_apart():
    empty = {"email": "", "name": None, "requester": {}}
    assert redact(empty) == empty


def test_cutting_shortens_text_and_containers_after_redacting_addresses():
    long = "x" * (TEXT_LIMIT - 5) + " write to ada.lovelace@example.com"
    out = redact({"note": long, "items": list(range(50)), **{f"k{n}": n for n in range(60)}}, cut=True)
    assert "ada.lovelace" not in out["note"]
    assert out["note"].endswith("…") and len(out["note"]) == TEXT_LIMIT + 1
    assert len(out["items"]) == 20 and len(out) == 40
    assert redact({"note": long})["note"] == long.replace("ada.lovelace@example.com", REDACTED)  # uncut


def test_it_leaves_its_input_untouched():
    data = {"email": "a@b.co", "nested": [{"token": "t"}]}
    redact(data, cut=True)
    assert data == {"email": "a@b.co", "nested": [{"token": "t"}]}
