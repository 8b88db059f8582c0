"""Local development: the embedded defaults plus DEBUG."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
# No network needed for the demo: the postal-code table geocodes (set GEOCODER for BAN).
GEOCODER = env("GEOCODER", default="missions.geocoding.PostalCodeGeocoder")
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# The demo portals may move under .localhost (base: unset, no move at all).
PORTAL_DOMAINS = env.list("PORTAL_DOMAINS", default=[".localhost"])
# The demo admin enrols a phone at first sign-in (production: through an emailed link).
TWO_FACTOR_ENROL_AT_SIGN_IN = env.bool("TWO_FACTOR_ENROL_AT_SIGN_IN", default=True)
