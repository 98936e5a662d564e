from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = gettext_lazy("Bulk fixes")

    def ready(self) -> None:
        from background.keepers import register_keeper
        from jobs.services import jobs_resume

        # The task worker queues a step again for every running job whose own was lost with a worker.
        register_keeper("bulk fixes", jobs_resume)
