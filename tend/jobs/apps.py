from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "tend.jobs"
    label = "jobs"
    verbose_name = "Background jobs"

    def ready(self):
        # Every app declares its jobs in ``jobs.py``; importing them fills the registry in
        # every process (web, worker, scheduler), so enqueue() can check the kind.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("jobs")
