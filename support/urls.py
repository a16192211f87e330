from django.urls import path

from . import preview_views, review_views, views

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
    path("runs/preview/", preview_views.preview_start_view, name="preview-start"),
    path("runs/<int:run_id>/plan/", preview_views.run_plan, name="run-plan"),
    path("runs/<int:run_id>/confirm/", preview_views.run_confirm_view, name="run-confirm"),
    path("runs/<int:run_id>/cancel/", preview_views.run_cancel_view, name="run-cancel"),
    path("integrations/<int:integration_id>/settings/<slug:entity>/preview/", preview_views.entity_settings_preview,
         name="entity-settings-preview"),
    path("conflicts/", views.conflict_list, name="conflict-list"),
    path("queue/", views.queue, name="queue"),
    path("integrations/<int:integration_id>/webhook-health/", views.webhook_health, name="webhook-health"),
    path("integrations/<int:integration_id>/webhook-health/register/", views.webhook_register,
         name="webhook-register"),
    path("possible-matches/", review_views.possible_match_list, name="possible-match-list"),
    path("possible-matches/<int:match_id>/", review_views.possible_match_detail, name="possible-match-detail"),
    path("possible-matches/<int:match_id>/decide/", review_views.possible_match_decide_view,
         name="possible-match-decide"),
    path("integrations/<int:integration_id>/possible-matches/", review_views.possible_match_list,
         name="integration-possible-matches"),
]
