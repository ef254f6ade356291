"""gunicorn's settings for ``make serve``, which runs ``gunicorn -c python:loginflow.serving``.

Read from the environment, with defaults for the machine it runs on:

- ``WEB_CONCURRENCY`` (gunicorn's own name): worker processes, default one per core; each
  hashes passwords on its core, so more would only queue for it.
- ``LOGINFLOW_THREADS``: threads per worker, default 4, for requests waiting on the database.
- ``LOGINFLOW_BIND``: where to listen, default ``127.0.0.1:8000`` (a reverse proxy in front).
- ``LOGINFLOW_TLS_CERT`` and ``LOGINFLOW_TLS_KEY``: serve HTTPS itself, without a proxy.

It refuses to serve with any settings class but a production one (``LOGINFLOW_CONFIG``),
since the others invent keys or hash cheaply, unless ``LOGINFLOW_SERVE_ANY_CONFIG=1``.
"""

import os
import sys

from . import config as settings_classes  # not "config": gunicorn reads that name as a setting

_config_name = os.environ.get("LOGINFLOW_CONFIG", "DevelopmentConfig")
_production = getattr(getattr(settings_classes, _config_name, None), "PRODUCTION", False)
if not _production and os.environ.get("LOGINFLOW_SERVE_ANY_CONFIG") != "1":
    sys.exit(
        f"loginflow: LOGINFLOW_CONFIG={_config_name} is not production settings: set "
        "LOGINFLOW_CONFIG=ProductionConfig, or LOGINFLOW_SERVE_ANY_CONFIG=1 to serve it anyway."
    )

wsgi_app = "loginflow:create_app()"
bind = os.environ.get("LOGINFLOW_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 1))
worker_class = "gthread"
threads = int(os.environ.get("LOGINFLOW_THREADS", "4"))
# A request a worker cannot finish in this long is stuck: the worker is replaced.
timeout = 30
# On SIGTERM (a deploy, a restart) requests under way get this long to finish.
graceful_timeout = 30
# Each request on one line to standard output (combined format); errors to standard error.
accesslog = "-"
errorlog = "-"
# Behind a proxy, X-Forwarded-* is the site's business (FLASK_TRUSTED_PROXIES), not gunicorn's.
forwarded_allow_ips = ""
# gunicorn's control socket is one path per user: two instances on a machine would share it.
control_socket_disable = True
certfile = os.environ.get("LOGINFLOW_TLS_CERT") or None
keyfile = os.environ.get("LOGINFLOW_TLS_KEY") or None
