"""Migrations replay history: they reach models through ``apps.get_model`` and never import live code,
which changes under them (the role groups, for one, are written after migrate by accounts.roles)."""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"])

# Django's autodetector names a field's callable default by its dotted path, and the migration must name
# that very function or model and history disagree: the one thing a migration may read from project code.
FIELD_DEFAULTS = {"customers.models.new_public_id"}


def _migration_files() -> list[Path]:
    return sorted(p for package in PROJECT for p in (ROOT / package).glob("migrations/0*.py"))


def _project_imports(tree: ast.AST) -> tuple[list[str], list[str]]:
    """(``import x.y`` of project modules, every other way of reaching project code)."""
    plain, other = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            plain += [alias.name for alias in node.names if alias.name.split(".")[0] in PROJECT]
        elif isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] in PROJECT):
            other.append("from " + "." * node.level + (node.module or ""))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "__import__", "import_module"):
            other.append(ast.unparse(node))
    return plain, other


def _names_read_from_project(tree: ast.AST) -> set[str]:
    """The full dotted names read from project packages, e.g. ``customers.models.new_public_id``."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            dotted = ast.unparse(node)
            if dotted.split(".")[0] in PROJECT:
                names.add(dotted)
    return {n for n in names if not any(other.startswith(n + ".") for other in names)}


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    plain, other = _project_imports(tree)
    read = _names_read_from_project(tree)
    if plain and not other and read and read <= FIELD_DEFAULTS:
        return []  # ``import customers.models`` for nothing but a field default
    return other + (sorted(read - FIELD_DEFAULTS) or plain if plain else [])


def test_there_are_migrations_to_scan():
    names = {f"{p.parent.parent.name}/{p.name}" for p in _migration_files()}
    assert len(names) > 30 and "accounts/0002_roles.py" in names


def test_no_migration_imports_project_code():
    offenders = {str(p.relative_to(ROOT)): _offences(p) for p in _migration_files()}
    assert {path: found for path, found in offenders.items() if found} == {}


def test_the_scan_catches_a_migration_that_imports_live_code(tmp_path):
    for source in ("from accounts.roles import sync_roles\n", "import accounts.roles\nf = accounts.roles.sync_roles\n",
                   "from .helpers import grant\n", "import importlib\nm = importlib.import_module('sync.rules')\n"):
        bad = tmp_path / "0099_bad.py"
        bad.write_text("from django.db import migrations\n" + source)
        assert _offences(bad), source
