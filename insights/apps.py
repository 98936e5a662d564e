from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class InsightsConfig(AppConfig):
    """Store-wide reports (issue 29): downloads over time from snapshots of the records' counts, customers at
    their limit, link-scanner suspects, and the daily digest. Reads the dashboard's own database only."""

    name = "insights"
    verbose_name = gettext_lazy("Reports")

    def ready(self) -> None:
        from background.keepers import register_keeper
        from fileflare_admin.status import register_status_section
        from insights.digest import digest_keep, digest_status
        from insights.snapshots import snapshot_progress
        from insights.tasks import count_snapshots_ensure, suspects_keep

        # The task worker starts the count snapshots and queues them again after a lost worker.
        register_keeper("count snapshots", lambda: int(count_snapshots_ensure()))
        register_status_section(
            "count_snapshots", template="insights/_status_snapshots.html", figures=snapshot_progress
        )
        # Each worker looks for digests due on its keep-alive timer; the claim sends each one once.
        register_keeper("daily digest", digest_keep)
        register_keeper("link-scanner suspects", suspects_keep)  # a scan when counts were noted since
        register_status_section(
            "suspects_and_digest", template="insights/_status_digest.html", figures=digest_status
        )
