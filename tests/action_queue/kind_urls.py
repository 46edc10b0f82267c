"""The project's URLs plus the actions of the kinds registered now (a test's own kind among them):
the queue lists each kind's actions when its URLs are first read, as the admin does its models'."""

from action_queue.urls import kind_urls
from config import urls as project_urls

urlpatterns = [*kind_urls(), *project_urls.urlpatterns]
