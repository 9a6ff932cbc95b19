from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from catalog import hooks

        from .services.verification import verification_queue_for_versions, verification_scripts_from_manifest

        hooks.on_versions_created(verification_queue_for_versions)
        hooks.on_manifest_scripts(verification_scripts_from_manifest)
