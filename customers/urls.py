from django.urls import path

from customers import exports, views

urlpatterns = [
    path("", views.home, name="home"),
    path("queue/<slug:kind>/<str:object_id>/assign/", views.queue_assign, name="queue_assign"),
    path("queue/<slug:kind>/<str:object_id>/resolve/", views.queue_resolve, name="queue_resolve"),
    path("queue/dead_job/<int:object_id>/retry/", views.queue_retry, name="queue_retry"),
    path("queue/dead_job/system/<slug:system>/retry-all/", views.queue_retry_all, name="queue_retry_all"),
    path("queue/failed_event/<int:object_id>/replay/", views.queue_replay, name="queue_replay"),
    path("queue/system/<int:object_id>/resume/", views.queue_resume, name="queue_resume"),
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/export.csv", exports.customer_export, name="customer_export"),
    path("customers/merges/<int:pk>/undo/", views.merge_undo, name="merge_undo"),
    path("customers/<str:public_id>/", views.customer_detail, name="customer_detail"),
    path("customers/<str:public_id>/override/", views.customer_override, name="customer_override"),
    path("customers/<str:public_id>/override/remove/", views.customer_override_remove, name="customer_override_remove"),
    path("customers/<str:public_id>/assign/", views.customer_assign_view, name="customer_assign"),
    path("customers/<str:public_id>/restrict/", views.customer_restrict_view, name="customer_restrict"),
    path("customers/<str:public_id>/review/", views.customer_review, name="customer_review"),
    path("customers/<str:public_id>/merge/", views.customer_merge, name="customer_merge"),
    path("customers/<str:public_id>/distinct/", views.customer_distinct, name="customer_distinct"),
]
