"""Kustomize builds: the chain scanned (scan), built by an engine (engines) or the built-in
fallback (fallback), each built field traced to the file that wrote it (tracing)."""
