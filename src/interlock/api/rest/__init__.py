"""The REST order API (FastAPI): `create_app(gateway)`; status map in `status`."""

from interlock.api.rest.app import create_app
from interlock.api.rest.status import STATUS_BY_CODE

__all__ = ["STATUS_BY_CODE", "create_app"]
