"""Who hears of a workflow transition and what they are told (R-WF-5: each non-final
transition notifies the next actor, in-app and by SMS; R-WF-3: an event waiting for manual
dispatch reminds the dispatchers; R-SUP-6: reminders before deadlines).

Pure data: the service works out the recipients (the users acting for a unit or
department) and writes the notifications and the SMS outbox rows.
"""

from dataclasses import dataclass
from enum import StrEnum

from domain.supervision import ReminderKind
from domain.workflow import Action, State


class Audience(StrEnum):
    # Whoever holds the event's step after the transition (a new step's unit or department).
    HOLDER = "holder"
    # The level that reported the event: its grid and the grid's community, which verify it.
    ORIGINATOR = "originator"
    # The units an event is copied to (抄告).
    COPIED = "copied"
    # The superiors of the unit whose verification is appealed: they decide the appeal.
    APPEAL_DECIDERS = "appeal_deciders"
    # The unit or department that filed the appeal.
    APPELLANT = "appellant"


@dataclass(frozen=True)
class Notice:
    kind: str
    audience: Audience
    # The notification's title, and its text: `{service_no}` and `{title}` are filled in.
    title: str
    text: str

    def render(self, *, service_no: str, title: str) -> str:
        return self.text.format(service_no=service_no, title=title)


_ASSIGNED = Notice(
    "event_assigned",
    Audience.HOLDER,
    "待签收事件",
    "事件{service_no}《{title}》已派至本单位，请及时签收",
)
_DISPATCH = Notice(
    "event_dispatch",
    Audience.HOLDER,
    "待分派事件",
    "事件{service_no}《{title}》未匹配分流规则，请人工分派",
)

NOTICES: dict[Action, Notice] = {
    **{
        action: _ASSIGNED
        for action in (
            Action.DISPATCH,
            Action.ESCALATE,
            Action.ASSIGN,
            Action.DIVERT,
            Action.RETURN,
            Action.VERIFY,
        )
    },
    Action.COMPLETE: Notice(
        "event_verify",
        Audience.ORIGINATOR,
        "待核查事件",
        "事件{service_no}《{title}》已办理完成，请核查",
    ),
    Action.COPY: Notice(
        "event_copied", Audience.COPIED, "抄告事件", "事件{service_no}《{title}》抄告本单位"
    ),
    Action.INSTRUCT: Notice(
        "event_instruction",
        Audience.HOLDER,
        "领导批示",
        "领导对事件{service_no}《{title}》作出批示",
    ),
    Action.SUPERVISE: Notice(
        "event_supervised",
        Audience.HOLDER,
        "督办事件",
        "事件{service_no}《{title}》被督办，请加快办理",
    ),
    Action.EXPEDITE: Notice(
        "event_expedited",
        Audience.HOLDER,
        "加急事件",
        "事件{service_no}《{title}》已加急，请优先办理",
    ),
    Action.APPEAL: Notice(
        "event_appeal",
        Audience.APPEAL_DECIDERS,
        "核查评价申诉",
        "事件{service_no}《{title}》的核查评价被申诉，请裁定",
    ),
    Action.DECIDE_APPEAL: Notice(
        "event_appeal_decided",
        Audience.APPELLANT,
        "申诉裁定",
        "事件{service_no}《{title}》的申诉已裁定",
    ),
}

REMINDERS: dict[ReminderKind, Notice] = {
    ReminderKind.ACCEPT_SOON: Notice(
        "remind_accept",
        Audience.HOLDER,
        "签收时限提醒",
        "事件{service_no}《{title}》即将超过签收时限，请及时签收",
    ),
    ReminderKind.HANDLE_SOON: Notice(
        "remind_handle",
        Audience.HOLDER,
        "办理时限提醒",
        "事件{service_no}《{title}》即将超过办理时限，请及时反馈",
    ),
}


def arrival_notice(state: State) -> Notice:
    """What the holder of a newly opened step is told: dispatch it by hand, or accept it."""
    return _DISPATCH if state == State.DISPATCH else _ASSIGNED


def notice_for(action: Action, target: State) -> Notice | None:
    """The notice a transition sends, if any. A transition that closes the event is final:
    nobody acts next."""
    if target == State.CLOSED:
        return None
    notice = NOTICES.get(action)
    if notice is _ASSIGNED:
        return arrival_notice(target)
    return notice
