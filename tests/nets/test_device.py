"""Device choice: a misspelt --device is a clean usage error naming the flag and the value, not torch's RuntimeError."""

from pathlib import Path

import pytest
import torch

from perform.cli import main
from perform.nets.device import pick_device

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "tug-of-war.toml"


def test_cpu_and_auto_pick_a_device():
    assert pick_device("cpu") == torch.device("cpu")
    assert isinstance(pick_device(None), torch.device)


def test_an_unknown_device_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="'bogus': not a device"):
        pick_device("bogus")


def test_perform_train_reports_an_unknown_device_as_a_user_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["train", "--recipe", "unstable-equilibrium", "--config", str(RECIPE), "--device", "bogus", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and "--device" in err and "'bogus': not a device" in err
    assert not any(tmp_path.iterdir())  # failed before writing anything
