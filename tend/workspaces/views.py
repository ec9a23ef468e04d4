from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


class LoginView(auth_views.LoginView):
    template_name = "workspaces/login.html"
    redirect_authenticated_user = True


@login_required
def settings_index(request):
    return redirect("workspaces:members")
