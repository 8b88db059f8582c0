"""Legal identifiers of French organisations: format, and checksum where one exists."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

RNA = re.compile(r"^W\d{9}$")  # Répertoire national des associations: W + 9 digits
LA_POSTE_SIREN = "356000000"  # La Poste's establishments follow another checksum rule


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def validate_siret(value: str) -> str:
    siret = re.sub(r"\s", "", value or "")
    if not re.fullmatch(r"\d{14}", siret):
        raise ValidationError(_("A SIRET has 14 digits."), code="siret_format")
    if siret.startswith(LA_POSTE_SIREN):
        # Its head office passes Luhn; its thousands of post offices have sums divisible by 5.
        valid = luhn_ok(siret) or sum(int(c) for c in siret) % 5 == 0
    else:
        valid = luhn_ok(siret) and luhn_ok(siret[:9])
    if not valid:
        raise ValidationError(
            _("This SIRET number is not valid (checksum)."), code="siret_checksum"
        )
    return siret


def validate_rna(value: str) -> str:
    rna = (value or "").strip().upper()
    if not RNA.match(rna):
        raise ValidationError(_("An RNA number is W followed by 9 digits."), code="rna_format")
    return rna
