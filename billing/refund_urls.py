from django.urls import path

from billing import refund_views as views

urlpatterns = [
    path("", views.refund_list, name="refund_list"),
    path("new/<str:public_id>/", views.refund_new, name="refund_new"),
    path("new/<str:public_id>/confirm/", views.refund_confirm, name="refund_confirm"),
    path("<int:pk>/", views.refund_detail, name="refund_detail"),
    path("<int:pk>/send/", views.refund_send, name="refund_send"),
    path("<int:pk>/retry/", views.refund_retry_view, name="refund_retry"),
    path("<int:pk>/approve/", views.refund_approve_view, name="refund_approve"),
    path("<int:pk>/reject/", views.refund_reject_view, name="refund_reject"),
]
