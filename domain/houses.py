"""The field rules of houses and rentals (R-HOUSE-1, R-HOUSE-2): the request schemas and the
import templates both read a house's or a rental's values by these types."""

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field

# Optional text fields may be sent as null to clear them.
Text20 = Annotated[str | None, Field(min_length=1, max_length=20)]
Text32 = Annotated[str | None, Field(min_length=1, max_length=32)]
Text50 = Annotated[str | None, Field(min_length=1, max_length=50)]
Text100 = Annotated[str | None, Field(min_length=1, max_length=100)]
AddressText = Annotated[str | None, Field(min_length=1, max_length=300)]
HouseNo = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S+$")]
PersonName = Annotated[str, Field(min_length=1, max_length=100)]
IdNumber = Annotated[
    str | None,
    Field(min_length=5, max_length=32, pattern=r"^[0-9A-Za-z\-]+$"),
    AfterValidator(lambda v: v.upper() if v else v),
]
Phone = Annotated[str | None, Field(min_length=5, max_length=20, pattern=r"^\+?[0-9][0-9\- ]+$")]
Area = Annotated[Decimal | None, Field(gt=0, max_digits=10, decimal_places=2)]
Rooms = Annotated[int | None, Field(gt=0, le=10_000)]
