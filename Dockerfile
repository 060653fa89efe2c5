FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Pango for the invoice PDF (WeasyPrint); its fonts are shipped under static/fonts.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, in their own layer: a code change does not reinstall them.
COPY pyproject.toml ./
RUN pip install .

COPY . .
# Static files are collected into the image (var/staticfiles), hashed and compressed, as
# production serves them. Settings refuse to load with DEBUG off and no keys; these throwaway
# ones only let collectstatic start, which neither signs nor decrypts anything.
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=collectstatic-at-build-time \
    FIELD_ENCRYPTION_KEYS=MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE= \
    python manage.py collectstatic --noinput

# The app runs unprivileged. Code and static files stay root's, so it cannot change them; it
# may write only var/media (uploads) and var/celery-broker (the broker folder used without Redis).
RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin garage \
    && mkdir -p var/media var/celery-broker \
    && chown garage:garage var/media var/celery-broker
# Numeric, so an orchestrator's runAsNonRoot check can verify it without reading /etc/passwd.
USER 10001:10001

EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "30"]
