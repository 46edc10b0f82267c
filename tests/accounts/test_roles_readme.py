"""The README's "Roles and permissions" table says exactly what accounts/roles.py grants."""

import re
from pathlib import Path

from django.conf import settings

from accounts.roles import ROLE_PERMISSIONS, Role


def _table() -> dict[str, tuple[str, ...]]:
    text = (Path(settings.BASE_DIR) / "README.md").read_text()
    section = text.split("## Roles and permissions", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\| `([a-z_]+\.[a-z_]+)` \|[^|]*\| (yes|-) \| (yes|-) \| (yes|-) \|", line)
        if match:
            rows[match.group(1)] = match.groups()[1:]
    return rows


def test_the_readme_table_matches_the_roles_in_code():
    table = _table()
    granted = {p for perms in ROLE_PERMISSIONS.values() for p in perms}
    assert set(table) == granted
    for perm, marks in table.items():
        for role, mark in zip(Role, marks):
            assert (perm in ROLE_PERMISSIONS[role]) == (mark == "yes"), f"{perm} for {role}"


def test_support_lacks_every_power_the_design_denies_it():
    denied = {"billing.issue_refund", "billing.approve_refund", "sync.edit_mapping", "sync.pause_system",
              "audit.export", "customers.export_customers", "accounts.manage_staff"}
    assert not denied & set(ROLE_PERMISSIONS[Role.SUPPORT])
