"""perform soak refuses what it cannot run before it starts a show."""

import os
import subprocess
import sys


def test_soak_refuses_unknown_faults_and_a_fault_interval_too_short_before_starting_a_show():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for args, words in ((["--faults", "kill,meteor"], "meteor"), (["--fault-every-s", "3"], "--fault-every-s")):
        r = subprocess.run([sys.executable, "-m", "perform", "soak", *args], cwd=root, capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 2 and words in r.stderr and "starting the show" not in r.stdout, r.stderr
