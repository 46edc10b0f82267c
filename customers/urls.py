from django.urls import path

from customers import exports, notes_views, views

urlpatterns = [
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
    path("customers/<str:public_id>/notes/", notes_views.note_create, name="note_create"),
    path("customers/<str:public_id>/notes/<int:pk>/edit/", notes_views.note_edit_view, name="note_edit"),
    path("customers/<str:public_id>/notes/<int:pk>/correct/", notes_views.note_correct_view, name="note_correct"),
]
