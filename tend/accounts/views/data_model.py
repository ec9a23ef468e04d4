from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def data_model(request):
    return render(request, "accounts/data_model.html", {})
