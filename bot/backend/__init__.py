"""What the backend clients (``bot/commerce``, ``bot/bol``) share: error base, read retries, response helpers,
the pooled and bounded HTTP transport (``transport.py``: ``OwnsHttpClient``, ``bounded_transport``).

Nothing here knows a backend by name; each client passes its own error types and messages in.
"""
