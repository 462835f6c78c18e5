"""The rooms of an audit run, which ``auditkit.runner.AuditRun`` walks through in order.

- ``plan``: take every result the cache holds and say what is left to run;
- ``execute``: turn the workers' messages into model states, cache entries and error rows;
- ``assemble``: build the ``AuditResult`` and the sample records from what is known so far;
- ``write``: write the audit's files atomically;
- ``state``: what the run knows of each model, shared by the rooms above;
- ``lines``: the sentences the run prints on its progress display.

Nothing here imports ``auditkit.report``: reports are rendered a layer above, from the written
results.
"""
