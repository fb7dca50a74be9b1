"""The ``recsys-eq`` command line."""

import pytest

from experiments.cli import main


def test_equilibrium_prints_the_equilibrium(capsys):
    assert main(["equilibrium", "--n-users", "500", "--dim", "4", "--n-producers", "6"]) == 0
    out = capsys.readouterr().out
    assert "converged after" in out
    assert "features occupied" in out and "nash_conv" in out
    assert out.count("\n      ") >= 4  # one row per feature


def test_equilibrium_rejects_bad_input(capsys):
    assert main(["equilibrium", "--temperature", "0"]) == 2
    assert "temperature must be a finite number > 0" in capsys.readouterr().err


def test_unknown_rule_is_an_argparse_error():
    with pytest.raises(SystemExit):
        main(["equilibrium", "--rule", "softmaxx"])
