# One image for the API (`gridctl serve`, the default command) and the worker (`gridctl worker`).

# The web console is built in its own stage; only its dist/ reaches the Python image, where
# the API serves it at / (api/web.py). The typed client (src/api/schema.d.ts) is committed, so
# the build needs nothing outside clients/web.
FROM node:20-bookworm-slim AS web
WORKDIR /web
# Dependencies first, in their own layer: reinstalled only when the lock file changes.
COPY clients/web/package.json clients/web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY clients/web/ ./
RUN npm run build

FROM python:3.11-slim

# The code finds alembic.ini, migrations/ and clients/web/ next to its packages, so it runs
# from the source tree in /app (PYTHONPATH); the installed package provides `gridctl`.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    GRID_STORAGE_DIR=/app/var/storage

WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
COPY --from=web /web/dist clients/web/dist
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info \
    && useradd --system --uid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin grid \
    && mkdir -p var/storage \
    && chown -R grid:grid var

USER grid
EXPOSE 8000
ENTRYPOINT ["gridctl"]
CMD ["serve", "--host", "0.0.0.0"]
