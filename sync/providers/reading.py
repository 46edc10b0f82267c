"""The read face of a tool, beside ``perform``: what the tool holds about one customer now.

``read(identity) -> Snapshot | None`` answers with the tool's record for our customer (None when
the tool has none); ``listed()`` (where a tool offers it) yields every record that carries one of
our ids, to find the ones no customer has. Plain data only: the comparison with billing truth is
the domain's, in ``sync/services/drift.py``.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Identity:
    """Who to look up: our id first, the email where the tool keys records by email."""

    system: str  # crm, support, community, email
    public_id: str
    email: str
    linked_id: str = ""  # the customer's id in the tool from an earlier success, "" when none


@dataclass(frozen=True)
class Snapshot:
    """One record as the tool holds it. ``values`` are the fields Switchboard writes (status, plan,
    lifecycle_stage...); ``tags`` and ``spaces`` are None where the tool has no such thing."""

    external_id: str
    public_id: str = ""  # our id as the record carries it ("" where the tool keeps none)
    email: str = ""
    values: dict = field(default_factory=dict)
    tags: frozenset | None = None
    spaces: frozenset | None = None
