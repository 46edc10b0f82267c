from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from billing.webhooks import stripe_webhook
from config.views import favicon
from monitoring import health
from monitoring import views as monitoring_views
from support.services import desk_delivery_apply
from sync.providers.intercom.webhook import webhook_view as intercom_webhook
from sync.providers.zendesk.webhook import webhook_view as zendesk_webhook

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("healthz/deep", health.healthz_deep, name="healthz_deep"),
    path("favicon.ico", favicon, name="favicon"),
    # The only write endpoint without login or CSRF: Stripe signs every request instead.
    path("webhooks/stripe/", stripe_webhook, name="stripe_webhook"),
    # Likewise signed: the support desk (Zendesk) reports ticket status here, and support applies it.
    path("webhooks/support/", zendesk_webhook(apply=desk_delivery_apply), name="support_webhook"),
    # Intercom as the desk: signed with the app's client secret (X-Hub-Signature), applied the same way.
    path("webhooks/support/intercom/", intercom_webhook(apply=desk_delivery_apply), name="intercom_webhook"),
    path("support/", include("support.urls")),
    path("metrics", monitoring_views.metrics, name="metrics"),
    path("system/", include("monitoring.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(template_name="accounts/password_change.html"),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("events/", include("billing.urls")),
    path("refunds/", include("billing.refund_urls")),
    path("subscriptions/", include("billing.subscription_urls")),
    path("staff/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("sync/", include("sync.urls")),
    path("outbound/", include("webhooks.urls")),
    path("", include("action_queue.urls")),
    path("", include("customers.urls")),
]
