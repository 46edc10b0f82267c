from django.urls import path

from sync import rule_views, views

urlpatterns = [
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/retry-selected/", views.jobs_retry_selected, name="jobs_retry_selected"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/retry/", views.job_retry_view, name="job_retry"),
    path("jobs/<int:pk>/set-aside/", views.job_set_aside_view, name="job_set_aside"),
    path("jobs/<int:pk>/set-aside/undo/", views.job_set_aside_undo_view, name="job_set_aside_undo"),
    path("batches/<slug:key>/", views.retry_batch, name="retry_batch"),
    path("systems/", views.system_list, name="system_list"),
    path("systems/<slug:system>/retry-dead/", views.system_retry_dead, name="system_retry_dead"),
    path("systems/<slug:system>/send-simulated/", views.system_send_simulated, name="system_send_simulated"),
    path("systems/<slug:system>/pause/", views.system_pause_view, name="system_pause"),
    path("systems/<slug:system>/resume/", views.system_resume_view, name="system_resume"),
    path("rules/", rule_views.mapping_rules, name="mapping_rules"),
    path("rules/<slug:system>/", rule_views.mapping_rule_save, name="mapping_rule_save"),
]
