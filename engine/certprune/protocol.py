"""The run protocol on the engine's side: configurations, run ids and events.

The schemas are generated from the zod definitions in lib/protocol (`npm run schemas`)
into engine/schemas/; this module only reads them, so the two sides cannot disagree
about a field without a test noticing.
"""
from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import json
import math
import os
import sys
import threading
from typing import IO, Any

import jsonschema

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schemas")


class ConfigError(ValueError):
    """An invalid run configuration; `field` is the dotted path of the bad setting."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


def _load_schema(name: str) -> dict:
    path = os.path.join(SCHEMA_DIR, name)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise RuntimeError(f"{path} is missing; regenerate it with `npm run schemas`") from None


_schemas: dict[str, dict] = {}


def schema(name: str) -> dict:
    if name not in _schemas:
        _schemas[name] = _load_schema(f"{name}.schema.json")
    return _schemas[name]


# ---------------------------------------------------------------- configurations

def _fill_defaults(value: Any, node: dict) -> Any:
    """Fill missing object properties from the schema's `default`s, recursively."""
    if not isinstance(value, dict) or node.get("type") != "object":
        return value
    out = dict(value)
    for key, prop in node.get("properties", {}).items():
        if key not in out and "default" in prop:
            out[key] = copy.deepcopy(prop["default"])
        if key in out:
            out[key] = _fill_defaults(out[key], prop)
    return out


def _error_field(error: jsonschema.ValidationError) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        if extra:
            path.append(extra[0])
            return ".".join(path)
    return ".".join(path)


def _error_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return "unknown setting"
    if error.validator == "anyOf" and error.context:
        # Report the branch that is not the null alternative: it says what was wanted.
        best = [e for e in error.context if e.validator != "type" or e.validator_value != "null"]
        if best:
            return best[0].message
    return error.message


def load_config(source: str | dict) -> dict:
    """A full configuration (defaults filled) from a JSON file path or a dict.

    Raises ConfigError naming the first bad field.
    """
    if isinstance(source, str):
        try:
            with open(source, encoding="utf-8") as f:
                raw = json.load(f)
        except FileNotFoundError:
            raise ConfigError("", f"config file {source} does not exist") from None
        except json.JSONDecodeError as e:
            raise ConfigError("", f"config file {source} is not valid JSON ({e.msg} at line {e.lineno})") from None
    else:
        raw = source
    if not isinstance(raw, dict):
        raise ConfigError("", "the configuration must be a JSON object")
    config_schema = schema("run-config")
    errors = sorted(jsonschema.Draft202012Validator(config_schema).iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError(_error_field(errors[0]), _error_message(errors[0]))
    return _fill_defaults(raw, config_schema)


def default_config() -> dict:
    return load_config({})


# ---------------------------------------------------------------- run ids

def _js_number(x: float) -> str:
    """Format a number exactly as JavaScript's Number.prototype.toString does."""
    if isinstance(x, bool):
        raise TypeError("booleans are not numbers here")
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e21):
        return str(int(x))
    if not math.isfinite(x):
        return "null"  # JSON.stringify(NaN) === "null"
    sign = "-" if x < 0 else ""
    # repr gives the shortest round-trip digits, as JavaScript does; only the layout differs.
    mantissa, _, exp = repr(abs(x)).partition("e")
    whole, _, frac = mantissa.partition(".")
    all_digits = whole + frac
    leading_zeros = len(all_digits) - len(all_digits.lstrip("0"))
    digits = all_digits[leading_zeros:].rstrip("0")
    # value = 0.<digits> * 10**n (ECMAScript's n)
    n = len(whole) - leading_zeros + (int(exp) if exp else 0)
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    exp_text = f"e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + (digits[0] + ("." + digits[1:] if k > 1 else "")) + exp_text


def canonical_json(value: Any) -> str:
    """Sorted keys, no white space, numbers as JavaScript prints them (see lib/protocol/runId.ts)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _js_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(canonical_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{canonical_json(value[k])}" for k in sorted(value)) + "}"
    raise TypeError(f"cannot put {type(value).__name__} into a configuration")


_MISSING = object()


def non_default(value: Any, defaults: Any) -> Any:
    """The settings of `value` that differ from `defaults` (_MISSING when none do)."""
    if isinstance(value, dict) and isinstance(defaults, dict):
        out = {}
        for key, sub in value.items():
            diff = non_default(sub, defaults.get(key, _MISSING))
            if diff is not _MISSING:
                out[key] = diff
        return out if out else _MISSING
    if defaults is not _MISSING and canonical_json(value) == canonical_json(defaults):
        return _MISSING
    return value


def run_id(config: dict) -> str:
    full = load_config(config)
    diff = non_default(full, default_config())
    text = canonical_json({} if diff is _MISSING else diff)
    return "run_" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------- events

class EventWriter:
    """Writes validated events as newline-delimited JSON (one object per line)."""

    def __init__(self, stream: IO[str] | None = None, validate: bool = True):
        self._stream = stream if stream is not None else sys.stdout
        self._seq = 0
        self._lock = threading.Lock()
        self._validator = jsonschema.Draft202012Validator(schema("events")) if validate else None

    def emit(self, type: str, **fields: Any) -> dict:
        with self._lock:
            event = {"type": type, "seq": self._seq, "time": _now(), **fields}
            event = _jsonable(event)
            if self._validator is not None:
                error = jsonschema.exceptions.best_match(self._validator.iter_errors(event))
                if error is not None:
                    where = ".".join(str(p) for p in error.absolute_path) or "(event)"
                    raise ValueError(f"engine bug: invalid '{type}' event at {where}: {error.message}")
            self._stream.write(json.dumps(event, allow_nan=False) + "\n")
            self._stream.flush()
            self._seq += 1
            return event

    __call__ = emit


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _jsonable(value: Any) -> Any:
    """Plain JSON values: tensors and numpy scalars become numbers, NaN/inf become null."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # torch tensors, numpy arrays and scalars
        return _jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
