"""A staff member's own settings: for now, the time zone every page shows times in."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from fileflare_admin.htmx import StaffRequest, safe_next
from staff.forms import TimeZoneForm
from staff.middleware import TIME_ZONE_SESSION_KEY
from staff.models import StaffPreferences


@require_http_methods(["GET", "POST"])
def time_zone_settings(request: StaffRequest) -> HttpResponse:
    preferences = StaffPreferences.objects.filter(user=request.user).first()
    preferences = preferences or StaffPreferences(user=request.user)
    back = safe_next(request, request.POST.get("next") or request.GET.get("next"), reverse("orders:list"))
    form = TimeZoneForm(request.POST or None, instance=preferences)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        request.session[TIME_ZONE_SESSION_KEY] = saved.time_zone
        zone = saved.time_zone or f"the shop's time zone ({settings.SHOP_TIME_ZONE})"
        messages.success(request, f"Times are now shown in {zone}.")
        return redirect(back)
    return render(
        request,
        "staff/time_zone.html",
        {"form": form, "back": back, "shop_time_zone": settings.SHOP_TIME_ZONE},
    )
