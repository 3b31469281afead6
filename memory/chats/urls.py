from django.urls import path

from . import views, webhook

app_name = "chats"
urlpatterns = [
    path("webhooks/telegram/<str:path_secret>", webhook.telegram_webhook, name="telegram_webhook"),
    path("chats/", views.chat_list, name="chats"),
    path("chats/<int:chat_id>/", views.chat_page, name="chat"),
    path("chats/imports/", views.ingestion_list, name="imports"),
    path("chats/imports/<int:job_id>/", views.ingestion_page, name="import"),
    path("chats/analysis/", views.analysis_list, name="analysis_runs"),
    path("chats/analysis/<int:run_id>/", views.analysis_page, name="analysis_run"),
    path("chats/proposals/<int:proposal_id>/review/", views.review_proposal, name="review_proposal"),
    path("chats/experiments/", views.experiment_list, name="experiments"),
    path("chats/experiments/<int:experiment_id>/", views.experiment_page, name="experiment"),
]
