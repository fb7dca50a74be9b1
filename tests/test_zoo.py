"""The scenario zoo (issue 26): the registry, every scenario through PettingZoo's checkers and
the equilibrium tools and a learner, and each scenario's headline result reproduced (on fewer
instances than ``recsys-eq scenarios`` runs, with known values that cite where they come
from)."""

import functools
import re

import numpy as np
import pytest
from checkers import seven_checkers

import recsys_eq_env as rq
from agents import BestResponseAgent, rollout
from agents.no_regret import Hedge
from recsys_eq_env import analysis, zoo
from recsys_eq_env.dynamics import compositions
from recsys_eq_env.zoo import benporat_top, jagadeesan_supply, yao_topk

#: Small versions of every scenario, so the checkers run in seconds.
SMALL = {
    "acharya-engagement-v0": {"n_users": 60, "dim": 3, "n_producers": 3},
    "yao-topk-v0": {"n_users": 50, "n_producers": 3},
    "jagadeesan-supply-v0": {"levels": 3, "n_users": 20},
    "benporat-top-v0": {"n_producers": 3, "dim": 3},
    "hron-exposure-simplex-v0": {"n_users": 40, "dim": 3, "n_producers": 3},
}


def test_the_registry_lists_versioned_ids_and_the_paper_first():
    ids = rq.scenarios()
    assert ids[0] == "acharya-engagement-v0"
    assert len(ids) >= 5 and set(ids) == set(SMALL)
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)+-v\d+", i) for i in ids)
    for name in ids:
        spec = zoo.spec(name)
        assert spec.paper and spec.claim and spec.source and spec.measure
        module = spec._module()
        # The page is the module's docstring in PettingZoo's format
        for heading in ("## Model", "## Arguments", "## Result reproduced", "## Version History"):
            assert heading in module.__doc__, (name, heading)
        assert f"`{name}`" in module.__doc__.splitlines()[1]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: rq.make("yao-topk-v1"), "did you mean 'yao-topk-v0'?"),
        (lambda: rq.make(3), "name must be one of the registered scenarios"),
        (lambda: rq.make("yao-topk-v0", temprature=1.0), "got unknown arguments temprature"),
        (lambda: rq.make("yao-topk-v0", rule="softmax"), "game is given, so rule"),
        (lambda: rq.make("yao-topk-v0", game=None), "builds the scenario's game"),
        (lambda: rq.make("yao-topk-v0", majority=1.5), "majority must be in (0, 1)"),
        (lambda: rq.make("jagadeesan-supply-v0", beta=-1), "beta must be a finite number > 0"),
        (lambda: rq.make("jagadeesan-supply-v0", levels=0), "levels must be an integer >= 1"),
        (lambda: rq.make("jagadeesan-supply-v0", genres=3), "genres must be 1 or 2"),
    ],
)
def test_bad_scenario_arguments_are_refused_by_name(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_make_routes_game_and_env_arguments():
    env = rq.make("yao-topk-v0", k=1, n_producers=4, max_cycles=7, action_type="simplex")
    assert env.game.k == 1 and env.game.n_producers == 4 and env.max_cycles == 7
    assert env.action_type == "simplex"
    assert rq.make("yao-topk-v0").action_type == "discrete"  # the scenario's default
    assert rq.make("jagadeesan-supply-v0").game.costs is not None
    assert env.metadata["name"] == "yao_topk_v0"
    assert rq.parallel_env().metadata["name"] == "recsys_eq_v0"  # the class's is untouched


@pytest.mark.parametrize("name", list(SMALL))
def test_every_scenario_passes_the_seven_pettingzoo_checkers(name):
    seven_checkers(functools.partial(rq.make, name, **SMALL[name]), num_cycles=20)


@pytest.mark.parametrize("name", list(SMALL))
def test_every_scenario_works_with_the_equilibrium_tools_and_learners(name):
    env = rq.make(name, max_cycles=60, revision="one", **SMALL[name])
    game = env.game
    agent = BestResponseAgent(game, action_type=env.action_type)
    trajectory = rollout(env, agent, seed=0)
    assert np.isfinite(trajectory.nash_conv).all()
    equilibria = analysis.pure_equilibria(game)
    for counts in equilibria.counts:
        assert game.nash_conv(np.repeat(np.eye(game.dim), counts, axis=0), "basis") <= 1e-6 * max(
            1.0, float(np.abs(game.count_utilities_of(counts)).max())
        )
    hedge = Hedge(game, seed=0)
    for _ in range(30):
        hedge.step()
    assert np.isfinite(hedge.log_weights).all()


def test_the_sports_and_travel_example_of_yao_et_al():
    """Yao et al. 2023, Section 1: with 90% sports fans every creator on sports is an
    equilibrium, while the welfare optimum also serves the travel fans."""
    game = yao_topk.game(n_producers=5, k=2, temperature=1.0)
    equilibria = analysis.pure_equilibria(game).counts
    assert [tuple(c) for c in equilibria] == [(5, 0)]
    every = np.array(list(compositions(5, 2)))
    welfare = yao_topk.random_utility_welfare(game, every)
    assert (every[welfare.argmax()] > 0).all()
    # Known value: all on sports, each fan's shortlist holds two sports creators worth 1 each
    # (tau log 2e = 1 + log 2 per fan) and travel fans value every creator at 0 (log 2).
    expected = 900 * (1 + np.log(2)) + 100 * np.log(2)
    assert yao_topk.random_utility_welfare(game, [[5, 0]])[0] == pytest.approx(expected)


def test_random_utility_welfare_against_a_brute_force():
    rng = np.random.default_rng(4)
    users = rng.dirichlet(np.ones(3), size=30)
    game = rq.EngagementGame(users, 4, rule="topk_softmax", k=2, temperature=0.5)
    for counts in compositions(4, 3):
        scores = np.repeat(game.users, counts, axis=1)  # one column per producer
        top = -np.sort(-scores, axis=1)[:, :2]
        expected = (0.5 * np.log(np.exp(top / 0.5).sum(axis=1))).sum()
        assert yao_topk.random_utility_welfare(game, [counts])[0] == pytest.approx(expected)


def test_the_top_mediator_instance_without_a_pure_equilibrium():
    """The first instance the reproduction finds without a pure Nash equilibrium (n = 3,
    dim = 3), checked by hand: from every count vector some publisher gains by moving."""
    rows = benporat_top.reproduce(quick=True)
    seed = int(zoo._common.values(rows, "first seed with none", "n=3, dim=3")[0])
    game = benporat_top.game(n_producers=3, dim=3, seed=seed)
    for counts in compositions(3, 3):
        counts = np.array(counts)
        table = game.deviation_table(counts)
        gains = [table[a].max() - table[a, a] for a in np.flatnonzero(counts)]
        assert max(gains) > 1e-9, counts
    text, holds = benporat_top.verdict(rows)
    assert holds and "have no pure equilibrium" in text


def test_jagadeesan_profit_vanishes_without_specialisation_and_stays_with_it():
    """Abstract of Jagadeesan et al. 2023, measured with correlated equilibria (module page)."""
    rows = jagadeesan_supply.reproduce(quick=True)
    values = functools.partial(zoo._common.values, rows)
    # Homogeneous users: rent dissipation as the grid refines (beta = 4: 4 then 8 norms)
    coarse = values("best correlated profit", "beta=4, levels=4, genres=1")[0]
    fine = values("best correlated profit", "beta=4, levels=8, genres=1")[0]
    assert fine < coarse
    # Two genres at beta = 4: every correlated equilibrium (so every Nash one) earns > 0.3
    assert values("worst correlated profit", "beta=4, levels=8, genres=2")[0] > 0.3
    assert values("single-genre share", "beta=4, levels=8, genres=2")[0] > 0.5
    for metric in ("worst correlated profit", "best correlated profit"):
        assert (values(metric) <= 1.0).all()


def test_the_catalogue_and_its_costs():
    items, names = jagadeesan_supply.catalogue(2)
    assert names[0] == "none" and len(items) == 7
    np.testing.assert_allclose(np.linalg.norm(items, axis=1), [0, 0.5, 1, 0.5, 1, 0.5, 1])
    game = jagadeesan_supply.game(beta=2.0, levels=2, n_users=10)
    np.testing.assert_allclose(game.costs, 10 * np.array([0, 0.25, 1, 0.25, 1, 0.25, 1]))


@pytest.mark.parametrize("name", list(SMALL))
def test_every_headline_result_reproduces(name):
    spec = zoo.spec(name)
    rows = spec.reproduce(quick=True)
    assert {tuple(sorted(r)) for r in rows} == {tuple(sorted(zoo.COLUMNS))}
    assert all(r["scenario"] == name for r in rows)
    text, holds = spec.verdict(rows)
    assert holds, text
    # The same seed gives the same rows
    again = spec.reproduce(quick=True)
    assert [r["value"] for r in again] == pytest.approx(
        [r["value"] for r in rows], nan_ok=True, rel=0, abs=0
    )


def test_the_jax_env_of_a_scenario_and_its_refusal_with_costs():
    pytest.importorskip("jax")
    env = zoo.make_jax("benporat-top-v0", dim=3)
    assert env.game.rule == "hardmax"
    with pytest.raises(ValueError, match="the JAX env has no production costs"):
        zoo.make_jax("jagadeesan-supply-v0", levels=2)


ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def test_the_command_writes_resumes_and_reports(tmp_path, capsys):
    import pandas as pd

    from experiments.cli import main

    args = ["scenarios", "--only", "benporat-top-v0", "--out", str(tmp_path), "--no-progress"]
    assert main(args) == 0
    table = pd.read_parquet(tmp_path / "scenarios.parquet")
    assert set(table["scenario"]) == {"benporat-top-v0"}
    assert "benporat-top-v0: holds" in capsys.readouterr().out
    assert "# The scenario zoo" in (tmp_path / "SCENARIOS.md").read_text()
    assert (tmp_path / "figures" / "fig9_scenarios.png").exists()
    assert main(args) == 0  # finished: nothing reruns
    assert "scenarios: 0 run now" in capsys.readouterr().out
    assert main(["scenarios", "--only", "no-such-v0", "--out", str(tmp_path)]) == 2
    assert "name must be one of the registered scenarios" in capsys.readouterr().err


@pytest.mark.slow
def test_the_committed_table_is_what_the_scenarios_give_now():
    """reproduction/scenarios.parquet is every scenario's reproduce() as it runs now (the same
    seeds give the same rows), and the report's zoo section and SCENARIOS.md are generated
    from it: every number of the docs page comes from the table."""
    import pandas as pd

    from experiments.report_scenarios import scenarios_page, scenarios_section

    committed = pd.read_parquet(ROOT / "reproduction" / "scenarios.parquet")
    fresh = pd.DataFrame(
        [r for name in rq.scenarios() for r in zoo.spec(name).reproduce()], columns=zoo.COLUMNS
    )
    pd.testing.assert_frame_equal(
        committed.reset_index(drop=True), fresh, check_exact=False, rtol=1e-6, atol=1e-9
    )
    section = "\n".join(scenarios_section(committed)).strip()
    assert section in (ROOT / "reproduction" / "REPRODUCTION.md").read_text()
    page = (ROOT / "reproduction" / "SCENARIOS.md").read_text()
    assert page.strip() == scenarios_page(committed).strip()


def test_concurrent_runs_into_one_folder_keep_every_scenario(tmp_path):
    """Two runs writing different scenarios into one folder at once (threads here; processes
    take the same file lock): the table ends with both, none lost to the other's write."""
    from concurrent.futures import ThreadPoolExecutor

    import pandas as pd

    from experiments.scenarios import run_scenarios

    names = ["benporat-top-v0", "hron-exposure-simplex-v0", "acharya-engagement-v0"]
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda n: run_scenarios(tmp_path, [n], progress=False), names))
    table = pd.read_parquet(tmp_path / "scenarios.parquet")
    assert set(table["scenario"]) == set(names)
    for name in names:
        single = pd.DataFrame(zoo.spec(name).reproduce(), columns=zoo.COLUMNS)
        assert len(table[table["scenario"] == name]) == len(single)
