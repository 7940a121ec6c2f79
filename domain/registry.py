"""Record life cycle shared by every registry (SPEC §3): records are never hard-deleted once
referenced; they are deregistered (注销) or unfollowed (取消关注) with a reason and a time, and
can be restored (恢复 / 重新关注) with the history kept."""

from enum import StrEnum


class Status(StrEnum):
    ACTIVE = "active"
    DEREGISTERED = "deregistered"


class FollowStatus(StrEnum):
    FOLLOWED = "followed"
    UNFOLLOWED = "unfollowed"
