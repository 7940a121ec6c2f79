"""The public's own door (R-CIT-1): citizens submit problems and suggestions without an
account and follow them with the receipt code. These are the only writes open to anyone;
every call is throttled per client address (api.deps.public_ctx)."""

from typing import Annotated

from fastapi import APIRouter, Path, status

from api.deps import PublicCtx
from api.registry_routes import located
from api.schemas.citizens import ProgressOut, RatingIn, SubmissionIn, SubmittedOut
from api.schemas.common import problem_responses
from domain.coords import Crs
from services import citizens

router = APIRouter(prefix="/api/v1/public", tags=["public"], responses=problem_responses(429))
Receipt = Annotated[str, Path(max_length=32, examples=["7K2QD-MX9TB"])]


@router.post("/submissions", status_code=status.HTTP_201_CREATED, response_model=SubmittedOut)
async def submit(body: SubmissionIn, ctx: PublicCtx, crs: Crs = Crs.WGS84) -> SubmittedOut:
    """File a problem or suggestion at a point on the map; it becomes an event in the normal
    workflow. The answer carries the receipt code, shown this once."""
    values = located(body.model_dump(), crs)
    return SubmittedOut.model_validate(await citizens.submit(ctx, values))


@router.get("/submissions/{receipt}", response_model=ProgressOut)
async def progress(receipt: Receipt, ctx: PublicCtx) -> ProgressOut:
    """Where the submission stands, its timeline and the reply (nobody's personal data)."""
    return ProgressOut.model_validate(await citizens.progress(ctx, receipt))


@router.post("/submissions/{receipt}/rating", response_model=ProgressOut)
async def rate(receipt: Receipt, body: RatingIn, ctx: PublicCtx) -> ProgressOut:
    """The citizen's satisfaction with the answer, once it was handled; once only."""
    data = await citizens.rate(ctx, receipt, satisfaction=body.satisfaction, comment=body.comment)
    return ProgressOut.model_validate(data)
