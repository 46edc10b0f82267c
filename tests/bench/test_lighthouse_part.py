"""The bench's Lighthouse part: asked for by name, signed in with the demo's own password."""

from bench import lighthouse
from bench.__main__ import EMBEDDED_PARTS, PARTS, parse
from demo.logins import DEMO_PASSWORD


def test_the_lighthouse_part_runs_only_when_asked_for_by_name():
    assert "lighthouse" in EMBEDDED_PARTS and "lighthouse" not in PARTS
    assert parse(["--parts", "lighthouse"]).parts == ["lighthouse"]


def test_the_lighthouse_part_signs_in_with_the_demo_password():
    assert lighthouse._demo_password() == DEMO_PASSWORD


def test_the_lighthouse_part_pins_the_version_that_runs_on_node_20_and_aims_at_the_targets():
    assert lighthouse.VERSION == "12.2.3"
    assert lighthouse.TARGETS == {"performance": 95, "accessibility": 98}
