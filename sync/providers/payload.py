"""What an adapter is given and what it gives back. Adapters see nothing else of Switchboard."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Payload:
    """One attempt of one job, as the executor hands it to the tool serving the job's system.

    Built once per attempt from the job, its customer and their links; ``data`` is the job's own
    payload (what the mapping rules decided: status, plan, tags, spaces, a ticket's text...).
    """

    job_id: int
    system: str  # crm, support, community, email
    action: str  # upsert_contact, create_ticket, add_tag...
    attempt: int  # this attempt's number: 1 the first time
    idempotency_key: str
    public_id: str  # our id for the customer
    email: str
    name: str
    stripe_id: str  # the customer's Stripe id, "" when none is known
    customer_url: str  # the customer's 360 page in Switchboard
    linked_id: str  # the customer's id in this system from an earlier success, "" when none
    data: Mapping[str, Any]  # read-only

    def get(self, key: str, default: Any = None) -> Any:
        """A value of the job's payload."""
        return self.data.get(key, default)


@dataclass(frozen=True)
class Result:
    external_id: str = ""
    link: bool = False  # True when external_id is the customer's id in that system
    note: str = ""  # what the tool could not take of a job that succeeded, as a sentence on the job
