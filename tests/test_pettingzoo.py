"""PettingZoo's own seven checkers over a wide grid of the env's options.

The grid covers every pair of values of every option (rule, action type, revision,
observation, observe_id, init, utility, info_regrets): a pairwise covering array, built
greedily below (about 25 configurations instead of 960), as PettingZoo's MPE2 suite runs its
checks over all parameter combinations it can afford.
"""

import functools
import itertools

import pytest
from checkers import seven_checkers

import recsys_eq_env as rq

USERS = rq.synthetic_users("uniform", 60, 3, seed=0)
OPTIONS = {
    "rule": ["softmax", "linear", "topk_softmax", "uniform", "hardmax"],
    "action_type": ["simplex", "signed", "discrete"],
    "revision": ["simultaneous", "one"],
    "observation": ["aggregate", "full"],
    "observe_id": [False, True],
    "init": ["basis", "simplex"],
    "utility": ["engagement", "exposure"],
    "info_regrets": [True, False],
}


def _pairwise(options: dict) -> list[dict]:
    """A small set of configurations containing every pair of option values (greedy)."""
    names = list(options)
    uncovered = {
        (a, va, b, vb)
        for a, b in itertools.combinations(names, 2)
        for va in options[a]
        for vb in options[b]
    }
    chosen = []
    candidates = [dict(zip(names, v, strict=True)) for v in itertools.product(*options.values())]
    pairs = list(itertools.combinations(names, 2))

    def gain(config, missing):
        return sum((a, config[a], b, config[b]) in missing for a, b in pairs)

    while uncovered:
        best = max(candidates, key=lambda config: gain(config, uncovered))
        chosen.append(best)
        uncovered -= {(a, best[a], b, best[b]) for a, b in pairs}
    return chosen


GRID = _pairwise(OPTIONS)


def _kwargs(config):
    kwargs = dict(config, users=USERS, n_producers=3)
    if config["rule"] == "topk_softmax":
        kwargs["k"] = 2
    return kwargs


def test_the_grid_covers_every_pair_of_options():
    assert len(GRID) < 40
    for a, b in itertools.combinations(OPTIONS, 2):
        seen = {(c[a], c[b]) for c in GRID}
        assert seen == set(itertools.product(OPTIONS[a], OPTIONS[b]))


@pytest.mark.parametrize("config", GRID, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_all_seven_pettingzoo_checkers(config):
    seven_checkers(functools.partial(rq.parallel_env, **_kwargs(config)), num_cycles=30)
