from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="jobs:dashboard", permanent=False)),
    path("", include("jobs.urls")),
    path("", include("memory.urls")),
    path("", include("memory.chats.urls")),
    path("api/", include("memory.api.urls")),
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
]
