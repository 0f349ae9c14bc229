"""Random programs with control flow and parallel constructs: the generator of ``programs.py``
extended with loops with ``break``/``continue``, ``while`` loops, ``try``/``except``, ``gather``,
tuple-target loops and comprehensions, loops whose iterations depend on each other, ``match`` and
effects inside loop bodies. Every statement these kinds add must trace
whole (no graph break)."""

from __future__ import annotations

from hypothesis import strategies as st

from .programs import HEADER, KINDS, statement

CONTROL_HEADER = HEADER.replace("import ayo_trace as ayo\n", "import asyncio\n\nimport ayo_trace as ayo\n")

CONTROL_KINDS = [
    "loop_break",
    "while",
    "try",
    "gather",
    "gather_map",
    "enumerate_loop",
    "effect_loop",
    "match",
    "carry_loop",
    "tuple_comp",
]


def control_statement(kind: str, i: int, pick: int, scope: dict[str, list[str]], coll: int) -> list[str]:
    """Lines for statement ``i`` of a control kind (or of a ``programs.py`` kind)."""
    if kind not in CONTROL_KINDS:
        return statement(kind, i, pick, scope, coll)

    def var(t: str) -> str:
        names = scope[t]
        return names[pick % len(names)]

    s, lst = var("s"), var("l")
    c = f"c{coll}"
    if kind == "loop_break":
        scope["s"].append(f"s{i}")
        return [
            f"    s{i} = {s}",
            f"    for item in {lst}:",
            '        r = await ayo.llm(f"Check {item}", max_tokens=3)',
            "        if len(r) % 3 == 0:",
            "            continue",
            f"        s{i} = r",
            "        if len(r) % 2 == 0:",
            "            break",
            "    else:",
            f'        s{i} = s{i} + " (all)"',
        ]
    if kind == "while":
        scope["s"].append(f"s{i}")
        return [
            f"    s{i} = {s}",
            f"    n{i} = 0",
            f"    while len(s{i}) < 60 and n{i} < 3:",
            f'        s{i} += await ayo.llm(f"More: {{s{i}[-10:]}}", max_tokens=3)',
            f"        n{i} += 1",
        ]
    if kind == "try":
        scope["s"].append(f"s{i}")
        return [
            "    try:",
            f'        s{i} = await ayo.llm(f"Risky {{{s}}}", max_tokens=4)',
            f"        if len(s{i}) % 2:",
            f"            raise ValueError(s{i}[:5])",
            "    except ValueError as e:",
            f'        s{i} = f"caught {{e}}"',
        ]
    if kind == "gather":
        scope["s"].append(f"s{i}")
        return [
            f"    a{i}, b{i} = await asyncio.gather(",
            f'        ayo.llm(f"A {{{s}}}", max_tokens=3), ayo.llm(f"B {{{s}}}", max_tokens=3)',
            "    )",
            f"    s{i} = a{i} + b{i}",
        ]
    if kind == "gather_map":
        scope["l"].append(f"l{i}")
        return [f'    l{i} = await asyncio.gather(*(ayo.llm(f"G {{x}}", max_tokens=3) for x in {lst}))']
    if kind == "enumerate_loop":
        scope["l"].append(f"l{i}")
        return [
            f"    l{i} = []",
            f"    for k, (a, b) in enumerate(zip({lst}, {lst}[1:], strict=False)):",
            f'        l{i}.append(await ayo.llm(f"{{k}} {{a}} {{b}}", max_tokens=3))',
        ]
    if kind == "match":
        scope["s"].append(f"s{i}")
        return [
            f"    match len({s}) % 3, {s}[:1]:",
            "        case (0, _):",
            f'            s{i} = await ayo.llm(f"Zero {{{s}}}", max_tokens=3)',
            "        case (1, first) if first.isalpha():",
            f'            s{i} = "one " + first',
            "        case _:",
            f'            s{i} = await ayo.llm(f"Other {{{s}}}", max_tokens=4)',
        ]
    if kind == "carry_loop":
        scope["s"].append(f"s{i}")
        return [
            f"    s{i} = {s}[:8]",
            f"    for item in {lst}:",
            f'        s{i} = await ayo.llm(f"Merge {{s{i}}} with {{item}}", max_tokens=3)',
        ]
    if kind == "tuple_comp":
        scope["l"].append(f"l{i}")
        return [f'    l{i} = [await ayo.llm(f"{{n}}. {{x}}", max_tokens=3) for n, x in enumerate({lst})]']
    scope["l"].append(f"l{i}")
    return [
        f"    l{i} = []",
        f"    for item in {lst}:",
        f'        await ayo.ingest([item], collection="{c}")',
        f'        hits = await ayo.search(item, collection="{c}", top_k=3)',
        f"        l{i}.append(str(len(hits)))",
        "        if len(hits) > 2:",
        "            break",
    ]


def control_program_source(spec: list[tuple[str, int, int]]) -> str:
    scope: dict[str, list[str]] = {"s": ["question"], "l": ["docs"], "h": ["h_init"]}
    lines = [CONTROL_HEADER.format(passes=""), '    await ayo.ingest(docs, collection="c0")']
    lines.append('    h_init = await ayo.search(question, collection="c0", top_k=2)')
    for i, (kind, pick, coll) in enumerate(spec):
        lines += control_statement(kind, i, pick, scope, coll)
    ret = ", ".join([scope["s"][-1], scope["l"][-1], f"[x.text for x in {scope['h'][-1]}]", "strs"])
    lines.append(f"    return ({ret})")
    return "\n".join(lines) + "\n"


control_programs = st.lists(
    st.tuples(st.sampled_from(CONTROL_KINDS + KINDS), st.integers(0, 7), st.integers(0, 1)),
    min_size=1,
    max_size=6,
).filter(lambda spec: any(kind in CONTROL_KINDS for kind, _, _ in spec))
