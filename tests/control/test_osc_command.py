"""`perform osc`: prints the table, sends one message and reports the reply."""

import argparse

from perform.commands import osc as cmd
from perform.control.osc_server import OSCServer
from perform.control.state import ControlState


def parse(argv):
    p = argparse.ArgumentParser()
    cmd.add_arguments(p)
    return p.parse_args(argv)


def test_prints_the_address_space(capsys):
    assert cmd.run(parse([])) == 0
    out = capsys.readouterr().out
    assert "/perform/latent/<i>" in out and "/perform/scene/go" in out


def test_send_reports_ok_and_error_replies(capsys):
    state = ControlState()
    with OSCServer(state, port=0) as server:
        assert cmd.run(parse(["--send", "/perform/scene/go", "chorus", "--port", str(server.port), "--wait", "3"])) == 0
        assert "reply: /perform/reply/perform/scene/go ok" in capsys.readouterr().out
        assert cmd.run(parse(["--send", "/perform/mix", "2.0", "--port", str(server.port), "--wait", "3"])) == 1
        assert "out_of_range" in capsys.readouterr().out
    assert [e.args for e in state.drain(state.now())] == [("chorus",)]
