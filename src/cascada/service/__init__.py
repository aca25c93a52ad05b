"""`cascada serve`: the multi-user HTTP service (FastAPI), its jobs and its database.

Needs the ``service`` extra (``pip install cascada[service]``). The API
contract shared with the dashboard is in ``API.md`` beside this file; the
operator's guide is ``docs/service.md``.
"""
