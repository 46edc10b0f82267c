"""Every page a person can open, per role, built from the demo data: the layout and accessibility
checks walk all of them."""

from django.urls import reverse

ROLES = ("owner", "finance", "support")


def pages_for(role: str) -> list[str]:
    """The paths of every screen the role's navigation and the demo data lead to (each view still
    decides who may see it: a page the role may not open is dropped by the caller on its 403)."""
    from billing.models import StripeEvent
    from customers.models import Customer, CustomerStatus
    from support.models import Ticket
    from sync.models import JobStatus, SyncJob

    paths = [reverse("home"), reverse("customer_list"), reverse("job_list"), reverse("system_list"),
             reverse("event_list"), reverse("audit_list"), reverse("password_change")]
    rich = Customer.objects.exclude(override_status="").order_by("pk").first() or Customer.objects.first()
    if rich:
        paths.append(reverse("customer_detail", args=[rich.public_id]))
    paying = Customer.objects.filter(status=CustomerStatus.PAST_DUE).order_by("pk").first()
    if paying and paying != rich:
        paths.append(reverse("customer_detail", args=[paying.public_id]))
    job = SyncJob.objects.filter(status=JobStatus.DEAD).order_by("pk").first() or SyncJob.objects.first()
    if job:
        paths.append(reverse("job_detail", args=[job.pk]))
    event = StripeEvent.objects.order_by("pk").first()
    if event:
        paths.append(reverse("event_detail", args=[event.pk]))
    ticket = Ticket.objects.order_by("pk").first()
    if ticket:
        paths.append(reverse("support_ticket_detail", args=[ticket.pk]))
    if role in ("owner", "support") and rich:
        paths.append(reverse("support_case_new", args=[rich.public_id]))
    if role in ("owner", "finance"):
        from billing.models import RefundRequest, Subscription

        paths.append(reverse("refund_list"))
        if paying:
            paths.append(reverse("refund_new", args=[paying.public_id]))
        refund = RefundRequest.objects.order_by("pk").first()
        if refund:
            paths.append(reverse("refund_detail", args=[refund.pk]))
        live = Subscription.objects.filter(status="active").order_by("pk").first()
        if live:  # the subscription actions' first pages (without a Stripe key: what they say instead)
            paths += [reverse("subscription_change_new", args=[live.pk, kind])
                      for kind in ("change_plan", "cancel_now", "pause_collection")]
        paths.append(reverse("system_retry_dead", args=["crm"]))
    if role == "owner":
        paths += [reverse("staff_list"), reverse("support_routing"), reverse("system_health"),
                  reverse("mapping_rules"), reverse("support_api_keys"), reverse("webhook_endpoints"),
                  reverse("webhook_endpoint_new"), reverse("webhook_endpoint_new") + "?kind=slack"]
        from webhooks.models import Endpoint

        endpoint = Endpoint.objects.order_by("pk").first()
        if endpoint:
            paths.append(reverse("webhook_endpoint", args=[endpoint.pk]))
        from sync.models import ToolDrift

        drift = ToolDrift.objects.filter(resolved_at__isnull=True, customer__isnull=False).order_by("pk").first()
        if drift:
            paths += [reverse("drift_detail", args=[drift.pk]),
                      reverse("drift_repair_all", args=[drift.system, drift.kind])]
        review = Customer.objects.filter(status=CustomerStatus.NEEDS_REVIEW).order_by("pk").first()
        if review:
            paths.append(reverse("customer_review", args=[review.public_id]))
    return paths


PUBLIC_PAGES = ("/accounts/login/", "/support/new", "/support/thanks")
