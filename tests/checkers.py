"""PettingZoo's own checkers, run the way every env test here runs them."""

import types
import warnings

from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
    state_test,
)
from pettingzoo.utils.conversions import parallel_to_aec


def seven_checkers(make_parallel, num_cycles: int = 30):
    """All seven of PettingZoo's checkers on the env ``make_parallel(**kwargs)`` builds (its
    AEC view by ``parallel_to_aec``), with PettingZoo's soft failures (warnings) as errors.
    ``make_parallel`` must take ``max_cycles`` and ``render_mode``."""

    def aec(**kwargs):
        return parallel_to_aec(make_parallel(**kwargs))

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PettingZoo reports soft failures as warnings
        warnings.filterwarnings("ignore", message=".*render.*")  # render_test's own notices
        parallel_api_test(make_parallel(max_cycles=25), num_cycles=num_cycles)
        parallel_seed_test(lambda: make_parallel(max_cycles=25), num_cycles=num_cycles)
        api_test(aec(max_cycles=25), num_cycles=num_cycles)
        seed_test(lambda: aec(max_cycles=25), num_cycles=num_cycles)
        # max_cycles_test builds envs itself: hand it this configuration as a module
        max_cycles_test(types.SimpleNamespace(parallel_env=make_parallel, env=aec))
        render_test(lambda render_mode=None: aec(max_cycles=25, render_mode=render_mode))
        state_test(aec(max_cycles=25), make_parallel(max_cycles=25), num_cycles=20)
