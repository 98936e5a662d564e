"""Gunicorn settings for the dashboard (used by the Procfile, the systemd unit and the two-machine test).

Threads, not more processes: a page mostly waits on the upstream APIs, and every thread shares its
process's connection pool. The dashboard reads the same WEB_CONCURRENCY and WEB_THREADS (settings.py):
it keeps one thread of each worker free of upstream waits, and while Redis is down each worker keeps to
1/UPSTREAM_WORKER_COUNT of the budget. The environment file sets them once for both.
"""

import os

# nginx on the same machine reaches gunicorn on loopback; GUNICORN_BIND moves it (e.g. a second instance).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))  # settings.py's default too (config.py)
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
# Each worker listens on its own socket (SO_REUSEPORT) and the kernel spreads new connections across them.
# With one shared socket the workers race to accept, and nginx's few keep-alive connections (deploy/nginx:
# `keepalive 16`) could all land on one worker while the others idle (issue 28: measured under wrk, one
# worker served 690-840 requests a second, both 1,900-2,206). Its cost: a worker that stops (a deploy's
# restart, a timeout) drops the connections still waiting in its own queue, which nginx retries for a GET
# and answers 502 for a POST; and a second gunicorn started on the same port by the same user shares it
# instead of failing. REUSE_PORT=0 turns it off.
reuse_port = os.environ.get("REUSE_PORT", "1") != "0"
# A page gives up on the upstream after UPSTREAM_PAGE_DEADLINE (8 s); this is only a backstop.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 10
# nginx on the same machine is the only proxy whose X-Forwarded-* headers gunicorn itself believes
# (the dashboard's own rule for X-Forwarded-For is TRUSTED_PROXIES / TRUSTED_PROXY_COUNT).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# No query strings in the access log: a pasted order-status link carries the customer's key.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
