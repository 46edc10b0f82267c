from django.urls import path

from billing import views

urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("<int:pk>/", views.event_detail, name="event_detail"),
    path("<int:pk>/replay/", views.event_replay, name="event_replay"),
]
