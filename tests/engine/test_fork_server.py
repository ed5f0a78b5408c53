"""The fork server ends without the interpreter's teardown; what is forked from it does not."""

import subprocess
import sys

CODE = """
import os, sys
import perform.engine.fork_server
pid = os.fork()
if pid == 0:
    raise SystemExit(3)  # a child forked from the server: exits as it says
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status), flush=True)
raise SystemExit(5)  # the server itself: its atexit handler ends it with 0 before any teardown
"""


def test_the_server_exits_at_once_and_its_children_as_they_say():
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "3", r.stderr
    assert r.returncode == 0, r.stderr


def test_nothing_but_the_fork_server_imports_it():
    r = subprocess.run([sys.executable, "-c", "import sys, perform.engine.live_show, perform.engine.rehearsal, "
                        "perform.cli; print('perform.engine.fork_server' in sys.modules)"],
                       capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "False", r.stderr
