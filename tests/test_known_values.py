"""A 2-user x 2-feature game worked out by hand under every rule (MODEL.md section 1).

Users c_0 = (1, 0) and c_1 = (1/2, 1/2); producer 0 on e_0, producer 1 on e_1, so the scores are
x_0 = (1, 0) and x_1 = (1/2, 1/2). User 1 is indifferent under every rule: it is served 1/2, 1/2
and gives each producer 1/2 * 1/2 = 1/4 of engagement. User 0:

* softmax, tau = 1: p = (e / (e + 1), 1 / (e + 1)) = (0.7310585786300049, 0.2689414213699951);
* linear: p = (1/1, 0/1) = (1, 0);  hardmax: the unique best producer, (1, 0);
* uniform: (1/2, 1/2);  topk_softmax with k = 1: its single best producer, (1, 0);
  with k = 2 = n it is the full softmax.
"""

import math

import numpy as np
import pytest

import recsys_eq_env as rq

USERS = np.array([[1.0, 0.0], [0.5, 0.5]])
PROFILE = np.array([[1.0, 0.0], [0.0, 1.0]])
E = math.e
SOFT = E / (E + 1)  # 0.7310585786300049

# rule, temperature, k: (user 0's serving row, engagement utilities, exposure utilities,
#                        user utilities)
CASES = {
    ("softmax", 1.0, None): (
        [SOFT, 1 - SOFT],
        [SOFT + 0.25, 0.25],
        [SOFT + 0.5, 1.5 - SOFT],
        [SOFT, 0.5],
    ),
    ("linear", 1.0, None): ([1.0, 0.0], [1.25, 0.25], [1.5, 0.5], [1.0, 0.5]),
    ("hardmax", 1.0, None): ([1.0, 0.0], [1.25, 0.25], [1.5, 0.5], [1.0, 0.5]),
    ("uniform", 1.0, None): ([0.5, 0.5], [0.75, 0.25], [1.0, 1.0], [0.5, 0.5]),
    ("topk_softmax", 1.0, 1): ([1.0, 0.0], [1.25, 0.25], [1.5, 0.5], [1.0, 0.5]),
    ("topk_softmax", 1.0, 2): (
        [SOFT, 1 - SOFT],
        [SOFT + 0.25, 0.25],
        [SOFT + 0.5, 1.5 - SOFT],
        [SOFT, 0.5],
    ),
}


@pytest.mark.parametrize(("rule", "temperature", "k"), list(CASES))
def test_two_by_two_by_hand(rule, temperature, k):
    row0, engagement, exposure, users = CASES[(rule, temperature, k)]
    game = rq.EngagementGame(USERS, 2, rule, temperature, k=k)
    probs = game.serving_probabilities(PROFILE)
    np.testing.assert_allclose(probs, [row0, [0.5, 0.5]], rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(game.producer_utilities(PROFILE), engagement, rtol=1e-15)
    np.testing.assert_allclose(game.user_utilities(PROFILE), users, rtol=1e-15)
    exposure_game = rq.EngagementGame(USERS, 2, rule, temperature, utility="exposure", k=k)
    np.testing.assert_allclose(exposure_game.producer_utilities(PROFILE), exposure, rtol=1e-15)


@pytest.mark.parametrize("rule", ["softmax", "linear", "hardmax", "uniform"])
def test_two_by_two_deviation_by_hand(rule):
    """Producer 0 moving to e_1 puts both producers on e_1: user 0 scores (0, 0), user 1 (1/2, 1/2).

    Every rule then serves each user 1/2 : 1/2 (linear falls back to uniform for user 0, who has
    zero affinity to everybody), so producer 0 earns 0 + 1/2 * 1/2 = 1/4 of engagement.
    """
    game = rq.EngagementGame(USERS, 2, rule)
    stay = {"softmax": SOFT + 0.25, "linear": 1.25, "hardmax": 1.25, "uniform": 0.75}[rule]
    np.testing.assert_allclose(game.deviation_utilities(PROFILE, 0), [stay, 0.25], rtol=1e-15)
    exposure = rq.EngagementGame(USERS, 2, rule, utility="exposure")
    # Exposure after the move: 1/2 from each user.
    assert exposure.deviation_utilities(PROFILE, 0)[1] == pytest.approx(1.0, rel=1e-15)


def test_softmax_temperature_by_hand():
    """tau = 1/2 doubles the exponent: user 0 is served e^2 / (e^2 + 1) by producer 0."""
    game = rq.EngagementGame(USERS, 2, "softmax", 0.5)
    p = E**2 / (E**2 + 1)
    np.testing.assert_allclose(game.producer_utilities(PROFILE), [p + 0.25, 0.25], rtol=1e-15)


def test_regret_and_nash_by_hand():
    """Softmax, tau = 1: producer 1 on e_1 earns 1/4; moving to e_0 it would share both users.

    Both on e_0: user 0 scores (1, 1), user 1 (1/2, 1/2), so each earns 1/2 + 1/4 = 3/4 > 1/4.
    Producer 0 cannot gain (moving to e_1 gives 1/4). Regrets: (0, 1/2).
    """
    game = rq.EngagementGame(USERS, 2, "softmax", 1.0)
    np.testing.assert_allclose(game.regrets(PROFILE), [0.0, 0.5], atol=1e-15)
    assert game.nash_conv(PROFILE) == pytest.approx(0.5, rel=1e-15)
    assert not game.is_nash(PROFILE)
    both_on_0 = np.array([[1.0, 0.0], [1.0, 0.0]])
    assert game.is_nash(both_on_0)
    assert rq.pure_nash_equilibria(game).tolist() == [[2, 0]]
