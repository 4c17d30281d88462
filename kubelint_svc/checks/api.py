"""The one API every check is written against: what a check is given (a Resource, the run's
context, its typed parameters) and what it gives back (Hits). Checks import this, the model
and the index; nothing above them."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from kubelint_svc.findings import FieldPath
from kubelint_svc.index import Index
from kubelint_svc.model import FixProposal, Resource
from kubelint_svc.settings import Settings

if TYPE_CHECKING:
    from kubelint_svc.cache import Cache
    from kubelint_svc.schemas import SchemaStore

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
P_contra = TypeVar("P_contra", contravariant=True)


@dataclass(frozen=True)
class Hit:
    """What a check reports: the rule's id, severity and the object are filled in by the engine."""

    message: str
    path: FieldPath = ()
    at_key: bool = True  # point at the key of the field (True) or at its value
    severity: str | None = None  # a verdict milder than the rule's own (never harsher)
    # hits on a `${VAR}` value are dropped (the object is a template) unless they are about it
    about_placeholder: bool = False
    help: tuple[str, ...] = ()  # how to fix it, one line each (`did you mean 'selector'?`)
    related: tuple[Related, ...] = ()  # other places that explain it
    fix: FixProposal | None = None  # how to fix it, as changes of the object (--fix)


@dataclass(frozen=True)
class Related:
    """A place in another object (or this one) that explains a hit: the engine locates it."""

    resource: Resource
    path: FieldPath
    message: str


@dataclass(frozen=True)
class NoParams:
    """The parameters of a check that takes none: a rule giving it any is a configuration error."""


@dataclass
class RunContext:
    """What a run knows beyond one object: its settings, every object read, and computations
    shared by several checks, each made once per run."""

    settings: Settings
    resources: list[Resource] = field(default_factory=list)
    # objects read only to know the surroundings (--context): indexed, never reported on
    context_resources: list[Resource] = field(default_factory=list)
    # documents that could not be read, as (file, line, real folder): they may hold what a rule looks for
    unreadable: list[tuple[str, int, str]] = field(default_factory=list)
    # folders (real paths) known to be deploy targets of their own: the kustomize roots
    target_roots: frozenset[str] = frozenset()
    # the run's cache, and what every entry of this run depends on (the tool, settings, rules):
    # for a cross-object verdict keyed by the texts it was derived from
    cache: Cache | None = None
    fingerprint: str = ""
    _memo: dict[tuple[Callable[..., Any], Any], Any] = field(default_factory=dict, repr=False)

    @property
    def kubernetes_version(self) -> str:
        return self.settings.kubernetes_version

    @property
    def minor(self) -> int:
        return self.settings.minor

    @property
    def node_port_range(self) -> tuple[int, int]:
        return self.settings.node_port_range

    @property
    def default_namespace(self) -> str:
        return self.settings.namespace

    @cached_property
    def index(self) -> Index:
        """Every object of the run (context included), by namespace, labels and name."""
        return Index(self.resources, self.default_namespace, self.context_resources, self.settings.pod_templates,
                     self.target_roots)

    @cached_property
    def schemas(self) -> SchemaStore:
        """The bundled schemas of the run's Kubernetes version."""
        from kubelint_svc.schemas import store_for

        return store_for(self.kubernetes_version)

    @cached_property
    def one_object_view(self) -> RunContext:
        """The run as a check not marked @cross_object sees it (see OneObjectRun)."""
        return OneObjectRun(self.settings, _memo=self._memo, _parent=self)

    def once(self, compute: Callable[[RunContext], T]) -> T:
        """compute(run), made on first use and shared for the rest of the run: keyed by the
        function itself, so two checks can never mix up each other's results."""
        key = (compute, None)
        if key not in self._memo:
            self._memo[key] = compute(self)
        result: T = self._memo[key]
        return result

    def once_per(self, compute: Callable[[RunContext, K], T], subject: K) -> T:
        """compute(run, subject), made once per run and subject."""
        key = (compute, subject)
        if key not in self._memo:
            self._memo[key] = compute(self, subject)
        result: T = self._memo[key]
        return result


class CrossObjectRead(Exception):
    """A check not marked @cross_object read another object of the run: a bug of that check."""


# what only a check marked @cross_object may read of its run (OneObjectRun; engine checks it at load)
OTHER_OBJECTS = frozenset({"index", "resources", "context_resources", "unreadable", "target_roots"})


@dataclass
class OneObjectRun(RunContext):
    """The run as a one-object check sees it: the settings, the schemas and the memos. Such a
    check runs while files are still being read and its findings are cached with its file's, so
    reading another object (the index, the objects, the unreadable documents) raises instead of
    seeing a partial run: the engine reports it as an internal error naming the marker."""

    _parent: RunContext | None = field(default=None, repr=False)

    def __getattribute__(self, name: str) -> Any:
        if name in OTHER_OBJECTS:
            raise CrossObjectRead(f"it read run.{name}, which only a check marked @cross_object may (checks/api.py)")
        return super().__getattribute__(name)

    @cached_property
    def schemas(self) -> SchemaStore:
        parent: RunContext | None = super().__getattribute__("_parent")
        if parent is not None:  # one store a run: the bundle is loaded once
            return parent.schemas
        from kubelint_svc.schemas import store_for

        return store_for(self.kubernetes_version)


class CheckFunction(Protocol[P_contra]):
    """A check: `(resource, run, params) -> hits`; params is the dataclass its annotation names."""

    def __call__(self, resource: Resource, run: RunContext, params: P_contra, /) -> Iterable[Hit]: ...


C = TypeVar("C", bound=Callable[..., Any])


def header_only(check: C) -> C:
    """Marks a check that reads nothing but apiVersion, kind and metadata of an object of a kind
    neither the index nor a rule naming kinds reads whole: such a check on every kind lets those
    objects be read for their header only."""
    check.header_only = True  # type: ignore[attr-defined]
    return check


def reads_header_only(check: Callable[..., Any]) -> bool:
    return bool(getattr(check, "header_only", False))


def cross_object(check: C) -> C:
    """Marks a check that reads other objects of the run (the index, every Service, the files
    that could not be read): its findings are never cached with one file's, and it runs on
    every run."""
    check.cross_object = True  # type: ignore[attr-defined]
    return check


def is_cross_object(check: Callable[..., Any]) -> bool:
    return bool(getattr(check, "cross_object", False))
