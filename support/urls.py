from django.urls import path

from . import views

urlpatterns = [
    path("log/", views.log_list, name="log-list"),
    path("log/replay/", views.log_replay_matching, name="log-replay-matching"),
    path("log/<int:entry_id>/", views.log_detail, name="log-detail"),
    path("log/<int:entry_id>/replay/", views.log_entry_replay, name="log-entry-replay"),
    path("dead-letters/", views.dead_letter_list, name="dead-letter-list"),
    path("dead-letters/replay/", views.dead_letters_replay_all, name="dead-letters-replay-all"),
    path("dead-letters/<int:event_id>/replay/", views.dead_letter_replay, name="dead-letter-replay"),
    path("runs/", views.run_list, name="run-list"),
    path("runs/start/", views.run_start, name="run-start"),
    path("runs/<int:run_id>/", views.run_row, name="run-row"),
    path("conflicts/", views.conflict_list, name="conflict-list"),
    path("queue/", views.queue, name="queue"),
    path("integrations/<int:integration_id>/webhook-health/", views.webhook_health, name="webhook-health"),
    path("integrations/<int:integration_id>/webhook-health/register/", views.webhook_register,
         name="webhook-register"),
]
