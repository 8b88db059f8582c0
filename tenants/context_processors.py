from .models import PortalSettings


def portal(request):
    """The current portal's switches (banner, degraded mode) for every template, cached."""
    site = getattr(request, "site", None)
    return {"portal": PortalSettings.cached_for_site(site) if site is not None else None}
