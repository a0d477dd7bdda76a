"""The kernel side of srcstage: the pieces behind :mod:`srcstage_jlab.client` (the public face).

- ``errors``: the exceptions a kernel user meets and the one mapping from a REST error answer to them.
- ``models``: plain values read from REST answers (DIDs, jobs' status, destination, session, pre-check).
- ``progress``: how a job's progress is shown (one text line, a text bar, an ipywidgets bar).
- ``transport``: one connection to the server extension, and :class:`~.transport.verb`, which turns
  an operation written once (a generator of requests) into a blocking method and its async twin.
- ``resources``: :class:`Client`, :class:`Collection` and :class:`Job`, each verb written once.
- ``discovery``: finding the Jupyter server this kernel runs under.
"""
