from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """Store-wide reports (issue 29): downloads over time from snapshots of the records' counts, customers at
    their limit, link-scanner suspects, and the daily digest. Reads the dashboard's own database only."""

    name = "insights"
    verbose_name = "Reports"
