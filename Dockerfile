# syntax=docker/dockerfile:1
# Build stage: build the wheel and install it with its dependencies into a virtualenv.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY alembic ./alembic
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --upgrade pip && /opt/venv/bin/pip install .

# Runtime stage: the virtualenv and the migrations, run as an unprivileged user.
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 B1BRIDGE_DATA_DIR=/var/lib/b1bridge
RUN useradd --system --uid 10001 --home /var/lib/b1bridge --create-home b1bridge
COPY --from=build /opt/venv /opt/venv
COPY --from=build /src/alembic.ini /opt/b1bridge/alembic.ini
COPY --from=build /src/alembic /opt/b1bridge/alembic
WORKDIR /opt/b1bridge
USER b1bridge
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4)" || exit 1
# The worker: docker run … b1bridge worker. Migrations: docker run … b1bridge migrate.
CMD ["b1bridge", "serve", "--host", "0.0.0.0", "--port", "8000"]
