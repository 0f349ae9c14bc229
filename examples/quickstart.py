"""The README's first snippet, as a complete program: retrieval-augmented answering on the offline
defaults (the shipped base model is prompted completion-style, with an example and a stop string)."""

import anyio

import ayo_trace as ayo

DOCS = [
    "json.dumps(obj) serializes obj to a JSON formatted str.",
    "json.loads(s) deserializes a str holding a JSON document to a Python object.",
    "os.path.join(a, *p) joins one or more path segments intelligently.",
    "shutil.copy(src, dst) copies the file src to the file or directory dst.",
]
EXAMPLE = "Context:\n- len(s) returns the number of items of s.\nQuestion: What does len do?\nAnswer: It counts items.\n\n"


@ayo.workflow
async def answer(question: str, docs: list[str]) -> str:
    await ayo.ingest(docs, collection="quickstart")
    queries = await ayo.llm(f"Write three search queries for: {question}\n1.", parse=ayo.lines, max_tokens=32)
    hits = [await ayo.search(q, collection="quickstart", top_k=2) for q in queries[:3]]
    best = await ayo.rerank(question, [h for per_query in hits for h in per_query], top_k=2)
    context = "\n".join(f"- {h.text}" for h in best)
    return await ayo.llm(
        f"{EXAMPLE}Context:\n{context}\nQuestion: {question}\nAnswer:", max_tokens=32, stop="\n"
    )


async def main() -> None:
    print(answer.graph("q", DOCS))  # the traced graph, one node per line
    print(answer.graph("q", DOCS, optimized=True))  # after the optimization passes
    print(await answer("What does json.dumps do?", DOCS))  # runs it on the default engines


if __name__ == "__main__":
    anyio.run(main)
