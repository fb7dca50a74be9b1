"""The ``recsys-eq`` command line: thin wrappers over the package's functions."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import recsys_eq_env as rq


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recsys-eq",
        description="Producers' equilibria in engagement-driven recommender systems.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    eq = commands.add_parser(
        "equilibrium",
        help="run the paper's best-response dynamics once and print the equilibrium",
        description="Build a synthetic population, run best-response dynamics over basis "
        "vectors, and print the equilibrium reached.",
    )
    eq.add_argument("--population", choices=rq.POPULATIONS, default="uniform")
    eq.add_argument("--n-users", type=int, default=10_000)
    eq.add_argument("--dim", type=int, default=10)
    eq.add_argument("--users-seed", type=int, default=13, help="seed of the synthetic users")
    eq.add_argument("--n-producers", type=int, default=20)
    eq.add_argument(
        "--rule",
        choices=("softmax", "linear", "topk_softmax", "uniform", "hardmax"),
        default="softmax",
    )
    eq.add_argument("--temperature", type=float, default=1.0)
    eq.add_argument("--k", type=int, default=None, help="shortlist size for topk_softmax")
    eq.add_argument("--utility", choices=("engagement", "exposure"), default="engagement")
    eq.add_argument("--seed", type=int, default=0, help="seed of the dynamics")
    eq.add_argument("--max-iter", type=int, default=500)
    eq.set_defaults(func=run_equilibrium)
    return parser


def run_equilibrium(args) -> int:
    users = rq.synthetic_users(args.population, args.n_users, args.dim, seed=args.users_seed)
    game = rq.EngagementGame(
        users, args.n_producers, args.rule, args.temperature, args.utility, args.k
    )
    start = time.perf_counter()
    result = rq.best_response_dynamics(game, seed=args.seed, max_iter=args.max_iter)
    elapsed = time.perf_counter() - start
    print(format_equilibrium(game, result, elapsed))
    return 0


def format_equilibrium(game: rq.EngagementGame, result: rq.DynamicsResult, elapsed: float) -> str:
    """A human-readable report of one run."""
    producer_u = game.producer_utilities(result.profile)
    user_u = game.user_utilities(result.profile)
    user_dist = rq.user_distribution(game.users)
    producer_dist = result.producer_dist
    status = "converged" if result.converged else "did NOT converge"
    lines = [
        f"{game!r}",
        f"best-response dynamics {status} after {result.iterations} iterations ({elapsed:.3f} s)",
        "",
        f"{'feature':>7}  {'users':>7}  {'producers':>9}  {'count':>5}",
    ]
    for j in range(game.dim):
        lines.append(
            f"{j:>7}  {user_dist[j]:7.3f}  {producer_dist[j]:9.3f}  {int(result.counts[j]):>5}"
        )
    tvd = 0.5 * np.abs(user_dist - producer_dist).sum()
    lines += [
        "",
        f"features occupied        {int((result.counts > 0).sum())} of {game.dim}",
        f"total variation distance {tvd:.4f}  (producer vs user distribution)",
        f"producer utility         total {producer_u.sum():.4f}  mean {producer_u.mean():.4f}  "
        f"min {producer_u.min():.4f}  max {producer_u.max():.4f}",
        f"user utility             total {user_u.sum():.4f}  mean {user_u.mean():.6f}  "
        f"min {user_u.min():.6f}  max {user_u.max():.6f}",
        f"nash_conv                {game.nash_conv(result.profile):.3e}",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError) as exc:
        print(f"recsys-eq {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
