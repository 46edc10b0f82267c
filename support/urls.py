from django.urls import path

from support import intake, intake_keys, views

urlpatterns = [
    path("new", views.request_new, name="support_request_new"),
    path("thanks", views.request_thanks, name="support_request_thanks"),
    path("routing/", views.routing_rules, name="support_routing"),
    path("customers/<str:public_id>/new/", views.case_new, name="support_case_new"),
    path("tickets/<int:pk>/", views.ticket_detail, name="support_ticket_detail"),
    path("tickets/<int:pk>/link/", views.ticket_link_view, name="support_ticket_link"),
    path("intake/tickets", intake.intake_ticket, name="support_intake_tickets"),
    path("intake/keys/", intake_keys.api_keys, name="support_api_keys"),
    path("intake/keys/<int:pk>/revoke/", intake_keys.api_key_revoke_view, name="support_api_key_revoke"),
    path("tickets/<int:pk>/change/", views.ticket_change_view, name="support_ticket_change"),
]
