"""A staff member's own settings: the time zone every page shows times in, and the daily digest."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fileflare_admin.htmx import StaffRequest, safe_next
from staff.forms import DigestForm, LanguageForm, TimeZoneForm
from staff.middleware import LANGUAGE_SESSION_KEY, TIME_ZONE_SESSION_KEY
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
        if saved.time_zone:
            messages.success(request, _("Times are now shown in %(zone)s.") % {"zone": saved.time_zone})
        else:
            messages.success(
                request,
                _("Times are now shown in the shop's time zone (%(zone)s).")
                % {"zone": settings.SHOP_TIME_ZONE},
            )
        return redirect(back)
    return render(
        request,
        "staff/time_zone.html",
        {"form": form, "back": back, "shop_time_zone": settings.SHOP_TIME_ZONE, "now": timezone.now()},
    )


@require_http_methods(["GET", "POST"])
def language_settings(request: StaffRequest) -> HttpResponse:
    """The person's language (beside the time zone in the header): remembered on their preferences and
    in their session, so the next page costs no query; empty = the browser's language."""
    preferences = StaffPreferences.objects.filter(user=request.user).first()
    preferences = preferences or StaffPreferences(user=request.user)
    back = safe_next(request, request.POST.get("next") or request.GET.get("next"), reverse("orders:list"))
    browser = translation.get_language_from_request(request)
    form = LanguageForm(request.POST or None, instance=preferences, browser_language=browser)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        request.session[LANGUAGE_SESSION_KEY] = saved.language
        with translation.override(saved.language or browser):
            messages.success(request, _("Saved: pages are now shown in this language."))
        return redirect(back)
    return render(request, "staff/language.html", {"form": form, "back": back})


@require_http_methods(["GET", "POST"])
def digest_settings(request: StaffRequest) -> HttpResponse:
    """The daily digest, opt-in: whether it comes and at what time of the person's day (insights.digest
    sends it)."""
    preferences = StaffPreferences.objects.filter(user=request.user).first()
    preferences = preferences or StaffPreferences(user=request.user)
    form = DigestForm(request.POST or None, instance=preferences)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        zone = saved.time_zone or settings.SHOP_TIME_ZONE
        if saved.digest_at is None:
            messages.success(request, _("You will not get the daily digest."))
        elif not request.user.email:
            messages.warning(
                request,
                _(
                    "The digest is set for %(time)s (%(zone)s), but your account has no e-mail address: "
                    "ask an Administrator to add one."
                )
                % {"time": f"{saved.digest_at:%H:%M}", "zone": zone},
            )
        else:
            messages.success(
                request,
                _("The daily digest goes to %(email)s at %(time)s (%(zone)s).")
                % {"email": request.user.email, "time": f"{saved.digest_at:%H:%M}", "zone": zone},
            )
        return redirect("staff:digest")
    zone = preferences.time_zone or settings.SHOP_TIME_ZONE
    return render(request, "staff/digest.html", {"form": form, "zone": zone, "email": request.user.email})
