"""`make rehearsal`: day -2 of March 2020 replayed on the production topology of one machine.

nginx (deploy/nginx.conf) in front of two gunicorn instances, two Celery workers and beat, the
signup stream's writer, a private PostgreSQL cluster, the cache Redis and the sessions/broker
Redis, the fake Brevo and a fake Cloudflare; Locust drives the load (bench/rehearsal/
locustfile.py) while faults are played on a timeline; invariants are checked at the end and a
report with plots and a capacity plan is written to bench/results/rehearsal/.

Modules: plan (the timeline, full and QUICK), topology (the processes), fakes (Brevo with an
outage switch, Cloudflare), sampler (CPU per process and backlogs, every second), invariants
(pure checks), capacity (the plan's arithmetic), report (plots and HTML), run (the command).
"""
