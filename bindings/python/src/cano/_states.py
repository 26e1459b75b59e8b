"""Mapping between a workflow's Python state enum and the C ABI's int32 state codes."""

from __future__ import annotations

import enum
from typing import Any, Dict, Iterable, Type, Union

StateLike = Union[enum.Enum, int, str]


class StateSpace:
    """The states of one workflow: an :class:`enum.Enum` whose members have int values.

    A state's code is its member's value and its name (in errors, logs and checkpoints) is the
    member's name. Aliases (members sharing a value) are not declared twice. Immutable after
    construction, so any thread may use it.
    """

    __slots__ = ("enum", "codes", "members", "names")

    def __init__(self, states: Union[Type[enum.Enum], Iterable[str]]) -> None:
        enum_class: Type[enum.Enum]
        if isinstance(states, type) and issubclass(states, enum.Enum):
            enum_class = states
        else:
            names = list(states)
            if any(not isinstance(name, str) for name in names):
                raise TypeError("states must be an Enum class or an iterable of names")
            members = [(name, code) for code, name in enumerate(names)]
            enum_class = enum.IntEnum("State", members)  # type: ignore[misc,no-redef]
        self.enum = enum_class
        self.codes: Dict[Any, int] = {}
        self.members: Dict[int, enum.Enum] = {}
        self.names: Dict[str, enum.Enum] = {}
        for member in enum_class:  # canonical members only; aliases are skipped
            value = member.value
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(
                    f"state {member!r} has the value {value!r}; state enums need int values "
                    "(use enum.IntEnum or int values)"
                )
            if not -(2**31) <= value < 2**31:
                raise ValueError(f"state {member!r}: {value} does not fit in an int32")
            self.codes[member] = value
            self.members[value] = member
            self.names[member.name] = member

    def code(self, state: StateLike) -> int:
        """The code of a member of this enum, a raw int, or a state name."""
        if isinstance(state, self.enum):
            return self.codes[state]
        if isinstance(state, enum.Enum):
            raise TypeError(f"{state!r} is not a state of {self.enum.__name__}")
        if isinstance(state, bool):
            raise TypeError(f"{state!r} is not a state")
        if isinstance(state, int):
            return state
        if isinstance(state, str):
            member = self.names.get(state)
            if member is None:
                raise ValueError(f"{self.enum.__name__} has no state named {state!r}")
            return self.codes[member]
        raise TypeError(f"{state!r} is not a state of {self.enum.__name__}")

    def member(self, code: int) -> Any:
        """The enum member for ``code``, or the int itself when no member has that value."""
        return self.members.get(code, code)
