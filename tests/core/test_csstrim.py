"""The cut-down Bootstrap every page loads: what it keeps, and that the committed copy is current."""

import re
from pathlib import Path

from core.csstrim import SOURCE, TRIMMED, trim, trimmed_bootstrap, words_in

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_style_sheet_is_what_the_trimmer_makes_from_todays_templates():
    committed = (ROOT / TRIMMED).read_text(encoding="utf-8")
    assert committed == trimmed_bootstrap(ROOT), (
        "a template, script or view names a Bootstrap class the cut style sheet lacks (or no longer "
        "uses one): run `python -m core.csstrim` and commit static/vendor/bootstrap/bootstrap.trimmed.css")


def test_the_page_shell_loads_the_cut_style_sheet_not_the_whole_one():
    shell = (ROOT / "templates" / "base.html").read_text(encoding="utf-8")
    assert "bootstrap.trimmed.css" in shell and "bootstrap.min.css" not in shell


def test_a_rule_stays_when_one_of_its_selectors_names_only_used_classes():
    css = ".btn,.unused-a{color:red}.unused-b .btn{color:blue}.btn:not(.show){x:1}"
    assert trim(css, {"btn", "show"}) == ".btn{color:red}.btn:not(.show){x:1}"


def test_rules_without_classes_statements_and_keyframes_always_stay():
    css = '@charset "UTF-8";:root{--a:1}h1,[hidden]{b:2}@keyframes spin{to{transform:rotate(1turn)}}'
    assert trim(css, set()) == css


def test_media_blocks_are_trimmed_inside_and_dropped_when_empty():
    css = "@media (min-width:576px){.used{a:1}.gone{b:2}}@media print{.gone{c:3}}"
    assert trim(css, {"used"}) == "@media (min-width:576px){.used{a:1}}"


def test_strings_and_the_licence_comment_do_not_confuse_the_reader():
    css = '/*! licence { } */.gone{a:1}.x::after{content:"{,}"}'
    assert trim(css, {"x"}) == '/*! licence { } */.x::after{content:"{,}"}'


def test_selector_lists_inside_parentheses_are_one_selector():
    assert trim(".a:is(.b,.c){d:1}", {"a", "b"}) == ""
    assert trim(".a:is(.b,.c){d:1}", {"a", "b", "c"}) == ".a:is(.b,.c){d:1}"


def test_trimming_with_every_class_in_use_gives_the_whole_sheet_back():
    whole = (ROOT / SOURCE).read_text(encoding="utf-8")
    every = set(re.findall(r"\.(-?[A-Za-z_][A-Za-z0-9_-]*)", whole))
    assert trim(whole, every) == whole.rstrip()


def test_classes_named_only_in_python_or_scripts_count_as_used():
    used = words_in(ROOT)
    # "show" is set by app.js on the phone's menu; "form-control" by the forms' widgets.
    assert {"show", "form-control", "navbar-collapse", "visually-hidden"} <= used
    kept = (ROOT / TRIMMED).read_text(encoding="utf-8")
    assert ".navbar-collapse" in kept and ".collapse:not(.show)" in kept and ".accordion" not in kept
