# Communique: the bot in a small image. The database lives on the /data volume.
#   docker build -t communique .
#   docker run -d --name communique --env-file .env -v communique-data:/data communique
# docker-compose.yml does the same with a restart policy and log rotation.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# pyproject names README.md as the long description, so the build needs it.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY emulator ./emulator
COPY jobs ./jobs
COPY storage ./storage
COPY text ./text
# The postgres extra (psycopg): one image serves both DATABASE_PATH and DATABASE_URL.
# tzdata: zoneinfo's fallback when the base image ships no /usr/share/zoneinfo
# (Debian trixie-based slim images do not); the counters and clocks need real zones.
RUN python -m venv /opt/communique \
 && /opt/communique/bin/pip install '.[postgres]' tzdata

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/communique/bin:$PATH \
    DATABASE_PATH=/data/communique.sqlite3
# A fixed uid, so a bind-mounted /data can be chowned to it on the host.
RUN groupadd --system --gid 10001 communique \
 && useradd --system --uid 10001 --gid communique --home-dir /nonexistent \
      --no-create-home --shell /usr/sbin/nologin communique \
 && mkdir -p /data /app \
 && chown communique:communique /data
COPY --from=build /opt/communique /opt/communique
# The database, its write-ahead log, the instance lock and the heartbeat file.
VOLUME ["/data"]
# Settings come from the environment; no .env is read from here (the folder is empty).
WORKDIR /app
USER communique
# Webhook mode only (WEBHOOK_LISTEN=0.0.0.0 inside a container); polling needs no port.
EXPOSE 8443
# The bot stops cleanly on SIGTERM: delivery finishes the message in flight.
STOPSIGNAL SIGTERM
# Light: reads the age of the heartbeat file the bot writes every 30 s, after a
# database read. No Telegram request, no feed fetch.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["communique", "healthcheck"]
ENTRYPOINT ["communique"]
CMD ["run"]
