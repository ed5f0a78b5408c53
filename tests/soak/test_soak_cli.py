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


def test_soak_refuses_a_workdir_or_json_it_cannot_write_before_starting_a_show(tmp_path, capsys):
    from perform.cli import main

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    # the JSON is written at the end: a folder that does not exist lost it after the whole soak, with a traceback
    for args, words in ((["--json", str(tmp_path / "no-folder" / "soak.json")], ("--json", "does not exist")),
                        (["--workdir", str(blocker / "soak")], ("--workdir", "cannot make that folder")),
                        (["--fps", "0"], ("--fps", "'0'"))):
        try:
            code = main(["soak", "--quick", *args])
        except SystemExit as e:  # argparse's usage error
            code = e.code
        out, err = capsys.readouterr()
        assert code == 2 and all(w in err for w in words) and "starting the show" not in out, err
