"""The admin (kill-switch) listener: `create_admin_app(gateway)`."""

from interlock.api.admin.app import create_admin_app

__all__ = ["create_admin_app"]
