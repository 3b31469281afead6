"""Member sign-in, sign-out, password change and reset; staff keep the admin's login.

Failed sign-ins are rate-limited per client address and per username (ENGRAM_LOGIN_RATE), on this
page and on the admin's login alike.
"""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import include, path

from . import ratelimit

LOGIN_SCOPE = "login"


class RateLimitedAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, refusing to check passwords once an address or username failed too often."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "rate_limited": "Too many failed sign-ins. Wait a few minutes and try again.",
    }

    def clean(self):
        rate = settings.ENGRAM_LOGIN_RATE
        identities = [f"ip:{ratelimit.client_address(self.request)}" if self.request else "ip:unknown",
                      f"user:{(self.data.get('username') or '').strip().lower()}"]
        if any(ratelimit.exceeded(LOGIN_SCOPE, identity, rate) for identity in identities):
            raise ValidationError(self.error_messages["rate_limited"], code="rate_limited")
        try:
            return super().clean()
        except ValidationError:
            for identity in identities:
                ratelimit.hit(LOGIN_SCOPE, identity, rate)
            raise


class LoginView(auth_views.LoginView):
    authentication_form = RateLimitedAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if any(error.code == "rate_limited" for error in form.non_field_errors().as_data()):
            response.status_code = 429
        return response


@login_required
def home(request):
    """Land on the pages the user may use: the operator dashboard, else their workspaces' memory page."""
    user = request.user
    if user.is_staff and user.has_perm("jobs.view_jobrun"):
        return redirect("jobs:dashboard")
    return redirect("memory:page")


urlpatterns = [
    path("accounts/login/", LoginView.as_view(), name="login"),
    # logout, password change and reset (mail through EMAIL_BACKEND: the console by default)
    path("accounts/", include("django.contrib.auth.urls")),
]
