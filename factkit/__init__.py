"""factkit: typed, grounded summaries and fact records from article text.

>>> import factkit
>>> result = factkit.extract(text, published="2018-01-26")  # doctest: +SKIP
>>> for fact in result.facts:  # doctest: +SKIP
...     print(fact.statement, fact.evidence.start, fact.evidence.end)
"""

from __future__ import annotations

import logging

from ._api import Extractor, extract, summarize
from ._config import Settings, resolve_settings
from ._errors import (
    BudgetError,
    ConfigError,
    FactkitError,
    InputError,
    ModelCrashError,
    ModelError,
    ModelInterrupted,
    ModelTimeoutError,
    OutputError,
    StorageError,
    TransportError,
    UsageError,
)
from ._models import (
    CallUsage,
    CustomExtraction,
    DateMention,
    Entity,
    Evidence,
    Extraction,
    Fact,
    KeyPoint,
    Quantity,
    Quote,
    Rejected,
    Span,
    Summary,
    Usage,
)
from .batch import BatchFailure, BatchInput, BatchRecord
from .checker import Verdict, verify

__version__ = "0.1.0"

__all__ = [
    "BatchFailure",
    "BatchInput",
    "BatchRecord",
    "BudgetError",
    "CallUsage",
    "ConfigError",
    "CustomExtraction",
    "DateMention",
    "Entity",
    "Evidence",
    "Extraction",
    "Extractor",
    "Fact",
    "FactkitError",
    "InputError",
    "KeyPoint",
    "ModelCrashError",
    "ModelError",
    "ModelInterrupted",
    "ModelTimeoutError",
    "OutputError",
    "Quantity",
    "Quote",
    "Rejected",
    "Settings",
    "Span",
    "StorageError",
    "Summary",
    "TransportError",
    "Usage",
    "UsageError",
    "Verdict",
    "__version__",
    "extract",
    "resolve_settings",
    "summarize",
    "verify",
]

logging.getLogger("factkit").addHandler(logging.NullHandler())
