"""procinfo: memory, threads and open files of a process and its children, from /proc."""

import os
import subprocess
import sys

import pytest

from perform.soak import procinfo

pytestmark = pytest.mark.skipif(not procinfo.available(), reason="reads /proc (Linux)")


def test_a_child_is_found_sampled_and_seen_to_go():
    child = subprocess.Popen([sys.executable, "-c", "import sys, time; f = open(sys.executable, 'rb'); time.sleep(60)"])
    try:
        assert child.pid in procinfo.children(os.getpid())
        tree = {s.pid: s for s in procinfo.sample_tree(os.getpid())}
        assert tree[os.getpid()].role == "main" and tree[os.getpid()].rss_kb > 10_000
        me = procinfo.sample(os.getpid())
        assert me.threads >= 1 and me.open_files >= 3  # stdin, stdout, stderr at least
        assert procinfo.alive(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not procinfo.alive(child.pid) and procinfo.sample(child.pid) is None
    assert child.pid not in procinfo.children(os.getpid())

