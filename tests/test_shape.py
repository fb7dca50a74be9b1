"""The code's shape promises: the env's page is reachable, the core imports without the env's
libraries, deprecated names still work with a warning, the small public helpers do what they
say."""

import importlib
import subprocess
import sys

import numpy as np
import pytest

import recsys_eq_env as rq


def test_the_env_page_is_reachable_by_help():
    doc = rq.EngagementEnv.__doc__
    for heading in ("# Producers competing for engagement", "## Actions", "## Observations",
                    "## Rewards", "## Revision", "## Starting State", "## Episode End",
                    "## Arguments", "## Version History"):  # fmt: skip
        assert heading in doc
    # one paragraph per argument, in PettingZoo's style
    for argument in ("users", "n_producers", "rule", "action_type", "revision", "max_cycles",
                     "info_regrets", "deviations", "render_mode"):  # fmt: skip
        assert f"* `{argument}`:" in doc
    assert rq.ENV_DOC == doc
    assert callable(rq.env) and rq.env is rq.aec_env  # PettingZoo's names: env() is AEC


def test_the_core_imports_without_pettingzoo_or_gymnasium():
    code = (
        "import sys; sys.modules['pettingzoo'] = None; sys.modules['gymnasium'] = None\n"
        "import recsys_eq_env as rq\n"
        "game = rq.EngagementGame(rq.synthetic_users('uniform', 20, 3, seed=0), 3)\n"
        "assert rq.best_response_dynamics(game, seed=0).converged\n"
        "try:\n    rq.parallel_env\nexcept ImportError:\n    print('env needs pettingzoo')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "env needs pettingzoo" in result.stdout


def test_the_pre_release_shims_are_gone():
    """0.1.0 is the first release: no deprecated aliases (issue 24)."""
    with pytest.raises(TypeError, match="max_steps"):
        rq.parallel_env(max_steps=7)
    assert not hasattr(rq, "improvement")
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("recsys_eq_env.datasets")


def test_best_move_is_the_one_improvement_rule():
    row = np.array([1.0, 1.0 + 5e-10, 0.5])
    assert rq.best_move(row, 0) == rq.Improvement(False, 1, pytest.approx(5e-10))  # within tol
    assert rq.best_move(row, 0, tol=0.0).improves
    assert rq.best_move(np.array([2.0, 2.0]), 1) == (False, 0, 0.0)  # ties: lowest index


def test_distribution_helpers():
    users = rq.synthetic_users("uniform", 10, 3, seed=0)
    np.testing.assert_allclose(rq.validate_users(users * 7), users)
    np.testing.assert_allclose(rq.producer_distribution([2, 1, 1]), [0.5, 0.25, 0.25])
    assert rq.total_variation([1, 0, 0], [0, 0.5, 0.5]) == 1.0
    np.testing.assert_allclose(rq.total_variation(np.eye(3), [1, 0, 0]), [0.0, 1.0, 1.0])
