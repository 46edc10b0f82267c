"""customers reads what the apps above it own through what they hand in at start-up (the list's sync state
and "customer since" are checked on the screens, in tests/customers/test_screens.py)."""

from django.apps import apps

from billing.models import RefundRequest, StripeEvent, StripeMirror, SubscriptionChange
from customers import hooks
from customers.models import CustomerNote
from support.models import Ticket
from sync.models import SyncJob


def test_every_row_that_belongs_to_a_customer_moves_with_a_merge_except_the_audit_trail():
    mirrors = {m for m in apps.get_app_config("billing").get_models() if issubclass(m, StripeMirror)}
    assert len(mirrors) == 7
    # Staff requests on the merged-away record's charges and subscriptions move with them; status history,
    # drift (the next pass judges the survivor) and the audit trail stay where they were written.
    assert set(hooks.merge_rows()) == mirrors | {CustomerNote, StripeEvent, SyncJob, Ticket, RefundRequest,
                                                 SubscriptionChange}

