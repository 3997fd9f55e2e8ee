"""The lifetimes of mapped pages, checked over the whole trace at once: the
checker's second fast path (check.py), beside ledger.py's unmapped pages.

A lifetime (a page's records from its PAGE_ALLOC to its PAGE_FREE) that
PAGE_MAP and PAGE_UNMAP name follows the replay's rules when, taking every
mapping of the trace by (process, virtual page) in order:
  - mappings alternate map, unmap, map... and an unmap names the page the
    map did (else "map-twice" or "unmap-unmapped");
  - each map and its unmap fall in one lifetime of the page, after its
    PAGE_ALLOC ("map-free-page", "free-mapped"); a map never unmapped is
    of a page never freed;
  - no process is reaped while it maps a page, nor maps one afterwards
    ("leak-pages");
  - a region page whose last mapping went is freed (or mapped again)
    before any later record of the process that unmapped it, but page
    records and those of replay.NO_ORPHAN_CHECK ("leak-region").
When all of that holds, picked() returns the records of those lifetimes for
the replay to skip, with what the pages and mappings are at the end; when
any of it fails, None: the replay then finds the problem itself, with its
messages. Lifetimes with a FILE_PAGEIN or FILE_WRITEBACK, with more than one
PAGE_ALLOC, or of a page one of whose lifetimes starts with a PAGE_FREE stay
with the replay, as does each lifetime holding a process's first PAGE_MAP
(the replay creates the process there).
"""

from dataclasses import dataclass

import numpy as np

from .decode import ARGS
from .ledger import ALLOC, FREE, MAP, PAGE_EVENTS, UNMAP, column, page_records
from .replay import FAST_EVENTS, NO_ORPHAN_CHECK, Page



@dataclass
class Picked:
    mask: np.ndarray        # records the replay skips
    pages: dict             # {pa: Page} allocated at the end
    maps: dict              # {pa: ((pid, va), ...)} mapped at the end, in map order


def _lifetimes(kind, pa):
    """(lifetime number of each record, mask of clean mapped lifetimes).
    A lifetime's records are contiguous: grouped by page, in trace order."""
    if not len(kind):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    alloc, free = kind == ALLOC, kind == FREE
    new_page = np.ones(len(pa), dtype=bool)
    new_page[1:] = pa[1:] != pa[:-1]
    starts = new_page.copy()
    starts[1:] |= free[:-1]
    life = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)          # each lifetime's first record

    def count(mask):
        return np.add.reduceat(mask.astype(np.int32), first)

    # A page one of whose lifetimes starts with a free stays with the replay whole.
    page_of_life = np.cumsum(new_page)[first]
    odd_page = np.zeros(int(page_of_life[-1]) + 1, dtype=bool)
    odd_page[page_of_life[free[first]]] = True
    clean = (alloc[first] & (count(alloc) == 1) & (count((kind == MAP) | (kind == UNMAP)) > 0)
             & (count(kind > UNMAP) == 0) & ~odd_page[page_of_life])
    return life, clean


def picked(trace, grouped=None):
    """The clean mapped lifetimes (see the module doc) as a Picked, or None.
    grouped: ledger.page_records(trace), if already at hand."""
    names = trace.schema.by_name
    if not set(PAGE_EVENTS) <= names.keys() or any(
            names[e].slots[:len(FAST_EVENTS[e])] != FAST_EVENTS[e] for e in PAGE_EVENTS):
        return None
    grouped = page_records(trace) if grouped is None else grouped
    if grouped is None or not len(grouped[0]):
        return None
    index, kind, pa = grouped
    life, clean = _lifetimes(kind, pa)
    recs = trace.records
    is_map = (kind == MAP) | (kind == UNMAP)
    m_index, m_unmap, m_pa, m_life = index[is_map], kind[is_map] == UNMAP, pa[is_map], life[is_map]
    m_pid = np.where(m_unmap, recs[column(trace, "page_unmap", "pid")][m_index],
                     recs[column(trace, "page_map", "pid")][m_index])
    m_va = np.where(m_unmap, recs[column(trace, "page_unmap", "va")][m_index],
                    recs[column(trace, "page_map", "va")][m_index])
    pairs = _pairs(m_index, m_unmap, m_pa, m_life, m_pid, m_va)
    if pairs is None:
        return None
    clean &= ~_first_maps(len(clean), pairs)
    if not _pairs_in_lifetimes(pairs, index, kind, life, clean) or \
            not _reaps_after_unmaps(trace, pairs) or \
            not _orphans_freed(trace, index, kind, pa, life, clean, m_index, m_unmap, m_life,
                               m_pid):
        return None
    mask = np.zeros(len(recs), dtype=bool)
    mask[index[clean[life]]] = True
    pages, maps = _end_state(trace, index, kind, pa, life, clean, pairs)
    return Picked(mask, pages, maps)


def _pairs(index, unmap, pa, life, pid, va):
    """Each map with its unmap: a dict of arrays (map index, unmap index or
    -1, pid, va, pa, lifetime), or None if mappings do not alternate or an
    unmap is of another page or lifetime than its map."""
    order = np.lexsort((index, va, pid))
    index, unmap, pa, life, pid, va = (a[order] for a in (index, unmap, pa, life, pid, va))
    new_key = np.ones(len(index), dtype=bool)
    new_key[1:] = (pid[1:] != pid[:-1]) | (va[1:] != va[:-1])
    prev_unmap = np.ones(len(index), dtype=bool)     # a key starts "unmapped"
    prev_unmap[1:] = unmap[:-1]
    prev_unmap[new_key] = True
    if (unmap == prev_unmap).any():                  # map twice, or unmap the unmapped
        return None
    maps = np.flatnonzero(~unmap)
    has_unmap = np.zeros(len(maps), dtype=bool)
    nxt = maps + 1
    ok = nxt < len(index)
    has_unmap[ok] = ~new_key[nxt[ok]]
    following = np.where(has_unmap, np.minimum(nxt, len(index) - 1), 0)
    if (has_unmap & ((pa[following] != pa[maps]) | (life[following] != life[maps]))).any():
        return None
    return dict(map=index[maps], unmap=np.where(has_unmap, index[following], -1),
                pid=pid[maps], va=va[maps], pa=pa[maps], life=life[maps])


def _first_maps(n, pairs):
    """Mask of lifetimes holding some process's first PAGE_MAP."""
    order = np.lexsort((pairs["map"], pairs["pid"]))
    pid = pairs["pid"][order]
    first = np.ones(len(pid), dtype=bool)
    first[1:] = pid[1:] != pid[:-1]
    out = np.zeros(n, dtype=bool)
    out[pairs["life"][order][first]] = True
    return out


def _pairs_in_lifetimes(pairs, index, kind, life, clean):
    """Every pair of a clean lifetime lies inside it: its unmap comes before
    the lifetime's PAGE_FREE, or there is no free and no unmap is needed."""
    n = len(clean)
    free_at = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    frees = kind == FREE
    free_at[life[frees]] = index[frees]
    mine = clean[pairs["life"]]
    unmap, free = pairs["unmap"][mine], free_at[pairs["life"][mine]]
    open_end = unmap < 0
    has_free = free != np.iinfo(np.int64).max
    return not ((open_end & has_free) | (~open_end & (unmap > free))).any()


def _reaps_after_unmaps(trace, pairs):
    """No process is reaped while it maps a page or maps one after its reap."""
    reap = trace.schema.by_name.get("reap")
    if reap is None:
        return True
    recs = trace.records
    at = np.flatnonzero(recs["type"] == reap.id)
    reaped = recs[column(trace, "reap", "pid")][at]
    first = {}
    for pid, i in zip(reaped.tolist()[::-1], at.tolist()[::-1]):
        first[pid] = i
    if not first:
        return True
    pids = np.fromiter(first, dtype=np.int64)
    when = np.fromiter(first.values(), dtype=np.int64)
    order = np.argsort(pids)
    pids, when = pids[order], when[order]
    slot = np.clip(np.searchsorted(pids, pairs["pid"]), 0, len(pids) - 1)
    is_reaped = pids[slot] == pairs["pid"]
    reap_at = np.where(is_reaped, when[slot], np.iinfo(np.int64).max)
    unmap = np.where(pairs["unmap"] < 0, np.iinfo(np.int64).max, pairs["unmap"])
    return not ((pairs["map"] > reap_at) | (unmap > reap_at) & (pairs["map"] < reap_at)).any()


def _checkpoints(trace):
    """(pid, index) of each record after which the replay might look for a
    process's orphaned region pages: every record but page records and
    NO_ORPHAN_CHECK names its running pid, and its pid field if it has one."""
    recs, names = trace.records, trace.schema.by_name
    page_ids = [names[e].id for e in PAGE_EVENTS + NO_ORPHAN_CHECK if e in names]
    rows = np.flatnonzero(~np.isin(recs["type"], page_ids))
    pids, where = [recs["pid"][rows]], [rows]
    for etype in trace.schema.events.values():
        if "pid" in etype.slots and etype.name not in PAGE_EVENTS + NO_ORPHAN_CHECK:
            hit = rows[recs["type"][rows] == etype.id]
            pids.append(recs[ARGS[etype.slots.index("pid")]][hit])
            where.append(hit)
    pid, index = np.concatenate(pids).astype(np.int64), np.concatenate(where)
    order = np.lexsort((index, pid))
    return pid[order], index[order]


def _orphans_freed(trace, index, kind, pa, life, clean, m_index, m_unmap, m_life, m_pid):
    """A clean region lifetime's page, left mapped by no one by an unmap, is
    freed or mapped again before the unmapping process's next checkpoint."""
    owner = trace.records[column(trace, "page_alloc", "owner")][index[kind == ALLOC]]
    region = np.zeros(len(clean), dtype=bool)
    if "region" not in trace.schema.enums.get("owner", {}).values():
        return True                 # no page is a region page: none is orphaned
    region[life[kind == ALLOC]] = owner == trace.schema.value("owner", "region")
    pick = clean[m_life] & region[m_life]
    if not pick.any():
        return True
    # Mappings of a page in trace order (they are sorted by page, then index).
    delta = np.where(m_unmap[pick], -1, 1)
    live = np.cumsum(delta)
    mlife = m_life[pick]
    starts = np.ones(len(mlife), dtype=bool)
    starts[1:] = mlife[1:] != mlife[:-1]
    base = np.maximum.accumulate(np.where(starts, np.arange(len(mlife)), 0))
    live = live - (live[base] - delta[base])           # running count within the lifetime
    orphaned = m_unmap[pick] & (live == 0)
    if not orphaned.any():
        return True
    at = m_index[pick]
    # What ends each orphaning: the page's next record (a map, or its free).
    nxt = np.arange(len(at)) + 1
    nxt_in = np.zeros(len(at), dtype=bool)
    nxt_in[:-1] = ~starts[1:]
    free_at = np.full(len(clean), np.iinfo(np.int64).max, dtype=np.int64)
    frees = kind == FREE
    free_at[life[frees]] = index[frees]
    ends = np.where(nxt_in, at[np.minimum(nxt, len(at) - 1)], free_at[mlife])
    o_at, o_end, o_pid = at[orphaned], ends[orphaned], m_pid[pick][orphaned]
    cp_pid, cp_index = _checkpoints(trace)
    # The first checkpoint of o_pid after o_at: search the (pid, index) pairs.
    key = cp_pid * (1 << 40) + cp_index
    probe = o_pid.astype(np.int64) * (1 << 40) + o_at
    slot = np.searchsorted(key, probe, side="right")
    has = slot < len(key)
    slot = np.minimum(slot, len(key) - 1)
    next_cp = np.where(has & (cp_pid[slot] == o_pid), cp_index[slot], np.iinfo(np.int64).max)
    return not (next_cp < o_end).any()


def _end_state(trace, index, kind, pa, life, clean, pairs):
    """The clean lifetimes' pages allocated at the end, and their mappings then."""
    recs, times = trace.records, trace.times
    n = len(clean)
    freed = np.zeros(n, dtype=bool)
    freed[life[kind == FREE]] = True
    allocs = np.flatnonzero((kind == ALLOC) & clean[life] & ~freed[life])
    owners = trace.schema.enums.get("owner", {})
    owner_col = column(trace, "page_alloc", "owner")
    pages = {}
    for j in allocs.tolist():
        i = int(index[j])
        value = int(recs[owner_col][i])
        pages[int(pa[j])] = Page(int(pa[j]), owners.get(value, str(value)),
                                 int(recs["pid"][i]), float(times[i]))
    open_ = np.flatnonzero(clean[pairs["life"]] & (pairs["unmap"] < 0))
    open_ = open_[np.argsort(pairs["map"][open_], kind="stable")]
    maps = {}
    for p, pid, va in zip(pairs["pa"][open_].tolist(), pairs["pid"][open_].tolist(),
                          pairs["va"][open_].tolist()):
        maps[p] = maps.get(p, ()) + ((pid, va),)
    return pages, maps
