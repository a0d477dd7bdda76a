"""A local imitation of SRCNet (Auth, Site Capabilities, Data Management APIs over a real Rucio).

Run it with ``srcstage-sandbox run`` (or ``python -m srcstage_jlab.sandbox run``); the
fixed facts (users, namespaces, storage areas) live in :mod:`srcstage_jlab.sandbox.config`.
"""
