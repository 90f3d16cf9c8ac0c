"""A pure-Python stand-in for rpds-py (persistent collections), used only by scripts/gpu-bench.sh on a machine whose
Python has no rpds-py wheel in the local mirror (cp312). jsonschema and referencing need HashTrieMap, HashTrieSet
and List with copy-on-write updates; here each update copies (O(n)), fine for the few schemas the trainer loads.
Never installed into the trainer's venv (rpds-py is pinned there through jsonschema)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["HashTrieMap", "HashTrieSet", "List", "Queue"]


class HashTrieMap(Mapping):
    __slots__ = ("_d", "_hash")

    def __init__(self, value: Any = (), **kwds: Any) -> None:
        d = dict(value.items() if isinstance(value, Mapping) else value)
        d.update(kwds)
        self._d = d
        self._hash: int | None = None

    @classmethod
    def convert(cls, value: Any) -> "HashTrieMap":
        return value if isinstance(value, HashTrieMap) else cls(value)

    @classmethod
    def fromkeys(cls, keys: Iterable[Any], value: Any = None) -> "HashTrieMap":
        return cls((k, value) for k in keys)

    def __getitem__(self, key: Any) -> Any:
        return self._d[key]

    def __iter__(self):
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._d.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self._d) == dict(other.items())

    def __repr__(self) -> str:
        return f"HashTrieMap({self._d!r})"

    def __reduce__(self):
        return (HashTrieMap, (self._d,))

    def _with(self, d: dict) -> "HashTrieMap":
        new = HashTrieMap.__new__(HashTrieMap)
        new._d, new._hash = d, None
        return new

    def insert(self, key: Any, val: Any) -> "HashTrieMap":
        d = dict(self._d)
        d[key] = val
        return self._with(d)

    def remove(self, key: Any) -> "HashTrieMap":
        if key not in self._d:
            raise KeyError(key)
        return self.discard(key)

    def discard(self, key: Any) -> "HashTrieMap":
        d = dict(self._d)
        d.pop(key, None)
        return self._with(d)

    def update(self, *args: Any) -> "HashTrieMap":
        d = dict(self._d)
        for a in args:
            d.update(a.items() if isinstance(a, Mapping) else a)
        return self._with(d)


class HashTrieSet(frozenset):
    def insert(self, value: Any) -> "HashTrieSet":
        return HashTrieSet(self | {value})

    def discard(self, value: Any) -> "HashTrieSet":
        return HashTrieSet(self - {value})

    def remove(self, value: Any) -> "HashTrieSet":
        if value not in self:
            raise KeyError(value)
        return self.discard(value)

    def update(self, *args: Iterable[Any]) -> "HashTrieSet":
        return HashTrieSet(self.union(*args))

    def __repr__(self) -> str:
        return f"HashTrieSet({set(self)!r})"


class List:
    __slots__ = ("_t",)

    def __init__(self, value: Iterable[Any] = (), *more: Any) -> None:
        self._t = tuple(value) + more if more else tuple(value)

    def __iter__(self):
        return iter(self._t)

    def __len__(self) -> int:
        return len(self._t)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, List) and self._t == other._t

    def __hash__(self) -> int:
        return hash(self._t)

    def __repr__(self) -> str:
        return f"List({list(self._t)!r})"

    @property
    def first(self) -> Any:
        if not self._t:
            raise IndexError("empty list")
        return self._t[0]

    @property
    def rest(self) -> "List":
        return List(self._t[1:])

    def push_front(self, value: Any) -> "List":
        return List((value, *self._t))

    def drop_first(self) -> "List":
        if not self._t:
            raise IndexError("empty list")
        return List(self._t[1:])


class Queue:
    __slots__ = ("_t",)

    def __init__(self, value: Iterable[Any] = (), *more: Any) -> None:
        self._t = tuple(value) + more if more else tuple(value)

    def __iter__(self):
        return iter(self._t)

    def __len__(self) -> int:
        return len(self._t)

    @property
    def is_empty(self) -> bool:
        return not self._t

    @property
    def peek(self) -> Any:
        if not self._t:
            raise IndexError("empty queue")
        return self._t[0]

    def enqueue(self, value: Any) -> "Queue":
        return Queue((*self._t, value))

    def dequeue(self) -> "Queue":
        if not self._t:
            raise IndexError("empty queue")
        return Queue(self._t[1:])
