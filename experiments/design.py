"""``recsys-eq welfare`` and ``recsys-eq design``: equilibria judged from the platform's side.

* ``welfare``: for a small game, per serving rule and temperature, user welfare (the sum of
  users' engagement) at the social optimum over basis-vector profiles, at the best and the worst
  pure equilibrium (every one, :func:`recsys_eq_env.analysis.pure_equilibria`) and at the
  symmetric mixed equilibrium, with the prices of anarchy and stability, whether
  better-response paths can cycle, and where the paper's dynamics end (basins).
* ``design``: for a real population, which serving rule should the platform pick? Per rule
  (softmax over a temperature range searched adaptively, linear, top-k softmax, uniform,
  hardmax), the equilibria the paper's dynamics reach from several random starts, each
  certified over the simplex (:func:`recsys_eq_env.certify_counts`: under hardmax and top-k
  softmax mixing or a tilt often beats a basis-vector equilibrium), their user welfare, and
  the diversity they induce (features occupied, total variation distance between producers
  and users). A rule may be picked only when every run converged to a certified
  equilibrium; ties are reported as ties (:func:`pick`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

import recsys_eq_env as rq
from recsys_eq_env import analysis

from .config import serving_label

TEMPERATURES = (0.01, 0.1, 1.0, 10.0, 100.0)


# ---------------------------------------------------------------------- welfare
def welfare_study(
    users: np.ndarray,
    n_producers: int,
    temperatures=TEMPERATURES,
    rules=("linear",),
    threads: int = 2,
    progress: bool = True,
) -> pd.DataFrame:
    """One row per serving rule: welfare at the optimum and at every equilibrium known
    (module docstring). Every pure equilibrium over basis vectors and every symmetric one is
    certified over the simplex; the prices count only those that pass."""
    from tqdm.auto import tqdm

    servings = [("softmax", float(t)) for t in temperatures] + [(r, None) for r in rules]
    rows = []
    for rule, tau in tqdm(servings, desc="welfare", disable=not progress):
        start = time.perf_counter()
        game = rq.EngagementGame(users, n_producers, rule, 1.0 if tau is None else tau)
        eq = analysis.pure_equilibria(game, threads=threads)
        try:
            symmetric, mixed_note = analysis.symmetric_equilibria(game), None
        except ValueError as exc:  # too many opponents' count vectors for exact expectations
            symmetric, mixed_note = [], f"not computed: {exc}"
        value = analysis.welfare(game, eq, symmetric)
        selection = _selection(game, symmetric)
        try:
            graph = analysis.response_graph(game)
            shares, stuck = graph.basins()
            cycle, basins = (
                graph.has_cycle,
                {
                    json_counts(graph.counts[i]): float(p)
                    for i, p in zip(graph.equilibria, shares, strict=True)
                },
            )
        except ValueError:  # too many count vectors for the graph
            cycle, basins, stuck = None, {}, float("nan")
        rows.append(
            {
                "serving": serving_label(rule, tau),
                "rule": rule,
                "temperature": np.nan if tau is None else tau,
                "n_users": game.n_users,
                "dim": game.dim,
                "n_producers": n_producers,
                "equilibrium_check": eq.check,
                "equilibria": value.equilibria,
                "certified_equilibria": value.certified_equilibria,
                "mixed_equilibria": value.mixed_equilibria,
                "certified_mixed_equilibria": value.certified_mixed_equilibria,
                "optimum": value.optimum,
                "optimum_method": value.optimum_method,
                "optimum_counts": json_counts(value.optimum_counts),
                "upper_bound": value.upper_bound,
                "best_equilibrium": value.best_equilibrium,
                "worst_equilibrium": value.worst_equilibrium,
                "best_pure_equilibrium": value.best_pure_equilibrium,
                "worst_pure_equilibrium": value.worst_pure_equilibrium,
                "best_mixed_equilibrium": value.best_mixed_equilibrium,
                "worst_mixed_equilibrium": value.worst_mixed_equilibrium,
                "mixed_shares": "; ".join(json_counts(np.round(m.shares, 6)) for m in symmetric),
                "mixed_checks": mixed_note or "; ".join(m.continuous for m in symmetric),
                "mixed_nash_conv": max((m.nash_conv for m in symmetric), default=np.nan),
                "price_of_anarchy": value.price_of_anarchy,
                "price_of_stability": value.price_of_stability,
                "pure_price_of_anarchy": value.pure_price_of_anarchy,
                "pure_price_of_stability": value.pure_price_of_stability,
                "better_response_cycle": cycle,
                "basins": str(basins),
                "never_at_equilibrium": stuck,
                **selection,
                "seconds": time.perf_counter() - start,
            }
        )
    return pd.DataFrame(rows)


def _selection(game, symmetric) -> dict:
    """Which equilibrium the classic selection devices pick, and the correlated-equilibrium
    welfare bounds (:mod:`recsys_eq_env.evolution`, :mod:`recsys_eq_env.qre`,
    :mod:`recsys_eq_env.correlated`); NaN or "" where the game is too large for them."""
    out = {"stable_symmetric_equilibria": np.nan, "symmetric_index_sum": np.nan,
           "qre_selected": "", "qre_end_nash_conv": np.nan, "alpha_rank": "", "ce_best": np.nan,
           "ce_worst": np.nan, "cce_best": np.nan, "cce_worst": np.nan}  # fmt: skip
    try:
        payoffs = analysis.SymmetricPayoffs(game)
    except ValueError:
        payoffs = None
    if payoffs is not None:
        found = [analysis.stability(payoffs, m.shares) for m in symmetric]
        out["stable_symmetric_equilibria"] = sum(s.stable for s in found)
        out["symmetric_index_sum"] = sum(s.index for s in found)
        path = analysis.qre_path(payoffs, equilibria=symmetric)
        if path.selected is not None:
            out["qre_selected"] = json_counts(np.round(path.selected.shares, 6))
        out["qre_end_nash_conv"] = float(path.nash_conv[-1])
    ranked = analysis.alpha_rank(game)[-1]
    out["alpha_rank"] = json_counts(ranked.ranking)
    for kind, prefix in (("correlated", "ce"), ("coarse", "cce")):
        try:
            bounds = analysis.correlated_equilibria(game, kind)
        except ValueError:  # the LP's constraints would not fit in memory
            continue
        out[f"{prefix}_best"], out[f"{prefix}_worst"] = bounds.best.welfare, bounds.worst.welfare
    return out


def json_counts(values) -> str:
    return "[" + ", ".join(f"{v:g}" for v in np.asarray(values).tolist()) + "]"


# ---------------------------------------------------------------------- design
@dataclass(frozen=True)
class DesignPoint:
    serving: str
    rule: str
    temperature: float
    k: float
    runs: int
    converged: int
    #: Converged runs whose equilibrium passes its certificate over the simplex.
    certified: int
    #: The certificates' verdict: "exact", "certified by search", or the largest failure
    #: ("fails: gain g"); "none converged" when no run converged.
    check: str
    #: The largest relative gain a certificate found (0 when every one passed exactly).
    max_gain: float
    user_welfare_mean: float
    user_welfare_min: float
    user_welfare_max: float
    features_occupied: float
    tvd: float
    distinct_equilibria: int

    @property
    def eligible(self) -> bool:
        """Every run converged to an equilibrium of the game (certified over the simplex):
        only such rules may be picked."""
        return self.converged == self.runs and self.certified == self.runs


def evaluate_rule(users, n_producers, rule, temperature=None, k=None, starts=8, seed=0):
    """Equilibria the paper's dynamics reach from ``starts`` random starts, their welfare and
    diversity, and each distinct equilibrium certified over the simplex."""
    game = rq.EngagementGame(users, n_producers, rule, 1.0 if temperature is None else temperature,
                             k=k)  # fmt: skip
    user_dist = rq.user_distribution(game.users)
    welfare, occupied, tvd, seen, converged, certified = [], [], [], {}, 0, 0
    distinct = set()
    for s in np.random.SeedSequence(seed).spawn(starts):
        result = rq.best_response_dynamics(game, seed=s)
        converged += result.converged
        key = tuple(result.counts.tolist())
        distinct.add(key)
        if result.converged and key not in seen:
            seen[key] = rq.certify_counts(game, result.counts, stop_at_failure=True)
        if result.converged:
            certified += seen[key].passed
        w = analysis.count_welfare(game, result.counts[None])[1][0]
        welfare.append(w / game.n_users)
        occupied.append(int((result.counts > 0).sum()))
        tvd.append(rq.total_variation(result.producer_dist, user_dist))
    certificates = list(seen.values())
    max_gain = max((c.gain for c in certificates), default=float("nan"))
    if not certificates:
        check = "none converged"
    elif all(c.passed for c in certificates):
        check = "exact" if all(c.exact for c in certificates) else "certified by search"
    else:
        check = max(certificates, key=lambda c: c.gain).label
    return DesignPoint(
        serving_label(rule, temperature, k),
        rule,
        np.nan if temperature is None else float(temperature),
        np.nan if k is None else float(k),
        starts,
        converged,
        certified,
        check,
        float(max_gain),
        float(np.mean(welfare)),
        float(np.min(welfare)),
        float(np.max(welfare)),
        float(np.mean(occupied)),
        float(np.mean(tvd)),
        len(distinct),
    )


#: Mean welfare per user within this relative distance of the best is a tie.
TIE = 1e-9


def pick(table: pd.DataFrame) -> pd.DataFrame:
    """The rows a platform may pick: the best mean user welfare among rules whose every run
    converged to a certified equilibrium, with every rule tied with it (within
    :data:`TIE` relative). Empty when no rule qualifies."""
    eligible = table[(table["converged"] == table["runs"]) & (table["certified"] == table["runs"])]
    if eligible.empty:
        return eligible
    best = eligible["user_welfare_mean"].max()
    return eligible[eligible["user_welfare_mean"] >= best - TIE * abs(best)]


def design_study(
    users,
    n_producers: int,
    starts: int = 8,
    seed: int = 0,
    grid=(-3.0, 2.0, 11),
    refine: int = 8,
    ks=(1, 5),
    progress: bool = True,
) -> pd.DataFrame:
    """Every rule, and softmax over an adaptive temperature search (module docstring).

    Softmax: a log-spaced grid of ``grid[2]`` temperatures over ``10**grid[0] ..
    10**grid[1]``, then ``refine`` golden-section steps on log10(temperature) around the best
    grid point, maximising the mean user welfare at equilibrium among temperatures whose
    every run converged to a certified equilibrium (:func:`pick` chooses among the rows).
    """
    from tqdm.auto import tqdm

    points = []
    bar = tqdm(total=grid[2] + refine + 3 + len(ks), desc="design", disable=not progress)

    def soft(log_tau):
        point = evaluate_rule(users, n_producers, "softmax", 10.0**log_tau, None, starts, seed)
        points.append(point)
        bar.update()
        # the search maximises over temperatures a platform could pick (module docstring)
        return point.user_welfare_mean if point.eligible else -np.inf

    logs = np.linspace(*grid[:2], int(grid[2]))
    values = [soft(x) for x in logs]
    i = int(np.argmax(values))
    lo, hi = logs[max(i - 1, 0)], logs[min(i + 1, len(logs) - 1)]
    ratio = (math.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = soft(a), soft(b)
    for _ in range(max(refine - 2, 0)):  # golden-section search for the best temperature
        if fa >= fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = soft(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = soft(b)
    for rule in ("linear", "uniform", "hardmax"):
        points.append(evaluate_rule(users, n_producers, rule, None, None, starts, seed))
        bar.update()
    for k in ks:
        if k <= n_producers:
            points.append(evaluate_rule(users, n_producers, "topk_softmax", 1.0, k, starts, seed))
        bar.update()
    bar.close()
    table = pd.DataFrame([p.__dict__ for p in points])
    table["search"] = ["grid"] * int(grid[2]) + ["refine"] * (len(table) - int(grid[2]))
    table.loc[table["rule"] != "softmax", "search"] = "rule"
    return table
