"""bench/cpu_share.py's table from made-up figures: one row per workflow and concurrency, the gains
as ratios of p50 (larger is better for the share)."""

from __future__ import annotations

from bench import cpu_share


def test_the_table_reports_each_variant_and_the_share_gains() -> None:
    def row(p50: float) -> dict[str, float]:
        return {"p50": p50, "llm_busy_q": 1.0}

    results = {
        "rag_rerank": {
            "8": {
                "eager": row(4.0),
                "eager+share": row(2.0),
                "optimized": row(3.0),
                "optimized+share": row(1.0),
            }
        }
    }
    text = cpu_share.table(results, [1, 8])
    lines = text.splitlines()
    assert lines[2].startswith(
        "| rag_rerank | 8 | 4.00 s | 2.00 s | 3.00 s | 1.00 s | 2.00x | 3.00x | 4.00x |"
    )
    assert "- median optimized+share vs eager (no share): 4.00x" in text
    assert len([ln for ln in lines if ln.startswith("| rag_rerank")]) == 1  # c=1 was not measured
