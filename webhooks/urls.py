from django.urls import path

from webhooks import views

urlpatterns = [
    path("", views.endpoints, name="webhook_endpoints"),
    path("new/", views.endpoint_new, name="webhook_endpoint_new"),
    path("<int:pk>/", views.endpoint_detail, name="webhook_endpoint"),
    path("<int:pk>/edit/", views.endpoint_edit, name="webhook_endpoint_edit"),
    path("<int:pk>/rotate/", views.endpoint_rotate_view, name="webhook_endpoint_rotate"),
    path("<int:pk>/disable/", views.endpoint_disable_view, name="webhook_endpoint_disable"),
    path("<int:pk>/enable/", views.endpoint_enable_view, name="webhook_endpoint_enable"),
    path("<int:pk>/test/", views.endpoint_test_view, name="webhook_endpoint_test"),
    path("<int:pk>/deliveries/<int:job_pk>/resend/", views.delivery_resend_view, name="webhook_delivery_resend"),
    path("<int:pk>/deliveries/<int:job_pk>/set-aside/", views.delivery_set_aside_view,
         name="webhook_delivery_set_aside"),
]
