"""Seeding never reaches a real account: every registered tool's credentials are blank meanwhile."""

from demo.services import _seeding
from sync import providers


def test_seeding_blanks_the_credentials_of_every_registered_tool_and_puts_them_back(monkeypatch, settings):
    monkeypatch.setattr(providers, "TOOLS", [*providers.TOOLS, "tests.sync.toy_tool"])
    settings.TOYCRM_API_KEY, settings.HUBSPOT_ACCESS_TOKEN, settings.ZENDESK_EMAIL = "toy-key", "pat-1", "a@b.co"
    with _seeding():
        assert (settings.TOYCRM_API_KEY, settings.HUBSPOT_ACCESS_TOKEN, settings.ZENDESK_EMAIL) == ("", "", "")
        assert {providers.provider_for(system).NAME for system in settings.SYNC_PROVIDERS} == {providers.SANDBOX}
    assert (settings.TOYCRM_API_KEY, settings.HUBSPOT_ACCESS_TOKEN) == ("toy-key", "pat-1")
