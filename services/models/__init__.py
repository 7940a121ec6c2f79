"""ORM models; importing this package registers every table on `Base.metadata`."""

from services.models.api_keys import ApiKey, ApiKeySecret, WebhookAttempt, WebhookSubscription
from services.models.assessment import Finding, Review, RuleItem, RuleSet
from services.models.attachments import EventAttachment, Upload
from services.models.audit import AuditEntry
from services.models.auth import Permission, RefreshToken, Role, RolePermission, User, UserRole
from services.models.base import Base
from services.models.board import BoardVersion
from services.models.calendar import CalendarDay
from services.models.citizens import CitizenSubmission, HotlineCall, HotlineCaller
from services.models.daily import LedgerEntry, PeriodicReport
from services.models.events import Event, EventAction, EventStep
from services.models.field_work import CheckIn, Handbook, SyncOperation, TrackPoint, VisitLog
from services.models.houses import Address, House, Rental
from services.models.idempotency import IdempotencyRecord
from services.models.imports import (
    Comparison,
    ComparisonLine,
    Import,
    ImportClaim,
    ImportRejection,
    ImportRow,
)
from services.models.map_cells import MapCell
from services.models.notices import Notice
from services.models.open311 import Open311Request
from services.models.org import Department, OrgUnit, OrgUnitVersion
from services.models.people import (
    Family,
    FamilyMember,
    Household,
    HouseholdMember,
    Person,
    PersonCount,
)
from services.models.places import (
    Component,
    JurisdictionProfile,
    Organisation,
    Place,
    PlaceKindEntry,
    ServiceRecord,
    Team,
    TeamMember,
    VideoPoint,
)
from services.models.positions import WorkerPosition
from services.models.reference import ReferenceStamp
from services.models.registry import StatusChange
from services.models.routing import EventAppeal, OutboxMessage, RoutingRule, StepReminder
from services.models.supervision import LedgerLine, Supervision
from services.models.tags import Notification, PersonTag, SystemSetting

__all__ = [
    "Address",
    "ApiKey",
    "ApiKeySecret",
    "AuditEntry",
    "Base",
    "BoardVersion",
    "CalendarDay",
    "CheckIn",
    "CitizenSubmission",
    "Comparison",
    "ComparisonLine",
    "Component",
    "Department",
    "Event",
    "EventAction",
    "EventAppeal",
    "EventAttachment",
    "EventStep",
    "Family",
    "FamilyMember",
    "Finding",
    "Handbook",
    "HotlineCall",
    "HotlineCaller",
    "House",
    "Household",
    "HouseholdMember",
    "IdempotencyRecord",
    "Import",
    "ImportClaim",
    "ImportRejection",
    "ImportRow",
    "JurisdictionProfile",
    "LedgerEntry",
    "LedgerLine",
    "MapCell",
    "Notice",
    "Notification",
    "Open311Request",
    "OrgUnit",
    "OrgUnitVersion",
    "Organisation",
    "OutboxMessage",
    "PeriodicReport",
    "Permission",
    "Person",
    "PersonCount",
    "PersonTag",
    "Place",
    "PlaceKindEntry",
    "ReferenceStamp",
    "RefreshToken",
    "Rental",
    "Review",
    "Role",
    "RolePermission",
    "RoutingRule",
    "RuleItem",
    "RuleSet",
    "ServiceRecord",
    "StatusChange",
    "StepReminder",
    "Supervision",
    "SyncOperation",
    "SystemSetting",
    "Team",
    "TeamMember",
    "TrackPoint",
    "Upload",
    "User",
    "UserRole",
    "VideoPoint",
    "VisitLog",
    "WebhookAttempt",
    "WebhookSubscription",
    "WorkerPosition",
]
