"""Terminal escape sequences in job output: keep them for a terminal, strip them for the rest.

``wants_color(mode, stream)`` decides for one output stream: ``"always"``/True keeps colours,
``"never"``/False strips them, ``"auto"`` keeps them only when the matching Python stream
(``sys.stdout`` for ``"stdout"``, ``sys.stderr`` for ``"stderr"``) is a terminal, ``NO_COLOR``
is not set (https://no-color.org) and ``TERM`` is not ``dumb``.

``AnsiStripper`` removes escape sequences from a byte stream fed in chunks of any size (a
sequence split between two chunks is still removed): CSI (colours, cursor moves, erase), OSC
(titles, hyperlinks; ended by BEL or ESC \\), DCS/SOS/PM/APC strings and two-byte ESC
sequences. Text, ``\\r`` and ``\\n`` pass through; UTF-8 is never split or altered. A string
sequence ends at a newline or after 64 KiB, so a stray ESC ] cannot swallow the rest of a log.
"""

from __future__ import annotations

import os
import sys
from typing import IO, Optional, Union

__all__ = ["AnsiStripper", "strip_ansi", "wants_color", "COLOR_MODES"]

COLOR_MODES = ("auto", "always", "never")
ColorMode = Union[bool, str]

_GROUND, _ESC, _INTER, _CSI, _STRING, _STRING_ESC = range(6)
_MAX_STRING = 64 * 1024


def wants_color(mode: ColorMode, stream: str, out: Optional[IO[str]] = None) -> bool:
    """Whether colours are kept for ``stream`` ("stdout" or "stderr") under ``mode``."""
    if mode is True or mode == "always":
        return True
    if mode is False or mode == "never":
        return False
    if mode != "auto":
        raise ValueError(f"color must be one of {', '.join(COLOR_MODES)} (or True/False), not {mode!r}")
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    target = out if out is not None else (sys.stderr if stream == "stderr" else sys.stdout)
    try:
        return bool(target.isatty())
    except (AttributeError, ValueError):  # closed or not a real file
        return False


class AnsiStripper:
    """Incremental escape-sequence remover (see the module docstring)."""

    def __init__(self) -> None:
        self._state = _GROUND
        self._string = 0

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        state = self._state
        i, n = 0, len(data)
        while i < n:
            b = data[i]
            if state == _GROUND:
                j = data.find(b"\x1b", i)
                if j < 0:
                    out += data[i:]
                    break
                out += data[i:j]
                state = _ESC
                i = j + 1
                continue
            i += 1
            if state == _ESC:
                if b == 0x5B:  # [
                    state = _CSI
                elif b in (0x5D, 0x50, 0x58, 0x5E, 0x5F):  # ] P X ^ _
                    state, self._string = _STRING, 0
                elif 0x20 <= b <= 0x2F:
                    state = _INTER
                elif 0x30 <= b <= 0x7E:
                    state = _GROUND
                elif b == 0x1B:
                    pass
                else:  # not a sequence: drop the ESC, keep the byte
                    state = _GROUND
                    out.append(b)
            elif state == _INTER:
                if 0x30 <= b <= 0x7E:
                    state = _GROUND
                elif not 0x20 <= b <= 0x2F:
                    state = _GROUND
                    out.append(b)
            elif state == _CSI:
                if 0x40 <= b <= 0x7E:
                    state = _GROUND
                elif b == 0x1B:
                    state = _ESC
                elif not 0x20 <= b <= 0x3F:
                    state = _GROUND
                    out.append(b)
            elif state == _STRING:
                if b == 0x07:
                    state = _GROUND
                elif b == 0x1B:
                    state = _STRING_ESC
                elif b == 0x0A:
                    state = _GROUND
                    out.append(b)
                else:
                    self._string += 1
                    if self._string > _MAX_STRING:
                        state = _GROUND
            else:  # _STRING_ESC
                if b == 0x5C:  # ESC \ ends the string
                    state = _GROUND
                else:  # an ESC that starts something new
                    state = _ESC
                    i -= 1
        self._state = state
        return bytes(out)

    def flush(self) -> bytes:
        """End of the stream: an unfinished sequence is dropped."""
        self._state = _GROUND
        return b""


def strip_ansi(data: bytes) -> bytes:
    """``data`` without terminal escape sequences."""
    return AnsiStripper().feed(data)
