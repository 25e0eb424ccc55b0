"""The parts of the manual that come from the code: ``python -m bot.docs`` writes them, ``--check`` compares.

What can drift is generated from where it is declared: the configuration reference and
``.env.example`` from the settings model (each field's ``description`` and ``examples``), the
metrics reference from the metrics registry, the ingest API reference from its OpenAPI document.
A page keeps its hand-written text; only the blocks between its ``BEGIN GENERATED`` and
``END GENERATED`` markers are rewritten. ``tests/test_docs_generated.py`` fails when one is stale.
"""
