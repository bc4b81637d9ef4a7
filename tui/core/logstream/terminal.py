"""What a terminal does with bytes: ANSI codes and control characters dropped, `\\b` and `\\r` applied.

All of it works on whole blocks or segments with C loops (`bytes.translate`, `bytes.replace`, compiled
regexes, `map`), never per byte in Python.
"""

from __future__ import annotations

import re

MAX_SEGMENT_BYTES = 64 * 1024  # raw bytes of one segment (text between two \r/\n) that are kept

# CSI (incomplete ones too, so a cut-off colour code never shows), OSC, and two-byte escapes.
_ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b\r\n]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?")
# Control characters a terminal does not print; \t, \b, \n, \r are handled, ESC by _ANSI first.
_CONTROL = bytes([*range(0, 8), 11, 12, *range(14, 32), 127])
_CONTROL_CHARS = [bytes([char]) for char in _CONTROL]
_CONTROL_WINDOW = 1 << 18  # bytes searched for each of them before the next ones (see _has_control)
# rsyslog's escapes of control characters (what CloudWatch shows), and how a chunk can end inside one.
_ESCAPES = ((b"#015", b"\r"), (b"#010", b"\x08"), (b"#011", b"\t"), (b"#033", b"\x1b"))
_ESCAPE_STARTS = frozenset((b"#", b"#0", b"#01", b"#03"))


def _has_control(block: bytes) -> bool:
    """Whether `block` holds a character of _CONTROL (one memchr each: most output has none).

    A large block is searched a window at a time, for every character while the window is in the cache:
    30 passes over a whole 1 MiB block read it from memory 30 times (0.47 against 0.36 ms per MiB).
    """
    find = block.find
    for start in range(0, len(block), _CONTROL_WINDOW):
        end = start + _CONTROL_WINDOW
        for char in _CONTROL_CHARS:
            if find(char, start, end) >= 0:
                return True
    return False


def _segment_text(segment: bytes) -> bytes:
    """A `\\r` segment as a terminal shows it: control characters dropped and `\\b` applied, trailing `\\b`
    cut first (a terminal ignores them at a segment's end, and in Keras bars they are most of its bytes)."""
    text = segment.rstrip(b"\x08").translate(None, _CONTROL)
    return _apply_backspaces(text) if text.find(b"\x08") >= 0 else text


def _apply_backspaces(text: bytes) -> bytes:
    """Apply `\\b` the way a terminal does: it moves the cursor left, the next character overwrites.

    Leading and trailing runs are no-ops (the segment starts at column 0; a `\\r` or `\\n` follows),
    so the common Keras case costs one `strip`; only text with a `\\b` in its middle is emulated.
    """
    text = text.strip(b"\x08")
    if text.find(b"\x08") < 0:
        return text
    chars = text.decode("utf-8", "replace")
    cells: list[str] = []
    col = 0
    for ch in chars:
        if ch == "\x08":
            col = max(col - 1, 0)
        else:
            if col < len(cells):
                cells[col] = ch
            else:
                cells.append(ch)
            col += 1
    return "".join(cells).encode("utf-8")


def _overlay_all(line: bytes, segs: list[bytes]) -> bytes:
    """What a terminal shows after each of `segs` is written over `line` from column 0.

    Columns are characters. Tools that rewrite a line pad it to the old width (Keras does), so the
    last segment usually covers everything before it and the answer is found by `len` alone.
    """
    k = len(segs) - 1
    while k >= 0 and not segs[k]:
        k -= 1  # an empty segment (a bare \r) changes nothing
    if k < 0:
        return line
    last = segs[k]
    if last.isascii():
        longest = max(map(len, segs))
        if len(last) >= longest and len(last) >= len(line):
            return last
        visible = len(last.rstrip())
        if visible >= max(map(len, map(bytes.rstrip, segs))) and visible >= len(line.rstrip()):
            return last
    text = line.decode("utf-8", "replace")
    for seg in segs:
        if seg:
            new = seg.decode("utf-8", "replace")
            text = new if len(new) >= len(text) else new + text[len(new) :]
    return text.encode("utf-8")


def _unescape(data: bytes) -> bytes:
    """Control characters that a log collector wrote as rsyslog's octal escapes, back as themselves.

    SageMaker's CloudWatch logs show Keras's \r and \b as "#015" and "#010" (its ESC as "#033"). A
    literal "#015" in text reads as \r too: such text is rare in training output, a bar made unreadable
    is not. The escapes become characters that cannot start another one, so the order does not matter.
    """
    for escape, char in _ESCAPES:
        data = data.replace(escape, char)
    return data


def _has_long_segment(block: bytes) -> bool:
    """Whether a segment of `block` (the text between two \r/\n) is over MAX_SEGMENT_BYTES.

    Such a segment holds one of the points spaced MAX_SEGMENT_BYTES // 2 apart, so only the segments
    around those points are measured: a few `find`s in C instead of splitting the whole block, each within
    MAX_SEGMENT_BYTES of its point (a separator further away makes the segment long whatever the other is).
    """
    size = len(block)
    reach = MAX_SEGMENT_BYTES + 1
    has_cr = block.find(b"\r") >= 0
    rfind, find = block.rfind, block.find
    for point in range(0, size, MAX_SEGMENT_BYTES // 2):
        low = max(0, point - reach)
        # The denser separator first, then the other only between it and the point: progress rewrites put a
        # \r every hundred bytes and a \n every 70 KB, and a search for \n over the reach costs a scan of it.
        cr = rfind(b"\r", low, point) if has_cr else -1
        start = max(cr, rfind(b"\n", max(low, cr + 1), point)) + 1
        if start == 0 and low > 0:
            return True  # no separator within reach before the point
        high = min(size, point + reach)
        cr = find(b"\r", point, high) if has_cr else -1
        lf = find(b"\n", point, cr if cr >= 0 else high)
        end = lf if lf >= 0 else cr if cr >= 0 else size if high == size else None
        if end is None or end - start > MAX_SEGMENT_BYTES:
            return True
    return False


def _cap_segments(block: bytes) -> bytes:
    """Keep at most MAX_SEGMENT_BYTES of every segment (what the incremental path keeps too)."""
    segments = block.splitlines(True)
    if max(map(len, segments)) <= MAX_SEGMENT_BYTES + 1:
        return block
    kept = []
    for seg in segments:
        if len(seg) > MAX_SEGMENT_BYTES + 1:
            end = seg[-2:] if seg.endswith(b"\r\n") else seg[-1:]
            body = seg[: len(seg) - len(end)]
            if len(body) > MAX_SEGMENT_BYTES:
                seg = body[:MAX_SEGMENT_BYTES] + end
        kept.append(seg)
    return b"".join(kept)
