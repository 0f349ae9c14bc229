"""Multi-branch: two independent retrievals (the library reference and a collection of notes) and
an LLM classification of the question, joined for the answer.

Written one step after another; the optimizer sees that the three branches do not depend on each
other and runs them at once.

    python examples/multi_branch.py
"""

from __future__ import annotations

from typing import Any

import anyio

import ayo_trace as ayo
from ayo_trace.corpus import stdlib_passages
from ayo_trace.demo import show_graphs

REFERENCE = "example_reference"
NOTES = "example_notes"
CLASSIFY = (
    "Classify each question as files, text, data or processes.\n"
    "Question: How do I start a program and wait for it?\nTopic: processes\n"
    "Question: How do I read a CSV file?\nTopic: data\n"
)
EXAMPLE = "Question: How do I capitalize every word in a string?\nAnswer: Use string.capwords(s).\n\n"

NOTE_TEXTS = [
    "Prefer pathlib.Path over os.path: Path('a') / 'b' joins paths and Path.read_text() reads a file.",
    "json.dumps(obj, indent=2) makes JSON readable; json.loads(text) turns a JSON string back into objects.",
    "shutil.copytree(src, dst) copies a whole directory; shutil.rmtree(path) deletes one.",
    "subprocess.run(args, capture_output=True, text=True) runs a program and returns its output.",
]


@ayo.workflow
async def answer(question: str) -> str:
    reference = await ayo.search(question, collection=REFERENCE, top_k=2)
    notes = await ayo.search(question, collection=NOTES, top_k=1)
    topic = await ayo.llm(f"{CLASSIFY}Question: {question}\nTopic:", max_tokens=4, stop="\n")
    context = "\n".join(h.text for h in reference + notes)
    prompt = (
        f"{EXAMPLE}Topic: {topic.strip()}\nPython documentation:\n{context}\n\nQuestion: {question}\nAnswer:"
    )
    return await ayo.llm(prompt, max_tokens=24, stop="\n")


CORPUS = ("json", "pathlib", "shutil", "subprocess")
SMALL_CORPUS = ("fnmatch", "glob")
INPUTS: dict[str, Any] = {"question": "How do I copy a directory with everything in it?"}
SMALL_INPUTS: dict[str, Any] = {"question": "How do I find every file whose name ends in .txt?"}


async def prepare(small: bool = False) -> None:
    """Store the reference (docstrings) and the notes (idempotent: a second run adds nothing)."""
    passages = stdlib_passages(modules=SMALL_CORPUS if small else CORPUS)
    await ayo.ingest([p.document for p in passages], collection=REFERENCE)
    await ayo.ingest(NOTE_TEXTS, collection=NOTES)


async def run(small: bool = False) -> str:
    inputs = SMALL_INPUTS if small else INPUTS
    await prepare(small)
    show_graphs(answer, **inputs)
    reply = await answer(**inputs)
    print(f"question: {inputs['question']}\nanswer: {reply.strip()}")
    return reply


def main() -> None:
    anyio.run(run)


if __name__ == "__main__":
    main()
