from django.contrib import admin
from django.urls import include, path

from . import accounts, rq_templatetags
from .rq_permissions import gated_rq_urls, install_admin

# The admin's login counts failed sign-ins like the members' page does.
admin.site.login_form = accounts.RateLimitedAuthenticationForm
install_admin(admin.site)
rq_templatetags.install()  # django-rq's pages name each run's task, not jobs.runner.execute

urlpatterns = [
    path("", accounts.home, name="home"),
    path("", include(accounts.urlpatterns)),
    path("", include("jobs.urls")),
    path("", include("memory.urls")),
    path("", include("memory.chats.urls")),
    path("", include("memory.documents.urls")),
    path("", include("memory.posts.urls")),
    path("api/", include("memory.api_urls")),
    path("admin/rq/", include(gated_rq_urls())),
    path("admin/", admin.site.urls),
]
