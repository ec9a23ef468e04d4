from django.apps import AppConfig


class WorkConfig(AppConfig):
    name = "tend.work"
    label = "work"
    verbose_name = "Work: tasks"

    def ready(self):
        # The account profile shows the account's open tasks; accounts sits below work, so
        # the panel is registered through the extension point accounts offers.
        from django.db.models.signals import post_delete

        from tend.work import extensions, imports
        from tend.work.actions.attachments import file_deleted
        from tend.work.models import TouchpointAttachment

        extensions.register()
        # An attachment's file leaves the disk with its row, whatever deleted it (the
        # touchpoint, the account, the workspace): see tend.work.actions.attachments.
        post_delete.connect(
            file_deleted, sender=TouchpointAttachment, dispatch_uid="work-attachment-file"
        )
        # Tasks and touchpoints can be imported from files (Data → Imports).
        imports.register_all()
