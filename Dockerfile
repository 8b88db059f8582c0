# syntax=docker/dockerfile:1
# One image for web (gunicorn), worker/beat (celery) and the migrate one-shot.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Unprivileged runtime user; /app is its home so nothing needs write access elsewhere.
RUN groupadd --system --gid 1000 app \
    && useradd --system --uid 1000 --gid app --home-dir /app --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first so code changes don't invalidate this layer.
# All locked packages ship manylinux wheels, so no compiler/libpq is needed.
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY --chown=app:app . .

# Pre-create the directories that docker-compose mounts as named volumes: a new named volume
# is initialised with the image's content and ownership, so app can write to them.
RUN mkdir -p /app/staticfiles /app/media \
    && chown app:app /app/staticfiles /app/media

USER app

# Production settings refuse to start without these; the throwaway values exist only for
# this RUN line (no DB/redis connection is made by collectstatic) and are not baked into
# the image environment.
RUN DJANGO_SETTINGS_MODULE=portal.settings.production \
    SECRET_KEY=collectstatic-build-only-not-a-secret \
    DATABASE_URL=postgres://build:build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 ALLOW_SHARED_CACHE_REDIS=true \
    python manage.py collectstatic --noinput

ENV DJANGO_SETTINGS_MODULE=portal.settings.production \
    PORT=8000

EXPOSE 8000

CMD ["gunicorn", "-c", "gunicorn.conf.py", "portal.wsgi:application"]
