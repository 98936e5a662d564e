from django.contrib import admin

from staff.models import StaffPreferences


@admin.register(StaffPreferences)
class StaffPreferencesAdmin(admin.ModelAdmin):
    """Who chose which time zone and language (no row: the shop's zone, the browser's language). Each
    person changes their own in the dashboard."""

    list_display = ("user", "time_zone", "language")
    search_fields = ("user__username",)
