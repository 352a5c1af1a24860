"""Typed records decoded from JSON and TOML: the small part of pydantic wmsync used, without its start-up cost.

A command that does work used to spend ~100 ms importing pydantic and building validators for the config file
and the Commerce and Walmart models before it sent its first request. These records keep the same shape —
``model_validate``, ``model_dump``, ``model_extra``, ``ValidationError.errors()`` with ``loc``/``msg``/``type`` —
and the same rules (lax numbers, strict strings, unknown keys allowed, ignored or forbidden per class), but a
class costs nothing until it is first used: its decoder is compiled then, from its annotations.

    class Track(Record, extra="allow"):
        track_number: str | None = None
        qty: Annotated[float, Before(to_float)] = 0
        code: Annotated[str, Check(pattern=r"^[a-z]+$")] = "x"
"""

from __future__ import annotations

import json
import re
import sys
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from typing import Annotated, Any, ClassVar, Literal, TypeVar, dataclass_transform

__all__ = ["Before", "Check", "Field", "Record", "ValidationError", "validator"]

R = TypeVar("R", bound="Record")
_MISSING: Any = object()


class ValidationError(ValueError):
    """One or more fields did not fit. ``errors()``: ``[{"loc": (...), "msg": ..., "type": ...}, ...]``."""

    def __init__(self, title: str, errors: list[dict[str, Any]]) -> None:
        self.title = title
        self._errors = errors
        super().__init__(str(self))

    def errors(self) -> list[dict[str, Any]]:
        return list(self._errors)

    def error_count(self) -> int:
        return len(self._errors)

    def __str__(self) -> str:
        n = len(self._errors)
        lines = [f"{n} validation error{'s' if n != 1 else ''} for {self.title}"]
        for err in self._errors:
            lines.append(".".join(str(p) for p in err["loc"]) or "(record)")
            lines.append(f"  {err['msg']} [type={err['type']}]")
        return "\n".join(lines)


class _Invalid(Exception):
    """One or more problems of a value: ``items`` are (location within the value, message, kind)."""

    def __init__(self, msg: str, kind: str, loc: tuple[Any, ...] = ()) -> None:
        super().__init__(msg)
        self.items: list[tuple[tuple[Any, ...], str, str]] = [(tuple(loc), msg, kind)]

    @classmethod
    def of(cls, items: list[tuple[tuple[Any, ...], str, str]]) -> _Invalid:
        loc, msg, kind = items[0]
        out = cls(msg, kind, loc)
        out.items = list(items)
        return out

    def under(self, key: Any) -> list[tuple[tuple[Any, ...], str, str]]:
        """The problems, located under ``key`` (a list index, a dictionary key)."""
        return [((key, *loc), msg, kind) for loc, msg, kind in self.items]


class Before:
    """``Annotated[T, Before(fn)]``: ``fn`` turns the raw value into something ``T`` accepts, before the check."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn


class Check:
    """``Annotated[T, Check(...)]``: bounds on a number, length and pattern of a string (or a list's length)."""

    def __init__(self, *, gt: float | None = None, ge: float | None = None, le: float | None = None,
                 min_length: int | None = None, max_length: int | None = None, pattern: str | None = None) -> None:
        self.gt, self.ge, self.le = gt, ge, le
        self.min_length, self.max_length = min_length, max_length
        self.pattern_text = pattern
        self._pattern: re.Pattern[str] | None = None  # compiled on first use

    def __call__(self, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if self.gt is not None and not value > self.gt:
                raise _Invalid(f"Input should be greater than {_num(self.gt)}", "greater_than")
            if self.ge is not None and not value >= self.ge:
                raise _Invalid(f"Input should be greater than or equal to {_num(self.ge)}", "greater_than_equal")
            if self.le is not None and not value <= self.le:
                raise _Invalid(f"Input should be less than or equal to {_num(self.le)}", "less_than_equal")
        if isinstance(value, str | list):
            unit = "character" if isinstance(value, str) else "item"
            if self.min_length is not None and len(value) < self.min_length:
                raise _Invalid(f"{'String' if unit == 'character' else 'List'} should have at least "
                               f"{self.min_length} {unit}{'s' if self.min_length != 1 else ''}", "too_short")
            if self.max_length is not None and len(value) > self.max_length:
                raise _Invalid(f"{'String' if unit == 'character' else 'List'} should have at most "
                               f"{self.max_length} {unit}{'s' if self.max_length != 1 else ''}", "too_long")
        if self.pattern_text and isinstance(value, str):
            if self._pattern is None:
                self._pattern = re.compile(self.pattern_text)
            if self._pattern.search(value):
                return value
            raise _Invalid(f"String should match pattern '{self.pattern_text}'", "string_pattern_mismatch")
        return value


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


class _FieldInfo:
    __slots__ = ("default", "default_factory")

    def __init__(self, default: Any, default_factory: Callable[[], Any] | None) -> None:
        self.default = default
        self.default_factory = default_factory


def Field(default: Any = _MISSING, *, default_factory: Callable[[], Any] | None = None) -> Any:
    """A field's default: a value, or a factory for a fresh one per record."""
    return _FieldInfo(default, default_factory)


def validator(*names: str, mode: Literal["before", "after"] = "after") -> Callable[[Any], Any]:
    """Mark a classmethod-style function ``fn(cls, value)`` as a validator of ``names`` (``before`` runs on the
    raw value, ``after`` on the decoded one). ``validator(mode="after")`` with no names: ``fn(self)`` checks the
    whole record once decoded."""

    def mark(fn: Any) -> Any:
        func = fn.__func__ if isinstance(fn, classmethod | staticmethod) else fn
        setattr(func, "__record_validator__", (names, mode))  # noqa: B010 - a function's own attribute
        return fn

    return mark


# ---------------------------------------------------------------- decoders


Decoder = Callable[[Any], Any]


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise _Invalid("Input should be a valid integer, got a number with a fractional part", "int_from_float")
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                f = float(text)
            except ValueError:
                f = float("nan")
            if f.is_integer():
                return int(f)
        raise _Invalid("Input should be a valid integer, unable to parse string as an integer", "int_parsing")
    raise _Invalid("Input should be a valid integer", "int_type")


def _float(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
        raise _Invalid("Input should be a valid number, unable to parse string as a number", "float_parsing")
    raise _Invalid("Input should be a valid number", "float_type")


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _Invalid("Input should be a valid string", "string_type")


_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    raise _Invalid("Input should be a valid boolean", "bool_parsing")


def _any(value: Any) -> Any:
    return value


def _each(entries: Iterable[tuple[Any, Any]], decode: Callable[[Any, Any], Any]) -> list[Any]:
    """``decode(place, value)`` of every entry (a list's index, a table's key): every entry's problem is
    reported, under its place, not only the first one."""
    out: list[Any] = []
    problems: list[tuple[tuple[Any, ...], str, str]] = []
    for place, value in entries:
        try:
            out.append(decode(place, value))
        except _Invalid as exc:
            problems += exc.under(place)
    if problems:
        raise _Invalid.of(problems)
    return out


def _decoder(tp: Any, owner: type) -> Decoder:
    """The function that checks and converts a raw value to ``tp`` (raising ``_Invalid``)."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        base, *meta = typing.get_args(tp)
        inner = _decoder(base, owner)
        befores = [m.fn for m in meta if isinstance(m, Before)]
        checks = [m for m in meta if isinstance(m, Check)]

        def annotated(value: Any) -> Any:
            for fn in befores:
                value = fn(value)
            value = inner(value)
            for check in checks:
                check(value)
            return value

        return annotated
    if tp is Any or tp is object:
        return _any
    if tp is type(None):
        def none(value: Any) -> None:
            if value is not None:
                raise _Invalid("Input should be None", "none_required")

        return none
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        optional = type(None) in args
        options = [_decoder(a, owner) for a in args if a is not type(None)]
        exact = [a for a in args if a is not type(None)]

        def union(value: Any) -> Any:
            if value is None and optional:
                return None
            if len(options) == 1:
                return options[0](value)
            for a, dec in zip(exact, options, strict=True):  # an exact type match first, as pydantic's smart mode
                if isinstance(a, type) and type(value) is a:
                    return dec(value)
            failed: list[_Invalid] = []
            for dec in options:
                try:
                    return dec(value)
                except _Invalid as exc:
                    failed.append(exc)
            # the problem worth saying is the one of the option the value looks like: a table that is not a
            # valid record is wrong as that record (its key at fault named), not "not a string"
            for a, problem in zip(exact, failed, strict=True):
                if isinstance(value, dict) and ((isinstance(a, type) and issubclass(a, Record))
                                                or typing.get_origin(a) is dict):
                    raise problem
            raise failed[0]

        return union
    if origin is Literal:
        allowed = typing.get_args(tp)

        def literal(value: Any) -> Any:
            if value in allowed and any(type(value) is type(a) for a in allowed):
                return value
            shown = " or ".join(repr(a) for a in allowed) if len(allowed) <= 2 else \
                ", ".join(repr(a) for a in allowed[:-1]) + f" or {allowed[-1]!r}"
            raise _Invalid(f"Input should be {shown}", "literal_error")

        return literal
    if origin is list:
        (item_tp,) = typing.get_args(tp) or (Any,)
        item = _decoder(item_tp, owner)

        def listed(value: Any) -> list[Any]:
            if not isinstance(value, list | tuple):
                raise _Invalid("Input should be a valid list", "list_type")
            return _each(enumerate(value), lambda _i, v: item(v))

        return listed
    if origin is dict:
        key_tp, value_tp = typing.get_args(tp) or (Any, Any)
        key, val = _decoder(key_tp, owner), _decoder(value_tp, owner)

        def mapping(value: Any) -> dict[Any, Any]:
            if not isinstance(value, dict):
                raise _Invalid("Input should be a valid dictionary", "dict_type")
            return dict(_each(value.items(), lambda k, v: (key(k), val(v))))

        return mapping
    if isinstance(tp, type) and issubclass(tp, Record):
        record = tp

        def nested(value: Any) -> Any:
            if isinstance(value, record):
                return value
            if not isinstance(value, dict):
                raise _Invalid(f"Input should be a valid dictionary or instance of {record.__name__}",
                               "model_type")
            try:
                return record._decode(value)
            except ValidationError as exc:
                raise _Invalid.of([(tuple(e["loc"]), e["msg"], e["type"]) for e in exc.errors()]) from None

        return nested
    simple = {int: _int, float: _float, str: _str, bool: _bool}
    if tp in simple:
        return simple[tp]
    raise TypeError(f"{owner.__name__}: no decoder for {_type_name(tp)}")


_RESOLVED: dict[tuple[str, str], Any] = {}


def _resolve(text: str, module: str) -> Any:
    """A string annotation as a type, evaluated once per module and text (``typing.get_type_hints`` compiles
    every string it meets: most annotations here are the same few, ``str | None`` and the like)."""
    key = (module, text)
    if key not in _RESOLVED:
        import builtins

        namespace = vars(sys.modules[module])
        if text.isidentifier():
            value = namespace[text] if text in namespace else getattr(builtins, text)
        else:
            value = eval(text, namespace)
        _RESOLVED[key] = value
    return _RESOLVED[key]


def _hints(cls: type) -> dict[str, Any]:
    """The class's annotations, its bases' first, resolved (``Annotated`` kept)."""
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for name, tp in vars(klass).get("__annotations__", {}).items():
            out[name] = _resolve(tp, klass.__module__) if isinstance(tp, str) else tp
    return out


class _Compiled:
    __slots__ = ("after", "befores", "decoders", "defaults", "extra", "names", "record_checks")

    def __init__(self) -> None:
        self.names: tuple[str, ...] = ()
        self.decoders: dict[str, Decoder] = {}
        self.defaults: dict[str, _FieldInfo] = {}
        self.befores: dict[str, list[Any]] = {}
        self.after: dict[str, list[Any]] = {}
        self.record_checks: list[Any] = []
        self.extra = "ignore"


@dataclass_transform(kw_only_default=True, field_specifiers=(Field,))
class Record:
    """A record decoded from a mapping. Class keywords: ``extra`` (``"ignore"``, ``"allow"``: kept in
    ``model_extra`` and readable as attributes, ``"forbid"``: an error), ``frozen`` (no assignment)."""

    __record_extra__: ClassVar[str] = "ignore"
    __record_frozen__: ClassVar[bool] = False
    __record_compiled__: ClassVar[_Compiled | None] = None

    def __init_subclass__(cls, *, extra: str | None = None, frozen: bool | None = None, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if extra is not None:
            cls.__record_extra__ = extra
        if frozen is not None:
            cls.__record_frozen__ = frozen
        cls.__record_compiled__ = None

    # ------------------------------------------------------------ compiling (once per class, on first use)

    @classmethod
    def _compiled(cls) -> _Compiled:
        done: _Compiled | None = cls.__dict__.get("__record_compiled__")
        if done is not None:
            return done
        compiled = _Compiled()
        compiled.extra = cls.__record_extra__
        hints = _hints(cls)
        names = []
        for name, tp in hints.items():
            if name.startswith("_") or typing.get_origin(tp) is ClassVar or tp is ClassVar:
                continue
            names.append(name)
            compiled.decoders[name] = _decoder(tp, cls)
            default = getattr(cls, name, _MISSING)
            if isinstance(default, _FieldInfo):
                compiled.defaults[name] = default
            elif default is not _MISSING and not isinstance(default, property):
                compiled.defaults[name] = _FieldInfo(default, None)
        compiled.names = tuple(names)
        for klass in reversed(cls.__mro__):
            for attr in vars(klass).values():
                func = attr.__func__ if isinstance(attr, classmethod | staticmethod) else attr
                marker = getattr(func, "__record_validator__", None)
                if marker is None:
                    continue
                fields, mode = marker
                if not fields:
                    compiled.record_checks.append(func)
                for name in fields:
                    (compiled.befores if mode == "before" else compiled.after).setdefault(name, []).append(func)
        cls.__record_compiled__ = compiled
        return compiled

    @classmethod
    def model_field_names(cls) -> tuple[str, ...]:
        return cls._compiled().names

    @classmethod
    def field_type(cls, name: str) -> Any:
        """The type of field ``name`` (resolved, without ``Annotated``)."""
        tp = _hints(cls)[name]
        return typing.get_args(tp)[0] if typing.get_origin(tp) is Annotated else tp

    # ------------------------------------------------------------ decoding

    @classmethod
    def _decode(cls: type[R], data: Any) -> R:
        if isinstance(data, cls):
            return data  # as pydantic: an instance is taken as it is
        c = cls._compiled()
        if not isinstance(data, dict):
            raise ValidationError(cls.__name__, [{"loc": (), "msg": "Input should be a valid dictionary or "
                                                  f"instance of {cls.__name__}", "type": "model_type"}])
        values: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for name in c.names:
            if name in data:
                raw = data[name]
                try:
                    for fn in c.befores.get(name, ()):
                        raw = fn(cls, raw)
                    value = c.decoders[name](raw)
                    for fn in c.after.get(name, ()):
                        value = fn(cls, value)
                except _Invalid as exc:
                    errors.extend({"loc": loc, "msg": msg, "type": kind} for loc, msg, kind in exc.under(name))
                    continue
                except (ValueError, AssertionError) as exc:
                    errors.append({"loc": (name,), "msg": f"Value error, {exc}", "type": "value_error"})
                    continue
                values[name] = value
            else:
                info = c.defaults.get(name)
                if info is None or (info.default is _MISSING and info.default_factory is None):
                    errors.append({"loc": (name,), "msg": "Field required", "type": "missing"})
                    continue
                values[name] = info.default_factory() if info.default_factory is not None else info.default
        extra: dict[str, Any] | None = None
        if c.extra != "ignore":
            unknown = {k: v for k, v in data.items() if k not in c.decoders}
            if c.extra == "forbid":
                errors.extend({"loc": (k,), "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
                              for k in unknown)
            else:
                extra = unknown
        if errors:
            raise ValidationError(cls.__name__, errors)
        obj = cls.__new__(cls)
        d = obj.__dict__
        d.update(values)
        d["__record_extra_values__"] = extra
        for check in c.record_checks:
            try:
                check(obj)
            except (ValueError, AssertionError) as exc:
                raise ValidationError(cls.__name__, [{"loc": (), "msg": f"Value error, {exc}",
                                                      "type": "value_error"}]) from None
        return obj

    def __init__(self, **data: Any) -> None:
        decoded = type(self)._decode(data)
        self.__dict__.update(decoded.__dict__)

    @classmethod
    def model_validate(cls: type[R], data: Any) -> R:
        return cls._decode(data)

    @classmethod
    def model_validate_json(cls: type[R], text: str | bytes) -> R:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValidationError(cls.__name__, [{"loc": (), "msg": f"Invalid JSON: {exc}", "type": "json_invalid"}])\
                from None
        return cls._decode(data)

    # ------------------------------------------------------------ reading

    @property
    def model_extra(self) -> dict[str, Any] | None:
        return self.__dict__.get("__record_extra_values__")

    def __getattr__(self, name: str) -> Any:
        extra = self.__dict__.get("__record_extra_values__")
        if extra is not None and name in extra:
            return extra[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if type(self).__record_frozen__:
            raise TypeError(f"{type(self).__name__} is frozen")
        object.__setattr__(self, name, value)

    def _fields(self) -> Iterator[tuple[str, Any]]:
        d = self.__dict__
        for name in type(self)._compiled().names:
            yield name, d.get(name)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return dict(self._fields()) == dict(other._fields()) and self.model_extra == other.model_extra

    def __hash__(self) -> int:
        if not type(self).__record_frozen__:
            raise TypeError(f"unhashable type: {type(self).__name__!r}")
        return hash(tuple((k, _freeze(v)) for k, v in self._fields()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._fields())
        return f"{type(self).__name__}({inner})"

    def model_dump(self, *, exclude_none: bool = False, exclude_defaults: bool = False,
                   mode: str = "python") -> dict[str, Any]:
        c = type(self)._compiled()
        out: dict[str, Any] = {}
        for name, value in self._fields():
            if exclude_none and value is None:
                continue
            if exclude_defaults and name in c.defaults:
                info = c.defaults[name]
                default = info.default_factory() if info.default_factory is not None else info.default
                if value == default:
                    continue
            out[name] = _dump(value, exclude_none, exclude_defaults, mode)
        for k, v in (self.model_extra or {}).items():
            if not (exclude_none and v is None):
                out[k] = v
        return out

    def model_copy(self: R, *, update: dict[str, Any] | None = None) -> R:
        obj = type(self).__new__(type(self))
        obj.__dict__.update(self.__dict__)
        obj.__dict__.update(update or {})
        return obj


def _dump(value: Any, exclude_none: bool, exclude_defaults: bool, mode: str) -> Any:
    if isinstance(value, Record):
        return value.model_dump(exclude_none=exclude_none, exclude_defaults=exclude_defaults, mode=mode)
    if isinstance(value, list | tuple):
        return [_dump(v, exclude_none, exclude_defaults, mode) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v, exclude_none, exclude_defaults, mode) for k, v in value.items()}
    return value


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value
