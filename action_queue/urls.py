"""The queue's URLs: its own, then each registered kind's actions (as the admin builds its URLs from its registry)."""

from django.urls import path

from action_queue import registry, views


def kind_urls() -> list:
    urls = []
    for kind in registry.kinds():
        for action in kind.actions:
            urls.append(path(f"queue/{kind.name}/<int:object_id>/{action.name}/", views.queue_act,
                             {"kind": kind.name, "action": action.name}, name=action.url_name))
        for group_action in kind.group_actions:
            urls.append(path(f"queue/{kind.name}/{group_action.route}", group_action.view, name=group_action.url_name))
    return urls


urlpatterns = [
    path("", views.home, name="home"),
    path("queue/<slug:kind>/<str:object_id>/assign/", views.queue_assign, name="queue_assign"),
    path("queue/<slug:kind>/<str:object_id>/resolve/", views.queue_resolve, name="queue_resolve"),
    *kind_urls(),
]
