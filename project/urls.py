from django.contrib import admin
from django.urls import include, path

from . import accounts

# The admin's login counts failed sign-ins like the members' page does.
admin.site.login_form = accounts.RateLimitedAuthenticationForm

urlpatterns = [
    path("", accounts.home, name="home"),
    path("", include(accounts.urlpatterns)),
    path("", include("jobs.urls")),
    path("", include("memory.urls")),
    path("", include("memory.chats.urls")),
    path("", include("memory.documents.urls")),
    path("", include("memory.posts.urls")),
    path("api/", include("memory.api_urls")),
    path("admin/", admin.site.urls),
]
