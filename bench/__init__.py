"""``make bench``: what loginflow's pattern costs next to the plain Flask-Login way.

One module a concern: the sites compared with loginflow (``comparison_site``,
``bare_site``); starting each under gunicorn (``servers``); signing in over HTTP
(``client``); getting each site ready to load, accounts and remember cookies included
(``sites``, ``fixtures``); the load generator (``wrk``, ``drive.lua``); the alternating
rounds (``rounds``), the crowd of sign-ins for peak memory (``memory``) and the parts of a
request timed in-process (``costs``); the table and its JSON (``table``, ``run``); and,
from that JSON, the capacity on paper (``capacity``).
"""
