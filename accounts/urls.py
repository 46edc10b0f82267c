from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.staff_list, name="staff_list"),
    path("invite/", views.staff_invite_view, name="staff_invite"),
    path("<int:pk>/role/", views.staff_role_view, name="staff_role"),
    path("<int:pk>/deactivate/", views.staff_deactivate_view, name="staff_deactivate"),
    path("<int:pk>/reactivate/", views.staff_reactivate_view, name="staff_reactivate"),
    path("set-password/<uidb64>/<token>/", views.SetPasswordView.as_view(), name="staff_set_password"),
]
