"""The page ledger of pages no process maps, checked over the whole trace at
once: the checker's fast path (check.py).

Most PAGE_ALLOC/PAGE_FREE records are of page lifetimes no PAGE_MAP or
PAGE_UNMAP names (process memory, page tables, kernel stacks, kmalloc
pages: see unmapped_pages). For those the replay's page rules depend on
nothing but the page's own history: it alternates allocated, free,
allocated... A page allocated
while allocated is "double-alloc", freed while free "double-free" (or
"free-unallocated" before any record of it). numpy finds these in the
records grouped by page, so the replay (replay.py) skips the records; the
messages are the replay's own, and the pages left allocated join its state.
"""

import numpy as np

from .decode import ARGS
from .replay import Page, Problem


def column(trace, event, name):
    etype = trace.schema.by_name[event]
    return ARGS[etype.slots.index(name)]


PAGE_EVENTS = ("page_alloc", "page_free", "page_map", "page_unmap")
FILE_EVENTS = ("file_pagein", "file_writeback")
ALLOC, FREE, MAP, UNMAP = range(4)      # kinds: positions in PAGE_EVENTS + FILE_EVENTS


def page_records(trace):
    """(index, kind, pa) of every record naming a page (PAGE_EVENTS and
    FILE_EVENTS), grouped by page and in trace order within a page; None if
    the schema lacks a page event."""
    names = trace.schema.by_name
    if not set(PAGE_EVENTS) <= names.keys():
        return None
    recs, typ = trace.records, trace.records["type"]
    events = [e for e in PAGE_EVENTS + FILE_EVENTS if e in names]
    index = np.flatnonzero(np.isin(typ, [names[e].id for e in events]))
    typ = typ[index]
    kind = np.zeros(len(index), dtype=np.int8)
    pa = np.zeros(len(index), dtype=np.uint32)
    for k, e in enumerate(PAGE_EVENTS + FILE_EVENTS):
        if e in names:
            hit = typ == names[e].id
            kind[hit] = k
            pa[hit] = recs[column(trace, e, "pa")][index[hit]]
    order = np.argsort(pa, kind="stable")      # index is ascending already
    return index[order], kind[order], pa[order]


def unmapped_pages(trace, grouped=None):
    """Boolean mask of the PAGE_ALLOC/PAGE_FREE records the ledger can check
    alone; None if the schema lacks an event. grouped: page_records(trace),
    if already at hand.

    A page's records split into lifetimes, each ending with a PAGE_FREE. A
    lifetime in which no PAGE_MAP or PAGE_UNMAP names the page, and which
    starts with a PAGE_ALLOC, needs nothing but itself: every PAGE_FREE
    leaves the replay with no mapping of the page, so the lifetime starts and
    ends with the page free and unmapped. A page-cache page (FILE_PAGEIN and
    FILE_WRITEBACK name it) counts as mapped: the replay follows what it
    caches. A page with a lifetime that starts with a PAGE_FREE (a double
    free) is left to the replay entirely."""
    grouped = page_records(trace) if grouped is None else grouped
    if grouped is None:
        return None
    index, kind, pa = grouped
    is_free = kind == FREE
    is_mapping = kind >= MAP
    new_page = np.ones(len(index), dtype=bool)
    new_page[1:] = pa[1:] != pa[:-1]
    starts = new_page.copy()                    # a lifetime starts after each free
    starts[1:] |= is_free[:-1]
    life = np.cumsum(starts) - 1
    page = np.cumsum(new_page) - 1
    touched = np.bincount(life, weights=is_mapping) > 0
    odd = np.bincount(page[starts], weights=is_free[starts], minlength=page[-1] + 1
                      if len(page) else 0) > 0
    fast = ~is_mapping & ~touched[life] & ~odd[page]
    mask = np.zeros(len(trace.records), dtype=bool)
    mask[index[fast]] = True
    return mask


def check(trace, picked):
    """The page rules over the records picked (a mask from unmapped_pages).
    Returns (problems, {pa: Page} of the pages still allocated at the end)."""
    recs, times = trace.records, trace.times
    index = np.flatnonzero(picked)
    alloc_id = trace.schema.by_name["page_alloc"].id
    is_alloc = recs["type"][index] == alloc_id
    pa = np.where(is_alloc, recs[column(trace, "page_alloc", "pa")][index],
                  recs[column(trace, "page_free", "pa")][index])
    order = np.lexsort((index, pa))             # by page, then in trace order
    index, is_alloc, pa = index[order], is_alloc[order], pa[order]
    same = np.zeros(len(index), dtype=bool)     # same page as the record before
    same[1:] = pa[1:] == pa[:-1]
    prev_alloc = np.zeros(len(index), dtype=bool)
    prev_alloc[1:] = is_alloc[:-1]
    owner_col = column(trace, "page_alloc", "owner")
    owners = trace.schema.enums.get("owner", {})

    def owner_of(i):
        value = int(recs[owner_col][i])
        return owners.get(value, str(value))

    problems = []
    for j in np.flatnonzero(same & is_alloc & prev_alloc).tolist():
        i, before = int(index[j]), int(index[j - 1])
        problems.append(Problem(float(times[i]), i, "double-alloc", int(recs["pid"][i]),
                                f"page {int(pa[j]):#x} allocated again while in use "
                                f"({owner_of(before)} page since "
                                f"t={trace.format_time(times[before])})"))
    for j in np.flatnonzero(~is_alloc & ~(same & prev_alloc)).tolist():
        i = int(index[j])
        if same[j]:
            kind, text = "double-free", (f"page {int(pa[j]):#x} freed twice (first at t="
                                         f"{trace.format_time(times[int(index[j - 1])])})")
        else:
            kind, text = "free-unallocated", f"page {int(pa[j]):#x} freed but never allocated"
        problems.append(Problem(float(times[i]), i, kind, int(recs["pid"][i]), text))

    last = np.ones(len(index), dtype=bool)      # the page's last record
    last[:-1] = pa[1:] != pa[:-1]
    live = {}
    for j in np.flatnonzero(last & is_alloc).tolist():
        i = int(index[j])
        live[int(pa[j])] = Page(int(pa[j]), owner_of(i), int(recs["pid"][i]), float(times[i]))
    return problems, live
