"""Record classes: fields with defaults, ``__init__``, ``__repr__`` and ``__eq__``, made cheaply.

This does what ``@dataclass`` does for umlpy's plain records (the ABI's Stat, the platform's
Stop, a task's Creds...) at a fraction of the cost: ``dataclasses`` imports ``inspect`` (and
with it ``ast``, ``dis``, ``tokenize``) and builds each class in many steps, several
milliseconds of every ``umlpy run`` start-up.  Here each class costs one small ``exec``.

    @record(slots=True)
    class Rlimit:
        cur: int
        max: int = 0
        seen: list = factory(list)      # a fresh default per instance

Options: ``slots`` (the class gets ``__slots__`` of its fields), ``frozen`` (fields cannot be
assigned after ``__init__``; the record is hashable), ``norepr`` (fields ``__repr__`` leaves
out).  :func:`replace` is ``dataclasses.replace``.
"""

__all__ = ["record", "factory", "replace", "fields"]


class factory:
    """A field default made anew for each instance: ``factory(list)``."""

    __slots__ = ("make",)

    def __init__(self, make):
        self.make = make


class FrozenRecordError(AttributeError):
    """An assignment to a field of a frozen record."""


def _frozen_setattr(self, name, value):
    raise FrozenRecordError("cannot assign to field %r" % name)


def _frozen_delattr(self, name):
    raise FrozenRecordError("cannot delete field %r" % name)


def record(cls=None, *, slots=False, frozen=False, norepr=()):
    """Make ``cls`` (a class with annotated fields) a record; see the module's docstring."""
    def wrap(cls):
        return _make(cls, slots, frozen, norepr)
    return wrap if cls is None else wrap(cls)


def _make(cls, slots, frozen, norepr):
    names = tuple(cls.__dict__.get("__annotations__", {}))
    ns = {"_MISSING": _MISSING, "_setattr": object.__setattr__}
    params, body = [], []
    for name in names:
        if name in cls.__dict__:
            default = cls.__dict__[name]
            if isinstance(default, factory):
                ns["_f_" + name] = default.make
                params.append("%s=_MISSING" % name)
                body.append("if %s is _MISSING: %s = _f_%s()" % (name, name, name))
            else:
                ns["_d_" + name] = default
                params.append("%s=_d_%s" % (name, name))
        else:
            if params and "=" in params[-1]:
                raise TypeError("%s: field %s without a default follows one with a default"
                                % (cls.__name__, name))
            params.append(name)
        body.append(("_setattr(self, %r, %s)" if frozen else "self.%s = %s") % (name, name))
    src = "def __init__(self, %s):\n    %s\n" % (", ".join(params), "\n    ".join(body or ["pass"]))
    exec(src, ns)
    attrs = dict(cls.__dict__)
    for name in names:
        if slots or isinstance(attrs.get(name), factory):     # slots and class attributes clash
            attrs.pop(name, None)
    init = ns["__init__"]
    init.__qualname__ = cls.__qualname__ + ".__init__"
    attrs["__init__"] = init
    attrs["__record_fields__"] = names
    attrs["__match_args__"] = names
    shown = tuple(n for n in names if n not in norepr)
    if "__repr__" not in cls.__dict__:
        def __repr__(self):
            return "%s(%s)" % (type(self).__qualname__,
                               ", ".join("%s=%r" % (n, getattr(self, n)) for n in shown))
        attrs["__repr__"] = __repr__
    if "__eq__" not in cls.__dict__:
        def __eq__(self, other):
            if other.__class__ is not self.__class__:
                return NotImplemented
            return all(getattr(self, n) == getattr(other, n) for n in names)
        attrs["__eq__"] = __eq__
        if frozen:
            attrs["__hash__"] = lambda self: hash(tuple(getattr(self, n) for n in names))
        else:
            attrs["__hash__"] = None
    if frozen:
        attrs["__setattr__"] = _frozen_setattr
        attrs["__delattr__"] = _frozen_delattr
    attrs.pop("__dict__", None)         # the old class's descriptors; type() makes new ones
    attrs.pop("__weakref__", None)
    if slots:
        attrs["__slots__"] = names
    return type(cls)(cls.__name__, cls.__bases__, attrs)


class _Missing:
    __slots__ = ()

    def __repr__(self):
        return "<no value>"


_MISSING = _Missing()


def fields(obj) -> tuple:
    """The field names of a record (class or instance), in order."""
    return obj.__record_fields__


def replace(obj, **changes):
    """A copy of record ``obj`` with ``changes`` (field=value) applied."""
    values = {n: getattr(obj, n) for n in obj.__record_fields__}
    values.update(changes)
    return obj.__class__(**values)
