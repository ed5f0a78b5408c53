"""What a process and its children hold, read from /proc (Linux only): resident memory, threads, open files.

No psutil: /proc/<pid>/status and /proc/<pid>/fd say all the soak needs, and the children of a process are
those whose /proc/<pid>/stat names it as parent.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class ProcSample:
    pid: int
    role: str          # "main", "inference", "fork-server", "resource-tracker", or the command's first words
    rss_kb: int
    threads: int
    open_files: int    # entries in /proc/<pid>/fd: files, pipes, sockets, eventfds

    def as_dict(self) -> dict:
        return asdict(self)


def available() -> bool:
    return (PROC / "self" / "status").exists()


def _status_fields(pid: int) -> dict[str, str]:
    out = {}
    for line in (PROC / str(pid) / "status").read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


def _parent(pid: int) -> int | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'
    return int(stat.rsplit(")", 1)[1].split()[1])


def alive(pid: int) -> bool:
    """Running or stopped, not a zombie and not gone."""
    try:
        return _status_fields(pid).get("State", "Z")[:1] not in ("Z", "X")
    except OSError:
        return False


def children(pid: int) -> list[int]:
    """Every descendant of pid (children, their children, ...), in pid order."""
    parents: dict[int, int] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            ppid = _parent(int(entry.name))
            if ppid is not None:
                parents[int(entry.name)] = ppid
    found: list[int] = []
    frontier = [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        found.extend(kids)
        frontier.extend(kids)
    return sorted(found)


def _cmdline(pid: int) -> str | None:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None


def role(pid: int) -> str:
    """What a process of the show is, from its command line."""
    cmd = _cmdline(pid)
    if cmd is None:
        return "gone"
    if "multiprocessing.spawn" in cmd:
        return "inference"  # the only spawned worker the live show starts (where there is no fork server)
    if "multiprocessing.forkserver" in cmd:
        # the inference process is forked from the fork server and keeps its command line
        parent = _parent(pid)
        parent_cmd = _cmdline(parent) if parent is not None else None
        return "inference" if parent_cmd and "multiprocessing.forkserver" in parent_cmd else "fork-server"
    if "resource_tracker" in cmd:
        return "resource-tracker"
    if "perform" in cmd and " live" in cmd:
        return "main"
    return " ".join(cmd.split()[:3])[:60]


def sample(pid: int, role_name: str | None = None) -> ProcSample | None:
    """None if the process is gone (or a zombie)."""
    try:
        st = _status_fields(pid)
        if st.get("State", "Z")[:1] in ("Z", "X"):
            return None
        fds = len(os.listdir(PROC / str(pid) / "fd"))
    except OSError:
        return None
    rss_kb = int(st.get("VmRSS", "0 kB").split()[0])
    return ProcSample(pid, role_name or role(pid), rss_kb, int(st.get("Threads", "0")), fds)


def sample_tree(pid: int) -> list[ProcSample]:
    """The process (role 'main') and each descendant still alive."""
    out = [s for s in [sample(pid, "main")] if s is not None]
    out.extend(s for s in (sample(c) for c in children(pid)) if s is not None)
    return out
