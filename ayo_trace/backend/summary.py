"""``Runtime.summary()``: the runtime's stats as a short table a person reads at a glance."""

from __future__ import annotations

from typing import Any

_COLUMNS = ("engine", "kind", "requests", "batches", "mean batch", "max batch", "wait mean", "busy", "util")


def format_summary(stats: dict[str, Any]) -> str:
    """One line per engine (requests and batches summed over their kinds, mean and max batch size,
    mean queue wait in ms, busy seconds, utilization), then one line for queries and admission."""
    rows = [list(_COLUMNS)]
    for name, e in stats["engines"].items():
        rows.append(
            [
                name,
                e["kind"],
                str(sum(e["requests"].values())),
                str(sum(e["batches"].values())),
                f"{e['mean_batch']:.2f}",
                str(e["max_batch"]),
                f"{1e3 * e['queue_wait_mean_s']:.1f}ms",
                f"{e['busy_s']:.2f}s",
                f"{100 * e['utilization']:.0f}%",
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    adm = stats["admission"]
    lines.append(
        f"queries {stats['queries']}  failed {stats['failures']}  cancelled {stats['cancelled']}  "
        f"nodes {stats['nodes']}  serving {adm['serving']}  waiting {adm['waiting']}  "
        f"refused {adm['refused']}"
    )
    return "\n".join(lines)


__all__ = ["format_summary"]
