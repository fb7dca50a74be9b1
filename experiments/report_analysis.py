"""The platform analysis sections of REPRODUCTION.md: every equilibrium of a small game and
welfare (``recsys-eq welfare``), equilibrium selection and correlated equilibria, and which
serving rule to pick (``recsys-eq design``)."""

from __future__ import annotations

import pandas as pd

from .report_common import DASH, _cell, _count, _fixed, markdown_table


# ---------------------------------------------------------------------- analysis
def _welfare_section(table: pd.DataFrame) -> list[str]:
    row = table.iloc[0]
    lines = [
        "## Equilibria and welfare: every equilibrium of a small game",
        "",
        f"`recsys-eq welfare` on {row['dataset']} (seed {row['embedding_seed']}, "
        f"{row['n_users']:,} users, d = {row['dim']}, n = {row['n_producers']}): every pure "
        "equilibrium over basis vectors and every symmetric equilibrium (support enumeration "
        "over the 2^d - 1 supports), each certified over the simplex; user welfare (the sum "
        "of users' engagement) at the optimum over basis-vector profiles "
        f"({', '.join(sorted(set(table['optimum_method'])))}) and at the equilibria. The prices "
        "of anarchy (optimum / worst equilibrium) and stability (optimum / best equilibrium) "
        "are over every certified equilibrium, pure and mixed, as defined; the pure prices "
        "over the pure ones alone.",
        "",
        "| serving | pure equilibria (certified) | symmetric equilibria (certified) | optimum | "
        "best eq. | worst eq. | price of anarchy | price of stability | pure price of anarchy "
        "| pure price of stability | better-response cycle | runs never at an equilibrium |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        cycle = (
            DASH
            if r["better_response_cycle"] is None
            else ("yes" if r["better_response_cycle"] else "no")
        )
        lines.append(
            f"| {r['serving']} | {r['equilibria']} ({r['certified_equilibria']}) | "
            f"{r['mixed_equilibria']} ({r['certified_mixed_equilibria']}) | "
            f"{r['optimum']:.2f} | {_fixed(r['best_equilibrium'], 2)} | "
            f"{_fixed(r['worst_equilibrium'], 2)} | {_fixed(r['price_of_anarchy'], 4)} | "
            f"{_fixed(r['price_of_stability'], 4)} | {_fixed(r['pure_price_of_anarchy'], 4)} | "
            f"{_fixed(r['pure_price_of_stability'], 4)} | {cycle} | "
            f"{_cell(r['never_at_equilibrium'])} |"
        )
    acyclic = table[table["better_response_cycle"] == False]  # noqa: E712
    lines += [
        "",
        "Reading (generated from the table):",
        "",
        f"- Better-response paths cannot cycle under {len(acyclic)} of {len(table)} serving "
        "rules here (the finite graph over count vectors is acyclic): there the paper's "
        "dynamics reach an equilibrium from every start, a proof for this instance.",
        f"- {_largest(table, 'price_of_anarchy', 'The price of anarchy')}; "
        f"{_largest(table, 'pure_price_of_anarchy', 'over pure equilibria alone').lower()}. "
        f"The upper bound of user welfare over every profile, continuous content included, is "
        f"{row['upper_bound']:.2f}.",
        f"- {_failed_equilibria(table)}",
        "",
        *_selection_lines(table),
    ]
    return lines


def _selection_lines(table: pd.DataFrame) -> list[str]:
    """Equilibrium selection and correlated equilibria (columns of newer welfare tables)."""
    if "ce_best" not in table.columns:
        return []
    lines = [
        "### Equilibrium selection and correlated equilibria",
        "",
        "Over the symmetric equilibria above: how many are asymptotically stable under the "
        "replicator dynamics and the sum of their indices (+1 when every one is regular, the "
        "index theorem), the one the logit QRE path ends at, alpha-rank's order of the "
        "features at its largest alpha, and the range of user welfare over exchangeable "
        "correlated (CE) and coarse correlated (CCE) equilibria over basis vectors (HiGHS "
        "LPs over count vectors) beside the range over the equilibria found.",
        "",
    ]
    rows = []
    for _, r in table.iterrows():
        ranges = [
            f"[{_fixed(r[low], 2)}, {_fixed(r[high], 2)}]"
            for low, high in (("worst_equilibrium", "best_equilibrium"),
                              ("ce_worst", "ce_best"), ("cce_worst", "cce_best"))
        ]  # fmt: skip
        stable, index = _count(r["stable_symmetric_equilibria"]), _count(r["symmetric_index_sum"])
        rows.append([r["serving"], r["mixed_equilibria"], stable, index,
                     r["qre_selected"] or DASH, r["alpha_rank"] or DASH, *ranges])  # fmt: skip
    header = ["serving", "symmetric equilibria", "stable", "index sum", "QRE selects",
              "alpha-rank order", "user welfare at equilibria", "CE", "CCE"]  # fmt: skip
    lines += markdown_table(header, rows)
    known = table.dropna(subset=["ce_best", "best_equilibrium"])
    if len(known):
        above = known[known["ce_best"] > known["best_equilibrium"] * (1 + 1e-9)]
        lines += [
            "",
            f"- A correlated equilibrium beats every equilibrium found on user welfare under "
            f"{len(above)} of {len(known)} serving rules"
            + (
                f" (largest gain {(above['ce_best'] / above['best_equilibrium']).max() - 1:.2%}, "
                f"{above.loc[(above['ce_best'] / above['best_equilibrium']).idxmax(), 'serving']})"
                if len(above)
                else ""
            )
            + ".",
        ]
    lines.append("")
    return lines


def _largest(table: pd.DataFrame, column: str, what: str) -> str:
    """ "<what> is largest under X (v)", every rule tied at the top named."""
    values = table[column].dropna()
    if values.empty:
        return f"{what} is not defined under any rule (no certified equilibrium)"
    top = values.max()
    tied = table.loc[values[values >= top - 1e-12 * abs(top)].index, "serving"]
    names = " and ".join(tied)
    return f"{what} is largest under {names} ({top:.4f}{', tied' if len(tied) > 1 else ''})"


def _failed_equilibria(table: pd.DataFrame) -> str:
    skipped = table[table["mixed_checks"].astype(str).str.startswith("not computed")]
    if len(skipped):
        names = ", ".join(skipped["serving"])
        note = (
            f"Symmetric mixed equilibria were not computed under {names} (too many opponents' "
            "count vectors for exact expectations): their prices count the pure equilibria "
            "alone. "
        )
        return note + _failed_counts(table)
    return _failed_counts(table)


def _failed_counts(table: pd.DataFrame) -> str:
    pure_failed = int((table["equilibria"] - table["certified_equilibria"]).sum())
    mixed_failed = int((table["mixed_equilibria"] - table["certified_mixed_equilibria"]).sum())
    total = int(table["equilibria"].sum()), int(table["mixed_equilibria"].sum())
    if pure_failed == mixed_failed == 0:
        return (
            f"Every one of the {total[0]} pure and {total[1]} symmetric equilibria over basis "
            "vectors passes its certificate over the simplex."
        )
    return (
        f"{pure_failed} of {total[0]} pure and {mixed_failed} of {total[1]} symmetric "
        "equilibria over basis vectors fail (or lack) their certificate over the simplex and "
        "do not count in the prices."
    )


def _design_section(table: pd.DataFrame) -> list[str]:
    from .design import pick

    row = table.iloc[0]
    refined = table[table["search"] == "refine"]
    shown = table[table["search"] != "refine"]
    if len(refined):  # the refinement's best point stands for it
        shown = pd.concat([shown, refined.loc[[refined["user_welfare_mean"].idxmax()]]])
    order = shown.sort_values("user_welfare_mean", ascending=False)
    lines = [
        "## Platform design: which serving rule?",
        "",
        f"`recsys-eq design` on {row['dataset']} ({row['n_users']:,} users, d = {row['dim']}, "
        f"n = {row['n_producers']}): per serving rule, the equilibria the paper's dynamics "
        f"reach from {int(row['runs'])} random starts, each certified over the simplex "
        "(*certified*: runs whose equilibrium passes; *check*: the certificate's verdict, the "
        "largest gain found where one fails); softmax over a log-spaced temperature grid "
        f"refined by golden-section search among certified temperatures ({len(refined)} more "
        "temperatures; the best shown). User welfare is per user; diversity is the features "
        "occupied and the TV distance between producer and user distributions. A rule can be "
        "picked only when every run converged to a certified equilibrium.",
        "",
        "| serving | search | converged | certified | check | user welfare (mean) | min | max "
        "| features occupied | TV distance | distinct equilibria |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in order.iterrows():
        lines.append(
            f"| {r['serving']} | {r['search']} | {int(r['converged'])}/{int(r['runs'])} | "
            f"{int(r['certified'])}/{int(r['runs'])} | {r['check']} | "
            f"{r['user_welfare_mean']:.4f} | {r['user_welfare_min']:.4f} | "
            f"{r['user_welfare_max']:.4f} | {r['features_occupied']:.1f} | {r['tvd']:.3f} | "
            f"{int(r['distinct_equilibria'])} |"
        )
    eligible = table[(table["converged"] == table["runs"]) & (table["certified"] == table["runs"])]
    picked = pick(table)
    lines += ["", "Reading (generated from the table):", ""]
    if picked.empty:
        lines.append(
            "- No serving rule converged to a certified equilibrium in every run: none can be "
            "picked."
        )
    else:
        names = " = ".join(picked["serving"])
        tie = f" ({len(picked)} rules tie)" if len(picked) > 1 else ""
        lines.append(
            f"- Among the {len(eligible)} of {len(table)} rules whose every run converged to "
            f"a certified equilibrium, users are served best under {names}{tie} "
            f"({picked['user_welfare_mean'].max():.4f} per user, "
            f"{picked['features_occupied'].max():.1f} features occupied)."
        )
        most = eligible["features_occupied"].max()
        spread = eligible[eligible["features_occupied"] >= most - 1e-12]
        if len(spread) == 1:
            lines.append(
                f"- Producers spread most under {spread['serving'].iloc[0]} ({most:.1f} "
                "features occupied) among them."
            )
        else:
            lines.append(
                f"- {len(spread)} of them tie for the most features occupied ({most:.1f}); "
                f"among those users are served best under "
                f"{spread.loc[spread['user_welfare_mean'].idxmax(), 'serving']}."
            )
        soft = eligible[eligible["rule"] == "softmax"]
        if len(soft):
            top = soft.loc[soft["user_welfare_mean"].idxmax(), "temperature"]
            searched = table[table["rule"] == "softmax"]["temperature"]
            if top in (searched.min(), searched.max()):
                lines.append(
                    f"- Among certified softmax temperatures the best, {top:g}, lies at the "
                    "edge of the range searched."
                )
    excluded = table[~table.index.isin(eligible.index)]
    if len(excluded):
        reasons = [
            f"{r['serving']} ({int(r['converged'])}/{int(r['runs'])} converged, "
            f"{int(r['certified'])}/{int(r['runs'])} certified: {r['check']})"
            for _, r in excluded.iterrows()
        ]
        lines.append(f"- Not eligible: {'; '.join(reasons)}.")
    return [*lines, ""]
