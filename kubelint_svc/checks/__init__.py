"""Check functions named by rules/*.yaml, one module per concern.

A check takes (resource, run context, params) and yields Hits; it knows nothing of rule ids,
severities or output formats.
"""
