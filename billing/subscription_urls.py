from django.urls import path

from billing import subscription_views as views

urlpatterns = [
    path("<int:pk>/<str:kind>/", views.subscription_change_new, name="subscription_change_new"),
    path("<int:pk>/<str:kind>/confirm/", views.subscription_change_confirm, name="subscription_change_confirm"),
    path("changes/<int:pk>/", views.subscription_change_detail, name="subscription_change_detail"),
    path("changes/<int:pk>/send/", views.subscription_change_send, name="subscription_change_send"),
    path("changes/<int:pk>/approve/", views.subscription_change_approve_view, name="subscription_change_approve"),
    path("changes/<int:pk>/reject/", views.subscription_change_reject_view, name="subscription_change_reject"),
]
