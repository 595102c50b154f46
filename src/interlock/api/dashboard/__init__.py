"""The operator's dashboard on the admin listener: `add_dashboard_routes(app, ...)`."""

from interlock.api.dashboard.routes import add_dashboard_routes

__all__ = ["add_dashboard_routes"]
