from django.contrib import admin

from staff.models import StaffPreferences


@admin.register(StaffPreferences)
class StaffPreferencesAdmin(admin.ModelAdmin):
    """Who chose which time zone (no row: the shop's). Each person changes their own in the dashboard."""

    list_display = ("user", "time_zone")
    search_fields = ("user__username",)
