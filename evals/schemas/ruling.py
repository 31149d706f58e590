"""The README's custom schema, for the fixture beside it (``schema: ruling:Ruling``)."""

from pydantic import BaseModel

import factkit


class Ruling(BaseModel):
    judge: str
    decision: str
    evidence: factkit.Evidence  # asked of the model as an exact quote, returned with offsets
