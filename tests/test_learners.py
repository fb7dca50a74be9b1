"""Learning producers: Hedge, exponentiated gradient, shared and independent PPO (SB3)."""

import math

import numpy as np
import pytest
import torch

import recsys_eq_env as rq
from agents import Policy, RandomAgent, rollout
from agents.no_regret import ExponentiatedGradient, Hedge
from agents.sb3 import IndependentPPO, SeededVecEnv, shared_ppo, shared_vec_env

from reference import single_minded_users

torch.set_num_threads(1)

# 90% of users only care about feature 0: both producers belong there (a pure equilibrium;
# moving to feature 1 earns 0.1 against 0.45), while random content earns much less.
OBVIOUS = np.array([[1.0, 0.0]] * 90 + [[0.0, 1.0]] * 10)


def obvious_env(**kwargs):
    kwargs.setdefault("action_type", "signed")
    return rq.parallel_env(
        users=OBVIOUS, n_producers=2, rule="softmax", temperature=0.1, max_cycles=8, **kwargs
    )


def random_reward(env, seed=2):
    policies = {
        a: RandomAgent(env.action_space(a), seed=seed + i)
        for i, a in enumerate(env.possible_agents)
    }
    return rollout(env, policies, seed=1).rewards.mean()


@pytest.mark.parametrize(
    ("weights", "n", "temperature"), [([60, 40], 5, 0.5), ([55, 45], 8, 1.0), ([70, 30], 6, 0.1)]
)
@pytest.mark.parametrize("learning_rate", [10.0, 300.0])  # slow, and the default
def test_hedge_reaches_the_closed_form_equilibrium(weights, n, temperature, learning_rate):
    """Single-minded users on two features: a producer on j earns
    w_j e^{1/tau} / ((e^{1/tau} - 1) n_j + n) (MODEL.md section 2); the equilibrium counts
    are those no producer can leave profitably."""
    e = math.exp(1 / temperature)

    def u(j, counts):
        return weights[j] * e / ((e - 1) * counts[j] + n)

    closed_form = [
        (k, n - k)
        for k in range(n + 1)
        if (k == 0 or u(0, (k, n - k)) >= u(1, (k - 1, n - k + 1)))
        and (k == n or u(1, (k, n - k)) >= u(0, (k + 1, n - k - 1)))
    ]
    assert len(closed_form) == 1
    game = rq.EngagementGame(single_minded_users(weights), n, "softmax", temperature)
    hedge = Hedge(game, learning_rate=learning_rate, seed=0)
    for _ in range(300):
        hedge.step()
    counts = np.bincount(hedge.log_weights.argmax(axis=1), minlength=2)
    assert tuple(counts) == closed_form[0]
    assert hedge.strategies.max(axis=1).min() > 0.99
    assert game.is_nash(hedge.preferred_profile())


def test_exponentiated_gradient_drifts_to_single_features():
    game = rq.EngagementGame(rq.synthetic_users("uniform", 500, 4, seed=1), 6, "softmax", 0.3)
    learner = ExponentiatedGradient(game, learning_rate=50.0, seed=0)
    start = learner.profile.max(axis=1).mean()
    for _ in range(200):
        learner.step()
    assert start < 0.8 and learner.profile.max(axis=1).mean() > 0.99
    np.testing.assert_allclose(learner.profile.sum(axis=1), 1.0)


def test_no_regret_learners_satisfy_the_interface_and_save(tmp_path):
    game = rq.EngagementGame(rq.synthetic_users("uniform", 200, 3, seed=0), 4)
    env = rq.parallel_env(game=game)
    observations, _ = env.reset(seed=0)
    hedge = Hedge(game, seed=1)
    eg = ExponentiatedGradient(game, seed=1)
    for _ in range(5):
        hedge.step()
        eg.step()
    for learner, action_type in ((hedge, "discrete"), (eg, "simplex")):
        space = rq.parallel_env(game=game, action_type=action_type).action_space("producer_0")
        for agent, policy in learner.policies().items():
            assert isinstance(policy, Policy)
            action, state = policy.predict(observations[agent])
            assert space.contains(np.asarray(action, dtype=space.dtype)) and state is None
    hedge.save(tmp_path / "hedge.npz")
    eg.save(tmp_path / "eg.npz")
    np.testing.assert_array_equal(
        Hedge.load(tmp_path / "hedge.npz", game).log_weights, hedge.log_weights
    )
    np.testing.assert_allclose(
        ExponentiatedGradient.load(tmp_path / "eg.npz", game).profile, eg.profile
    )
    trajectory = rollout(
        rq.parallel_env(game=game, action_type="discrete", max_cycles=3), hedge.policies(), seed=0
    )
    assert trajectory.steps == 3


def test_seeded_vec_env_gives_ppo_a_seed():
    env = obvious_env(observe_id=True)
    vec = shared_vec_env(env)
    assert isinstance(vec, SeededVecEnv) and vec.num_envs == 2
    vec.seed(5)
    first = vec.reset()
    vec.seed(5)
    np.testing.assert_array_equal(vec.reset(), first)
    obs = first[0]

    def trained(seed):  # SB3 seeds torch's global RNG when it builds a model: one at a time
        model = shared_ppo(obvious_env(observe_id=True), seed=seed, n_steps=16, batch_size=32)
        model.learn(64)
        return model.predict(obs, deterministic=True)[0]

    np.testing.assert_array_equal(trained(3), trained(3))


@pytest.mark.parametrize("action_type", ["signed", "discrete"])
def test_shared_ppo_beats_random_on_an_obvious_game(action_type, tmp_path):
    env = obvious_env(action_type=action_type, observe_id=True)
    model = shared_ppo(env, seed=0, n_steps=64, batch_size=64, learning_rate=3e-3)
    model.learn(3000)
    evaluation = obvious_env(action_type=action_type, observe_id=True)
    learned = rollout(evaluation, model, seed=1).rewards.mean()
    assert learned > random_reward(evaluation) + 0.05
    assert learned > 0.4  # both producers on feature 0 earn 0.45 per user
    model.save(tmp_path / "shared")
    loaded = type(model).load(tmp_path / "shared")
    assert rollout(evaluation, loaded, seed=1).rewards.mean() == pytest.approx(learned)


@pytest.mark.parametrize("action_type", ["signed", "discrete"])
def test_independent_ppo_beats_random_on_an_obvious_game(action_type, tmp_path):
    env = obvious_env(action_type=action_type)
    learner = IndependentPPO(env, seed=0, n_steps=64, learning_rate=3e-3)
    learner.learn(1500)
    evaluation = obvious_env(action_type=action_type)
    learned = rollout(evaluation, learner.policies(), seed=1).rewards.mean()
    assert learned > random_reward(evaluation) + 0.05 and learned > 0.4
    learner.save(tmp_path / "independent")
    loaded = IndependentPPO.load(tmp_path / "independent", obvious_env(action_type=action_type))
    again = rollout(evaluation, loaded.policies(), seed=1).rewards.mean()
    assert again == pytest.approx(learned)


def test_sb3_learners_refuse_the_zero_one_box():
    with pytest.raises(ValueError, match="use action_type='signed' or 'discrete'"):
        IndependentPPO(obvious_env(action_type="simplex"))
    with pytest.raises(ValueError, match="observe_id=True for parameter sharing"):
        shared_ppo(obvious_env())


# ---------------------------------------------------------------------- issue 11: the recipe
def _small_game(rule="softmax", temperature=1.0):
    return rq.EngagementGame(rq.synthetic_users("uniform", 500, 4, seed=13), 5, rule, temperature)


@pytest.mark.slow
@pytest.mark.parametrize(("rule", "temperature"), [("softmax", 1.0), ("linear", 1.0)])
def test_counterfactual_policy_gradient_learns_best_responses(rule, temperature):
    """Full-information feedback: every basis vector's reward (info_deviations). The trained
    deterministic policy, rolled out from 3 fixed starts, ends at pure equilibria."""
    from agents.counterfactual import CounterfactualPG
    from agents.evaluation import evaluate

    game = _small_game(rule, temperature)
    learner = CounterfactualPG(num_envs=16, game=game, seed=0).learn(60_000)
    result = evaluate(learner, game, range(100, 103), 50, action_type="discrete", revision="one")
    assert result.terminated.all()
    assert (result.nash_conv_per_user <= 1e-3).all()


@pytest.mark.slow
def test_shared_ppo_recipe_on_the_vector_env():
    """Bandit feedback, the recipe: discrete actions, one revision per step, ids, the sweep's
    discount."""
    from agents.evaluation import evaluate
    from agents.sb3 import EntropySchedule, shared_ppo
    from recsys_eq_env.wrappers.sb3 import sb3_vec_env

    game = rq.EngagementGame(rq.synthetic_users("uniform", 300, 3, seed=13), 3, "softmax", 1.0)
    env = sb3_vec_env(
        16, game=game, action_type="discrete", revision="one", observe_id=True, max_cycles=30
    )
    model = shared_ppo(env, seed=0, n_steps=32, batch_size=384, learning_rate=3e-3, n_epochs=4)
    assert model.gamma == 0.9  # the sweep's default (agents/sb3.py)
    model.learn(60_000, callback=EntropySchedule(0.02))
    result = evaluate(
        model, game, range(100, 104), 30, action_type="discrete", revision="one", observe_id=True
    )
    assert (result.nash_conv_per_user <= 1e-3).mean() >= 0.75


def test_the_entropy_schedule_continues_across_chunks_of_training():
    """The study trains SB3 in chunks between checkpoints: the schedule's clock is the whole
    training (a schedule restarted at every learn() would explore again at each checkpoint)."""
    from agents.sb3 import EntropySchedule, shared_ppo
    from recsys_eq_env.wrappers.sb3 import sb3_vec_env

    game = rq.EngagementGame(rq.synthetic_users("uniform", 50, 3, seed=13), 2, "linear")
    env = sb3_vec_env(
        2, game=game, action_type="discrete", revision="one", observe_id=True, max_cycles=8
    )
    model = shared_ppo(env, seed=0, n_steps=16, batch_size=32, n_epochs=1)
    schedule = EntropySchedule(0.02, 0.0, total=256)
    model.learn(128, callback=schedule, reset_num_timesteps=False)
    assert model.ent_coef == pytest.approx(0.01, abs=1e-9)
    model.learn(128, callback=schedule, reset_num_timesteps=False)
    assert model.ent_coef == pytest.approx(0.0, abs=1e-9)


def test_logit_response_settles_on_an_equilibrium():
    from agents.no_regret import LogitResponse

    game = _small_game()
    learner = LogitResponse(game, temperature=1e-4, seed=0)
    for _ in range(300):
        learner.step()
    assert game.is_nash(learner.preferred_profile())
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        LogitResponse(game, temperature=0.0)


@pytest.mark.slow
def test_independent_ppo_runs_on_the_vector_env_and_evaluates_in_batches():
    from agents.evaluation import evaluate
    from agents.sb3 import IndependentPPO
    from recsys_eq_env.wrappers.sb3 import sb3_vec_env

    game = rq.EngagementGame(rq.synthetic_users("uniform", 300, 3, seed=13), 3, "softmax", 1.0)
    venv = sb3_vec_env(8, game=game, action_type="discrete", revision="one", max_cycles=30).venv
    learner = IndependentPPO(venv, seed=0, n_steps=16, batch_size=64)
    learner.learn(256)
    assert learner.num_timesteps == 256
    result = evaluate(learner.policies(), game, range(3), 30, action_type="discrete")
    assert result.profiles.shape == (3, 3, 3)
