"""Unique slugs that survive concurrent creation."""

import secrets

from django.db import IntegrityError, transaction
from django.utils.text import slugify


def save_with_unique_slug(obj, text: str, fallback: str, max_length: int = 180):
    """Insert `obj` under a readable slug made from `text` (`name`, `name-2`, ...).

    Two requests creating the same name at the same instant both find `name` free; the unique
    index refuses the second insert, which then retries with a random suffix instead of
    answering 500.
    """
    manager = type(obj)._default_manager
    base = slugify(text)[:max_length].strip("-") or fallback
    slug, n = base, 1
    while n < 20 and manager.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    for _attempt in range(5):
        obj.slug = slug
        try:
            with transaction.atomic():
                obj.save()
            return obj
        except IntegrityError:
            if not manager.filter(slug=slug).exists():
                raise  # another constraint: not ours to hide
        slug = f"{base}-{secrets.token_hex(4)}"
    raise IntegrityError(f"No free slug for {base!r}")
