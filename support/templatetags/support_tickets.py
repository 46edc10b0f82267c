"""What a ticket list needs beside its rows: a fresh form token, and which tickets have changes at the desk."""

from django import template

from support.forms import TicketChangeForm, new_token
from support.models import Ticket, TicketChange
from support.services.changes import CHANGE_STATUSES, OPEN_CHANGES, desk_groups
from sync.models import JobStatus

register = template.Library()


@register.simple_tag
def form_token() -> str:
    """One token per rendered form: submitting it twice makes one change."""
    return new_token()


@register.simple_tag
def tickets_with_changes(tickets) -> list[tuple]:
    """Each of ``tickets`` with "pending" when a change of it is still on its way to the desk, "rejected"
    when the desk refused one, else "" (one query for the list)."""
    tickets = list(tickets)
    ids = [t.pk for t in tickets]
    open_changes = TicketChange.objects.filter(ticket_id__in=ids, state__in=OPEN_CHANGES)
    state: dict[int, str] = {}
    for ticket_id, job_status in open_changes.values_list("ticket_id", "sync_job__status") if ids else []:
        refused = job_status == JobStatus.DEAD
        state[ticket_id] = "rejected" if refused or state.get(ticket_id) == "rejected" else "pending"
    return [(t, state.get(t.pk, "")) for t in tickets]


@register.simple_tag
def desk_group_names() -> list[str]:
    """The groups the routing rules route to, read once for a list of change forms."""
    return desk_groups()


@register.simple_tag
def ticket_change_form(ticket: Ticket, groups: list[str]) -> TicketChangeForm:
    """The ticket page's change form for one ticket of a list: its own token, and ids unique on the page."""
    return TicketChangeForm(ticket=ticket, statuses=CHANGE_STATUSES, groups=sorted({*groups, ticket.group} - {""}),
                            initial={"token": new_token()}, auto_id=f"ticket-{ticket.pk}-%s")
