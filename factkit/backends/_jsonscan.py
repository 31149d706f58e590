"""Follow JSON as a model writes it, to stop a list that has started repeating itself.

Small models under a grammar often loop in lists of names: "Khmer Rouge government", "Khmer Rouge
government", ... until the list's maxItems (in the recorded runs of the embedded model, 22% of the entity
names were exact repeats, about 30% of the entity call's output tokens). A grammar can't forbid duplicates
(JSON Schema's uniqueItems is not supported), so the sampler asks this scanner: a comma after a string that
repeats an earlier item of the same list is refused, which ends the list instead (the grammar then allows
only "]"). Everything else about the output is left to the model and the grammar.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class _Frame:
    array: bool
    items: set[bytes] = field(default_factory=set)
    repeated: bool = False  # the last string item closed in this array repeats an earlier one


@dataclass
class JsonScanner:
    """A byte-level JSON follower: containers, strings, and the string items of each array."""

    frames: list[_Frame] = field(default_factory=list)
    in_string: bool = False
    escape: bool = False
    buf: bytearray = field(default_factory=bytearray)

    def copy(self) -> JsonScanner:
        return JsonScanner(
            frames=[_Frame(f.array, set(f.items), f.repeated) for f in self.frames],
            in_string=self.in_string,
            escape=self.escape,
            buf=bytearray(self.buf),
        )

    def feed(self, piece: bytes) -> bool:
        """Advance over ``piece``; False when it continues a list after a repeated item (state then undefined)."""
        for byte in piece:
            if self.in_string:
                if self.escape:
                    self.escape = False
                    self.buf.append(byte)
                elif byte == 0x5C:  # backslash
                    self.escape = True
                    self.buf.append(byte)
                elif byte == 0x22:  # closing quote
                    self.in_string = False
                    top = self.frames[-1] if self.frames else None
                    if top is not None and top.array:
                        item = bytes(self.buf).strip().lower()
                        top.repeated = item in top.items
                        top.items.add(item)
                else:
                    self.buf.append(byte)
            elif byte == 0x22:
                self.in_string = True
                self.buf.clear()
            elif byte in (0x5B, 0x7B):  # [ {
                if self.frames and self.frames[-1].array:
                    self.frames[-1].repeated = False
                self.frames.append(_Frame(array=byte == 0x5B))
            elif byte in (0x5D, 0x7D):  # ] }
                if self.frames:
                    self.frames.pop()
            elif byte == 0x2C:  # ,
                top = self.frames[-1] if self.frames else None
                if top is not None and top.array and top.repeated:
                    return False
        return True

    def allows(self, piece: bytes) -> bool:
        """Whether ``piece`` may come next (checked on a copy; the state is unchanged)."""
        return self.copy().feed(piece)
