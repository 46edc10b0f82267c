"""The tool registry: an outside tool is one folder plus one line in ``sync.providers.TOOLS``.

Toy CRM (``tests/sync/toy_tool/``) is a sixth tool that exists only here; with its line added it
is configured from the environment, serves the CRM end to end, is rate limited, shows on the 360
and in the launch checks, and runs in sandbox without its credential, like the five real ones.
"""

import ast
from pathlib import Path

import environ
import pytest
from django.core import checks
from django.urls import reverse

from customers.links import customer_360_url, link_url
from customers.models import ExternalLink, System
from monitoring.checks import launch_checks
from sync import providers
from sync.ratelimit import bucket_key, limit_for
from tests.sync import fakes, toy_tool
from tests.sync.helpers import customer_with_stripe, make_job, run
from tests.test_settings_production import run_manage

TOY = "tests.sync.toy_tool"
PROVIDERS_DIR = Path(providers.__file__).parent


def environment(**variables: str) -> environ.Env:
    """An environment holding only ``variables``, as start-up would read it."""
    env = environ.Env()
    env.ENVIRON = variables
    return env


class ToyCrm(fakes.Fake):
    name = "toycrm"
    token_value = "Bearer toy-key"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.people: dict[str, dict] = {}  # our public id -> person

    def routes(self):
        return {("PUT", r"/people/([\w-]+)"): self.put}

    def put(self, request, public_id):
        person = self.people.setdefault(public_id, {"id": f"p{next(self.ids)}"})
        person.update(request["json"])
        return 200, person


@pytest.fixture
def toy(monkeypatch, sync_settings):
    """Toy CRM's one line added, and the settings read from the environment as at start-up."""
    fake = ToyCrm().start()
    monkeypatch.setattr(providers, "TOOLS", [*providers.TOOLS, TOY])
    env = environment(SYNC_CRM_PROVIDER="toycrm", TOYCRM_API_KEY="toy-key", TOYCRM_BASE_URL=fake.url)
    for name, value in providers.settings_from_env(env).items():
        setattr(sync_settings, name, value)
    yield fake
    fake.stop()


@pytest.mark.django_db
def test_a_sixth_tool_is_one_folder_and_one_line_and_serves_its_system_end_to_end(toy, client, owner):
    customer = customer_with_stripe(email="ada@example.com", name="Ada Lovelace")
    first, second = make_job("crm", "upsert_contact", customer), make_job("crm", "upsert_contact", customer)
    assert (run(first), run(second)) == ("succeeded", "succeeded")
    person = toy.people[customer.public_id]  # one record: the PUT is keyed by our id
    assert len(toy.people) == 1 and person["stripe_customer_id"] == f"cus_{customer.public_id}"
    assert person["switchboard_url"] == customer_360_url(customer.public_id)
    link = ExternalLink.objects.get(customer=customer, system=System.CRM)
    assert (link.provider, link.external_id, second.external_id) == ("toycrm", person["id"], person["id"])
    assert not second.simulated
    stored = second.attempt_log.get().request_summary
    assert stored["provider"] == "toycrm" and stored["calls"][0]["path"] == f"/people/{customer.public_id}"
    assert "ada@example.com" not in str(stored) and "Lovelace" not in str(stored)
    client.force_login(owner)
    page = client.get(reverse("customer_detail", args=[customer.public_id])).content.decode()
    assert f"https://app.toycrm.example/people/{person['id']}" in page


def test_the_sixth_tool_s_published_limit_and_credential_make_its_own_bucket(toy, settings):
    tool = providers.tools()["toycrm"]
    assert limit_for("toycrm") == (30, 10) and bucket_key(tool).startswith("sync:rate:toycrm:")
    settings.TOYCRM_API_KEY = "another-key"
    assert bucket_key(tool) != bucket_key(providers.tools()["hubspot"])


@pytest.mark.django_db
def test_without_its_credential_the_sixth_tool_runs_in_sandbox_and_the_launch_check_names_it(toy, settings):
    settings.TOYCRM_API_KEY = ""
    job = make_job("crm", "upsert_contact")
    assert run(job) == "succeeded" and job.simulated and toy.people == {}
    would_be = job.attempt_log.get().request_summary["calls"][0]
    assert (would_be["would_be"], would_be["method"]) == ("toycrm", "PUT")
    (e008,) = [m for m in launch_checks() if m.id == "switchboard.E008"]
    assert e008.level == checks.ERROR and "crm (Toy CRM needs TOYCRM_API_KEY)" in e008.msg


def test_each_system_defaults_to_the_first_tool_that_serves_it_and_sandbox_serves_any():
    assert providers.systems() == {
        "crm": ["hubspot", "intercom", "sandbox"],
        "support": ["zendesk", "intercom", "sandbox"],
        "community": ["circle", "sandbox"],
        "email": ["kit", "sandbox"],
    }
    read = providers.settings_from_env(environment())
    assert read["SYNC_PROVIDERS"] == {
        "crm": "hubspot", "support": "zendesk", "community": "circle", "email": "kit",
    }


def test_the_tools_folders_own_their_variables_defaults_and_published_limits():
    # An empty variable counts as unset.
    read = providers.settings_from_env(environment(HUBSPOT_RATE_LIMIT="150", ZENDESK_SUBDOMAIN="acme",
                                                   HUBSPOT_ID_PROPERTY="", SYNC_EMAIL_PROVIDER="sandbox"))
    assert read["SYNC_RATE_LIMITS"] == {"hubspot": (150, 10), "zendesk": (200, 60), "intercom": (1000, 10),
                                        "circle": (2000, 300), "kit": (120, 60), "sandbox": (1000, 1)}
    assert read["ZENDESK_BASE_URL"] == "https://acme.zendesk.com"
    assert read["HUBSPOT_ID_PROPERTY"] == "switchboard_id"
    assert read["KIT_BASE_URL"] == "https://api.kit.com" and read["SUPPORT_WEBHOOK_TOLERANCE"] == 300
    assert read["SYNC_PROVIDERS"]["email"] == "sandbox"


@pytest.mark.process
def test_a_tool_that_cannot_serve_the_system_it_is_chosen_for_stops_start_up_with_one_line():
    result = run_manage({"SYNC_CRM_PROVIDER": "circle"}, "check")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip() == ("Switchboard cannot start: SYNC_CRM_PROVIDER must be one of "
                                     "hubspot, intercom, sandbox (got 'circle').")


@pytest.mark.parametrize(("system", "provider", "external_id", "url"), [
    (System.STRIPE, "", "cus_1", "https://dashboard.stripe.com/customers/cus_1"),
    (System.CRM, "hubspot", "501", "https://app.hubspot.com/contacts/_/contact/501"),
    (System.EMAIL, "kit", "77", "https://app.kit.com/subscribers/77"),
    (System.SUPPORT, "zendesk", "9001", "https://acme.zendesk.com/agent/users/9001"),
    (System.CRM, "intercom", "abc", ""),  # a contact's page needs the workspace's app id
    (System.CRM, "sandbox", "sandbox-x", ""),
    (System.CRM, "retired-tool", "1", ""),
])
def test_the_360_links_each_record_to_its_page_in_the_tool_that_keeps_it(settings, system, provider,
                                                                          external_id, url):
    settings.ZENDESK_BASE_URL = "https://acme.zendesk.com"
    assert link_url(ExternalLink(system=system, provider=provider, external_id=external_id)) == url


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.add(node.module or "")
    return found


def test_the_tools_import_nothing_of_the_domain_only_their_payload():
    domain = ("customers", "billing", "support", "monitoring", "accounts", "audit", "demo", "sync.models",
              "sync.services", "sync.selectors", "sync.views", "sync.tasks", "sync.ratelimit", "sync.rules")
    files = sorted(PROVIDERS_DIR.rglob("*.py"))
    assert len(files) > 20  # every tool folder is read, not only the package
    offending = {
        str(path.relative_to(PROVIDERS_DIR)): sorted(m for m in _imports(path) if m.split(".")[0] in domain
                                                      or m.startswith(domain))
        for path in files
    }
    assert {name: mods for name, mods in offending.items() if mods} == {}


def test_a_tool_s_webhook_secret_is_a_launch_check_while_the_tool_serves(toy, settings, monkeypatch):
    monkeypatch.setattr(toy_tool, "WEBHOOK_SECRET", "TOYCRM_WEBHOOK_SECRET", raising=False)
    settings.TOYCRM_WEBHOOK_SECRET = ""
    (w005,) = [m for m in launch_checks() if m.id == "switchboard.W005"]
    assert w005.msg == "Webhook secrets: TOYCRM_WEBHOOK_SECRET is not set."
    settings.TOYCRM_API_KEY = ""  # in sandbox now: nothing will call its webhook
    assert "switchboard.W005" not in {m.id for m in launch_checks()}
