"""The event schema: which events exist, their fields, and how to print them.

A capture carries its schema as text in the stream header (docs/trace.md,
"Schema"); `Schema.parse` reads it. The kernel builds that text from the
X-macro lists in xv6/kernel/traceevents.h; `schema_text_from_header` builds
the same text from the header file itself (through hostlib.kconst), for the
capture writer.

Names are lower case on the host: event ``PAGE_ALLOC`` is ``page_alloc``,
enumeration ``OWNER`` is ``owner`` and its value ``REGION`` is ``region``.
"""

import re
from dataclasses import dataclass

from hostlib import fmt, kconst


class TraceError(Exception):
    """The input cannot be decoded; the message is meant for the user."""


NFIELDS = 4
UNUSED = "_"


@dataclass(frozen=True)
class EventType:
    id: int
    name: str
    slots: tuple        # NFIELDS entries: a field name, or None if unused

    @property
    def fields(self):
        return tuple(f for f in self.slots if f is not None)


class Schema:
    """Events by id and by name, enumerations, and printing hints."""

    def __init__(self, version, events, enums, hex_fields, text_fields):
        self.version = version
        self.events = {e.id: e for e in events}
        self.by_name = {e.name: e for e in events}
        self.enums = enums                  # {"owner": {0: "kernel", ...}}
        self.hex_fields = frozenset(hex_fields)
        self.text_fields = tuple(text_fields)
        self._values = {en: {label: v for v, label in labels.items()}
                        for en, labels in enums.items()}

    @classmethod
    def parse(cls, text):
        """Parse schema text; raises TraceError if it is malformed."""
        lines = text.splitlines()
        if not lines or not lines[0].startswith("xvtrace "):
            raise TraceError("stream header has no schema")
        try:
            version = int(lines[0].split()[1])
            events, enums, hexf, textf = [], {}, [], []
            for line in lines[1:]:
                words = line.split()
                if not words:
                    continue
                if words[0] == "event":
                    slots = tuple(None if w == UNUSED else w for w in words[3:])
                    if len(slots) != NFIELDS:
                        raise ValueError(line)
                    events.append(EventType(int(words[1]), words[2].lower(), slots))
                elif words[0] == "enum":
                    # Values are compared with 32-bit fields: -1 is 0xFFFFFFFF.
                    enum = enums.setdefault(words[1].lower(), {})
                    enum[int(words[2]) & 0xFFFFFFFF] = words[3].lower()
                elif words[0] == "hex":
                    hexf.extend(words[1:])
                elif words[0] == "text":
                    textf.extend(words[1:])
                # Other lines belong to later format versions: ignore them.
        except (ValueError, IndexError):
            raise TraceError("malformed schema in stream header") from None
        return cls(version, events, enums, hexf, textf)

    def value(self, enum, label):
        """The number of enumeration label, e.g. value("owner", "region")."""
        return self._values[enum][label.lower()]

    def label(self, enum, value):
        """The label of value in enum, or the number as text if it has none."""
        return self.enums.get(enum, {}).get(value, str(value))

    def is_enum(self, field):
        return field in self.enums

    def format_value(self, field, value):
        """value of field as the tools print it: enumerations by label, the
        kernel's bit sets through hostlib.fmt (prot rw-, flags private|anonymous,
        errcode write|user|not-present), hex fields in hex."""
        text = fmt.field(field, value)
        if text is not None:
            return text
        if field in self.enums:
            return self.enums[field].get(value, str(value))
        if field in self.hex_fields:
            return "-1" if value == 0xFFFFFFFF and field == "result" else hex(value)
        return str(value)

    def fields_of(self, etype, args):
        """{field: value} for a record of etype with the four args; text
        fields are joined into one string under the first one's name
        without its trailing digit (name0..name3 -> name)."""
        out = {}
        text = []
        for name, value in zip(etype.slots, args):
            if name is None:
                continue
            if name in self.text_fields:
                text.append(int(value).to_bytes(4, "little"))
            else:
                out[name] = int(value)
        if text:
            out[self.text_name(etype)] = decode_text(b"".join(text))
        return out

    def text_name(self, etype):
        first = next(f for f in etype.slots if f in self.text_fields)
        return first.rstrip("0123456789") or first

    def format_fields(self, etype, args):
        parts = []
        for name, value in self.fields_of(etype, args).items():
            if isinstance(value, str):
                parts.append(f"{name}={value!r}")
            else:
                parts.append(f"{name}={self.format_value(name, value)}")
        return " ".join(parts)


def decode_text(raw):
    return raw.split(b"\0", 1)[0].decode("latin-1")


# ---- the kernel header, for writers ------------------------------------

def schema_text_from_header(consts=None):
    """The schema text the kernel sends, built from traceevents.h (read by
    hostlib.kconst) the way its TRACE_SCHEMA macro does."""
    consts = consts or kconst.kernel
    try:
        lines = [f"xvtrace {consts['TRACE_VERSION']}"]
        lines += [f"event {eid} {name} {' '.join(fields)}"
                  for name, eid, *fields in consts.xlist("TRACE_EVENTS")]
        lines += [f"enum {enum} {value} {name}"
                  for enum, name, value in consts.xlist("TRACE_ENUMS")]
        for kind, macro in (("hex", "TRACE_HEX_FIELDS"), ("text", "TRACE_TEXT_FIELDS")):
            words = re.findall(r'"([^"]*)"', consts.macro(macro))
            lines.append(f"{kind} {''.join(words)}")
    except kconst.KconstError as e:
        raise TraceError(str(e)) from None
    return "\n".join(lines) + "\n"
