# commerce-approvals-bot image.
#   docker build -t commerce-approvals-bot .
#   docker run --env-file .env -p 3000:3000 -v approvals-data:/data commerce-approvals-bot
#   docker run --env-file .env commerce-approvals-bot check
#   docker run --rm -p 127.0.0.1:3000:3000 commerce-approvals-bot demo    (a sandbox; open http://127.0.0.1:3000/)
# No secret is baked in: SLACK_*, COMMERCE_*, BOL_* are passed at run time.

# ---- builder: the locked dependencies, then the project, in a self-contained venv ----
# Only /opt/venv leaves this stage (one COPY below): what is installed or deleted here never adds to
# the final image, and binutils (for strip) stays here.
FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SITE_PACKAGES=/opt/venv/lib/python3.11/site-packages

RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils=2.40-* \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:${PATH}"

WORKDIR /src
# Dependencies first, in a layer of their own that only a lock change rebuilds; the hashes make pip
# refuse anything but the files the lock was made from. Then what the bot never loads goes: the
# symbol tables and debug sections of the shared objects (half of their 36 MB), the packages' own
# test suites (SQLAlchemy's testing/ and its dialects' provision.py are loaded by its pytest plugin
# only), the MySQL/SQL Server/Oracle dialects (DATABASE_URL accepts SQLite and PostgreSQL only),
# pydantic's v1 copy and the mypy plugins, type stubs and C/C++/Cython sources. psycopg-binary's own
# copy of OpenSSL (7 MB) gives way to the base image's (libpq needs only OPENSSL_3.0.0 symbols, and
# Debian's security updates then reach it). --no-compile: bytecode is written once, below.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps --no-compile -r requirements.lock \
    && find /opt/venv -name '*.so*' -type f -exec strip --strip-unneeded {} + \
    && rm -rf "${SITE_PACKAGES}"/sqlalchemy/testing \
        "${SITE_PACKAGES}"/sqlalchemy/dialects/*/provision.py \
        "${SITE_PACKAGES}"/sqlalchemy/dialects/mysql "${SITE_PACKAGES}"/sqlalchemy/dialects/mssql \
        "${SITE_PACKAGES}"/sqlalchemy/dialects/oracle "${SITE_PACKAGES}"/greenlet/tests \
        "${SITE_PACKAGES}"/aiosqlite/tests "${SITE_PACKAGES}"/certifi/tests \
        "${SITE_PACKAGES}"/multidict/_testcapi.*.so "${SITE_PACKAGES}"/alembic/testing \
        "${SITE_PACKAGES}"/pydantic/v1 "${SITE_PACKAGES}"/sqlalchemy/ext/mypy \
    && find "${SITE_PACKAGES}" -type f \( -name '*.pyi' -o -name '*.pyx' -o -name '*.pxd' \
        -o -name '*.c' -o -name '*.cpp' -o -name '*.h' -o -name '*.hpp' \) -delete \
    && for lib in ssl crypto; do \
        ln -sf "$(find /usr/lib -name "lib${lib}.so.3" -print -quit)" \
            "$(find "${SITE_PACKAGES}"/psycopg_binary.libs -name "lib${lib}-*.so.3")"; \
    done

# Then the project: only what the build needs (pyproject.toml declares README.md as the readme).
# --no-deps: every dependency is in the layer above, as locked.
# Bytecode: all of the project's, and of the dependencies only the modules a start-up imports (every
# bot module, both database engines, an HTTP client), written by importing them (-I: the installed
# bot, not ./bot); a module imported later is compiled in memory when first used. Compiling every
# dependency instead would add about 6 MB of bytecode that is never read, and compiling none would
# triple the start-up time. Alembic's env.py runs only inside Alembic (it is compiled, not imported);
# the revisions in bot/storage/migrations/versions/ are imported like any module. A dependency's
# module that has bytecode then keeps only that (its .pyc moved where its .py was, which Python loads
# without a source): 14 MB less, and its traceback lines name file and line without the text. The
# bot's own modules keep their source. tzdata goes: the base image has the system's time zones,
# which zoneinfo reads first.
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir --no-deps --no-compile . \
    && pip uninstall --yes pip setuptools tzdata \
    && python -I -c "import importlib, pkgutil, sys; sys.dont_write_bytecode = False; \
import anyio._backends._asyncio, bot, httpx; from bot.storage.engine import create_engine; \
[importlib.import_module(m.name) for m in pkgutil.walk_packages(bot.__path__, 'bot.') \
if m.name not in ('bot.__main__', 'bot.storage.migrations.env')]; \
create_engine('sqlite://'); create_engine('postgresql://localhost/probe'); httpx.AsyncClient()" \
    && python -m compileall -q "${SITE_PACKAGES}"/bot \
    && python -I -c "import pathlib, sys; site = pathlib.Path(sys.argv[1]); tag = sys.implementation.cache_tag; \
[(cached.replace(source.with_suffix('.pyc')), source.unlink()) for source in site.rglob('*.py') \
if source.parts[len(site.parts)] != 'bot' \
for cached in [source.parent / '__pycache__' / f'{source.stem}.{tag}.pyc'] if cached.exists()]" \
        "${SITE_PACKAGES}" \
    && find "${SITE_PACKAGES}" -path "${SITE_PACKAGES}/bot" -prune -o -type d -name __pycache__ -empty \
        -exec rmdir {} +

# ---- runtime ----
FROM python:3.11-slim-bookworm

# Set at build time: --build-arg SOURCE_URL=<the repository's URL> --build-arg REVISION=$(git rev-parse HEAD)
# VERSION is bot/version.py's (tests/test_version.py keeps the two equal): bump both together.
ARG VERSION=0.2.0
ARG REVISION=unknown
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="commerce-approvals-bot" \
      org.opencontainers.image.description="Slack bot: approve HCL Commerce requests, follow bol.com process statuses" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH="/opt/venv/bin:${PATH}" \
    PORT=3000 \
    DATABASE_URL=sqlite:////data/approvals-bot.db \
    DEMO_HOST=0.0.0.0
# DEMO_HOST: `approvals-bot demo` serves its page on 127.0.0.1 unless told otherwise; in a container
# only an address on the container's own interface can be published (-p 127.0.0.1:3000:3000 keeps it on
# the host's loopback). Everything else of the demo (the bot, the sandbox servers) stays on 127.0.0.1.

# Unprivileged user app (uid/gid 10001); /data holds the SQLite file and must be writable by it.
# Not --system: system ids end at 999, and useradd warns about a system user with uid 10001.
RUN groupadd --gid 10001 app \
    && useradd --uid 10001 --gid app --no-log-init --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app \
    && mkdir -p /data /app \
    && chown app:app /data

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
VOLUME ["/data"]
EXPOSE 3000

# Liveness via the bot's own /healthz (slim has no curl; use the image's Python).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

# The user "app", by number: resolvable on any host, and Kubernetes' runAsNonRoot can verify it
# (hadolint DL3066).
USER 10001:10001

# SIGTERM stops the bot gracefully: it drains decisions already acked to Slack (see docs/operating/logs.md,
# "Stopping"); give it the stop timeout that page names (docker stop -t, Compose stop_grace_period,
# Kubernetes terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM

ENTRYPOINT ["approvals-bot"]
CMD ["serve"]
