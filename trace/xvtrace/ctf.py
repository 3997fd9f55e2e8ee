"""Export a trace as CTF 1.8 (Common Trace Format), readable by babeltrace2
and Trace Compass: a directory with a TSDL `metadata` file and one binary
stream file per CPU (`stream_N`).

The TSDL is generated from the trace's own schema: one CTF event per event
type, hex fields with base 16, enumerated fields as CTF enums, text fields
as strings. Every integer is byte aligned and little endian, so a packet is
a plain concatenation of packed values. A CPU's stream starts a new packet
after each LOST record, with events_discarded raised by its count, so
babeltrace2 reports the loss where it happened.

Time starts where the other tools' time starts: a timestamp is TSC ticks since
tracing started (the header's tsc0), as `xvtrace list` and the Perfetto export
count, so `babeltrace2 --clock-seconds DIR` prints the times `xvtrace list` does.
(CTF 1.8 clock offsets cannot be negative, so the ticks are shifted here.)
"""

import os
import struct

from hostlib import fmt


PACKET_MAGIC = 0xC1FC1FC1
PACKET_HEADER = struct.Struct("<II")            # magic, stream_id
PACKET_CONTEXT = struct.Struct("<QQQQQI")       # begin end content packet discarded cpu
EVENT_HEADER = struct.Struct("<HQI")            # id, timestamp, pid (event context)
TSDL_KEYWORDS = {
    "align", "callsite", "const", "char", "clock", "double", "enum", "env", "event",
    "floating_point", "float", "integer", "int", "long", "short", "signed", "stream",
    "string", "struct", "trace", "typealias", "typedef", "unsigned", "variant", "void",
}


# Fields whose few values get CTF enum labels printed as every tool prints them
# (hostlib.fmt): prot 'rw-', a fault's errcode 'write|user|not-present'. MAP_
# flags stay hex: CTF 1.8 enums cannot label bit sets.
BIT_ENUMS = {"prot": 8, "errcode": 32}


def bit_enums():
    return {name: {v: fmt.field(name, v) for v in range(n)} for name, n in BIT_ENUMS.items()}


def _ident(name):
    # CTF 1.8 readers strip one leading underscore from field names.
    return "_" + name if name in TSDL_KEYWORDS else name


def metadata(trace):
    schema, h = trace.schema, trace.header
    freq = h.tsc_hz or 1_000_000_000
    out = [
        "/* CTF 1.8 */",
        "",
        "typealias integer { size = 8; align = 8; signed = false; } := uint8_t;",
        "typealias integer { size = 16; align = 8; signed = false; } := uint16_t;",
        "typealias integer { size = 32; align = 8; signed = false; } := uint32_t;",
        "typealias integer { size = 64; align = 8; signed = false; } := uint64_t;",
        "typealias integer { size = 32; align = 8; signed = false; base = 16; } := hex32_t;",
        "",
        "trace {",
        "\tmajor = 1;",
        "\tminor = 8;",
        "\tbyte_order = le;",
        "\tpacket.header := struct {",
        "\t\tuint32_t magic;",
        "\t\tuint32_t stream_id;",
        "\t};",
        "};",
        "",
        "env {",
        '\tdomain = "kernel";',
        '\tsysname = "xv6";',
        '\ttracer_name = "xvtrace";',
        f"\tncpu = {h.ncpu};",
        f"\tpage_size = {h.page_size};",
        f"\tkernbase = {h.kernbase};",
        f"\ttsc_hz = {h.tsc_hz};",
        "};",
        "",
        "clock {",
        "\tname = tsc;",
        f"\tfreq = {freq};",
        "\toffset = 0;",
        f'\tdescription = "{"x86 TSC" if h.tsc_hz else "x86 TSC, rate unknown"}";',
        "};",
        "",
        "typealias integer { size = 64; align = 8; signed = false; map = clock.tsc.value; } := tsc_t;",
        "",
    ]
    for enum, labels in sorted((schema.enums | bit_enums()).items()):
        body = ", ".join(f'"{label}" = {value}' for value, label in sorted(labels.items()))
        out.append(f"enum {enum}_t : uint32_t {{ {body} }};")
    out += [
        "",
        "stream {",
        "\tid = 0;",
        "\tpacket.context := struct {",
        "\t\ttsc_t timestamp_begin;",
        "\t\ttsc_t timestamp_end;",
        "\t\tuint64_t content_size;",
        "\t\tuint64_t packet_size;",
        "\t\tuint64_t events_discarded;",
        "\t\tuint32_t cpu_id;",
        "\t};",
        "\tevent.header := struct {",
        "\t\tuint16_t id;",
        "\t\ttsc_t timestamp;",
        "\t};",
        "\tevent.context := struct {",
        "\t\tuint32_t pid;",
        "\t};",
        "};",
    ]
    for etype in sorted(schema.events.values(), key=lambda e: e.id):
        out += ["", "event {", f'\tname = "{etype.name}";', f"\tid = {etype.id};",
                "\tstream_id = 0;", "\tfields := struct {"]
        for name, slots, is_text in layout(schema, etype):
            if is_text:
                out.append(f"\t\tstring {_ident(name)};")
            elif schema.is_enum(name) or name in BIT_ENUMS:
                out.append(f"\t\tenum {name}_t {_ident(name)};")
            elif name in schema.hex_fields:
                out.append(f"\t\thex32_t {_ident(name)};")
            else:
                out.append(f"\t\tuint32_t {_ident(name)};")
        out += ["\t};", "};"]
    return "\n".join(out) + "\n"


def layout(schema, etype):
    """The CTF fields of etype in order, as (name, [arg slots], is_text):
    one slot for an integer, the text slots together for their string."""
    fields, text = [], None
    for i, f in enumerate(etype.slots):
        if f is None:
            continue
        if f in schema.text_fields:
            if text is None:
                text = (schema.text_name(etype), [], True)
                fields.append(text)
            text[1].append(i)
        else:
            fields.append((f, [i], False))
    return fields


def _encoder(schema, etype, tsc0):
    """A function from a record row to the CTF event's bytes."""
    fields = layout(schema, etype)

    def encode(row):
        body = [EVENT_HEADER.pack(row[1], ticks(row[0], tsc0), row[4])]
        for name, slots, is_text in fields:
            if is_text:
                raw = b"".join(row[5 + i].to_bytes(4, "little") for i in slots)
                body.append(raw.split(b"\0", 1)[0] + b"\0")
            else:
                body.append(row[5 + slots[0]].to_bytes(4, "little"))
        return b"".join(body)
    return encode


def ticks(tsc, tsc0):
    """A CTF timestamp: TSC ticks since tracing started (a record stamped
    earlier, from a CPU whose TSC lags, counts as 0)."""
    return max(0, tsc - tsc0)


def _packet(cpu, begin, end, discarded, events):
    payload = b"".join(events)
    size = (PACKET_HEADER.size + PACKET_CONTEXT.size + len(payload)) * 8
    return (PACKET_HEADER.pack(PACKET_MAGIC, 0) +
            PACKET_CONTEXT.pack(begin, end, size, size, discarded, cpu) + payload)


def export(trace, directory):
    """Write the CTF trace into directory (created if needed)."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "metadata"), "w") as f:
        f.write(metadata(trace))
    lost = trace.schema.by_name.get("lost")
    lost_id = lost.id if lost and "count" in lost.slots else None
    count_col = 5 + lost.slots.index("count") if lost_id is not None else None
    tsc0 = trace.header.tsc0
    encoders = {e.id: _encoder(trace.schema, e, tsc0) for e in trace.schema.events.values()}
    rows = trace.records.tolist()
    for cpu in sorted({r[2] for r in rows}):
        packets, events, discarded = [], [], 0
        begin = end = None
        for row in rows:
            if row[2] != cpu or row[1] not in encoders:
                continue
            if row[1] == lost_id:
                # The events were dropped before this record: end the packet
                # here so the reader sees the loss between two packets.
                if events:
                    packets.append(_packet(cpu, begin, end, discarded, events))
                    events, begin = [], None
                discarded += row[count_col]
            if begin is None:
                begin = ticks(row[0], tsc0)
            end = ticks(row[0], tsc0)
            events.append(encoders[row[1]](row))
        if events or not packets:
            packets.append(_packet(cpu, begin or 0, end or 0, discarded, events))
        with open(os.path.join(directory, f"stream_{cpu}"), "wb") as f:
            f.write(b"".join(packets))
