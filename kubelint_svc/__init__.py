"""kubelint-svc: a linter for Kubernetes Services and the workloads they select."""

__version__ = "0.1.0"
