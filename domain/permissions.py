"""The permission catalogue and the shipped role → permission grants (R-ORG-3).

Permissions are data: the migration loads these rows, administrators may change the grants,
and every route names the one permission it needs.
"""

from enum import StrEnum


class Perm(StrEnum):
    SELF_READ = "self:read"
    ORG_READ = "org:read"
    ORG_WRITE = "org:write"
    GRID_READ = "grid:read"
    GRID_WRITE = "grid:write"
    DEPARTMENT_READ = "department:read"
    DEPARTMENT_WRITE = "department:write"
    USER_READ = "user:read"
    USER_WRITE = "user:write"
    ROLE_READ = "role:read"
    AUDIT_READ = "audit:read"
    PII_READ = "pii:read"
    PII_REVEAL = "pii:reveal"
    NOTIFICATION_READ = "notification:read"
    POPULATION_READ = "population:read"
    POPULATION_WRITE = "population:write"
    HOUSE_READ = "house:read"
    HOUSE_WRITE = "house:write"
    TAG_READ = "tag:read"
    TAG_WRITE = "tag:write"
    PLACE_READ = "place:read"
    PLACE_WRITE = "place:write"
    TEAM_READ = "team:read"
    TEAM_WRITE = "team:write"
    MAP_READ = "map:read"
    DATA_EXPORT = "data:export"
    DATA_IMPORT = "data:import"
    DATA_CLAIM = "data:claim"
    SETTING_WRITE = "setting:write"
    EVENT_READ = "event:read"
    EVENT_REPORT = "event:report"
    EVENT_HANDLE = "event:handle"
    EVENT_SUPERVISE = "event:supervise"
    ASSESSMENT_READ = "assessment:read"
    ASSESSMENT_WRITE = "assessment:write"
    ASSESSMENT_REVIEW = "assessment:review"
    ROUTING_WRITE = "routing:write"
    HOTLINE_WRITE = "hotline:write"
    POSITION_REPORT = "position:report"
    ATTACHMENT_UPLOAD = "attachment:upload"
    API_KEY_MANAGE = "api_key:manage"
    VISIT_READ = "visit:read"
    VISIT_WRITE = "visit:write"
    TRACK_READ = "track:read"
    HANDBOOK_READ = "handbook:read"
    HANDBOOK_WRITE = "handbook:write"
    NOTICE_WRITE = "notice:write"
    DAILY_READ = "daily:read"
    DAILY_WRITE = "daily:write"


class Role(StrEnum):
    GRID_WORKER = "grid_worker"
    GRID_LEADER = "grid_leader"
    COMMUNITY_STAFF = "community_staff"
    STREET_OPERATOR = "street_operator"
    DISTRICT_OPERATOR = "district_operator"
    DEPARTMENT_HANDLER = "department_handler"
    LEADER = "leader"
    ADMIN = "admin"
    AUDITOR = "auditor"


ROLE_NAMES: dict[Role, str] = {
    Role.GRID_WORKER: "网格员",
    Role.GRID_LEADER: "网格长",
    Role.COMMUNITY_STAFF: "社区工作人员",
    Role.STREET_OPERATOR: "街道受理中心",
    Role.DISTRICT_OPERATOR: "区县指挥中心",
    Role.DEPARTMENT_HANDLER: "职能部门办理人",
    Role.LEADER: "领导",
    Role.ADMIN: "系统管理员",
    Role.AUDITOR: "审计员",
}

_READ_ORG = {Perm.SELF_READ, Perm.ORG_READ, Perm.GRID_READ, Perm.DEPARTMENT_READ}
_READ_REGISTRIES = {
    Perm.POPULATION_READ,
    Perm.HOUSE_READ,
    Perm.TAG_READ,
    Perm.PLACE_READ,
    Perm.TEAM_READ,
    Perm.MAP_READ,
}
_WRITE_REGISTRIES = {
    Perm.POPULATION_WRITE,
    Perm.HOUSE_WRITE,
    Perm.TAG_WRITE,
    Perm.PLACE_WRITE,
    Perm.TEAM_WRITE,
}
_EVENTS = {Perm.EVENT_READ, Perm.EVENT_REPORT, Perm.EVENT_HANDLE, Perm.ATTACHMENT_UPLOAD}
_OPERATIONAL = (
    _READ_ORG
    | _READ_REGISTRIES
    | _WRITE_REGISTRIES
    | _EVENTS
    | {
        Perm.PII_REVEAL,
        Perm.NOTIFICATION_READ,
        Perm.DATA_EXPORT,
        Perm.DATA_CLAIM,
        Perm.VISIT_READ,
        Perm.HANDBOOK_READ,
        Perm.DAILY_READ,
        Perm.DATA_CLAIM,
    }
)

# Who walks the grid with the mobile app, reports where they are (R-MAP-1 layer) and keeps
# the visit log (R-MOB-1).
_FIELD = _OPERATIONAL | {Perm.POSITION_REPORT, Perm.VISIT_WRITE}
# Who keeps the periodic reports and ledgers (R-DAY-1, R-DAY-2) and follows the workers'
# tracks (R-CMD-1).
_OFFICE = {Perm.DAILY_WRITE, Perm.TRACK_READ, Perm.NOTICE_WRITE}

ROLE_GRANTS: dict[Role, frozenset[Perm]] = {
    Role.GRID_WORKER: frozenset(_FIELD),
    Role.GRID_LEADER: frozenset(_FIELD),
    Role.COMMUNITY_STAFF: frozenset(
        _OPERATIONAL | _OFFICE | {Perm.USER_READ, Perm.ASSESSMENT_READ, Perm.ASSESSMENT_REVIEW}
    ),
    Role.STREET_OPERATOR: frozenset(
        _OPERATIONAL
        | _OFFICE
        | {
            Perm.USER_READ,
            Perm.EVENT_SUPERVISE,
            Perm.ASSESSMENT_READ,
            Perm.ASSESSMENT_REVIEW,
            Perm.ROUTING_WRITE,
            Perm.HOTLINE_WRITE,
        }
    ),
    Role.DISTRICT_OPERATOR: frozenset(
        _OPERATIONAL
        | _OFFICE
        | {
            Perm.USER_READ,
            Perm.GRID_WRITE,
            Perm.DATA_IMPORT,
            Perm.EVENT_SUPERVISE,
            Perm.ASSESSMENT_READ,
            Perm.ASSESSMENT_WRITE,
            Perm.ASSESSMENT_REVIEW,
            Perm.ROUTING_WRITE,
            Perm.HOTLINE_WRITE,
        }
    ),
    # R-JUR-2: departments see the events dispatched to them, never the whole registry.
    Role.DEPARTMENT_HANDLER: frozenset(
        _READ_ORG
        | {
            Perm.NOTIFICATION_READ,
            Perm.EVENT_READ,
            Perm.EVENT_HANDLE,
            Perm.ATTACHMENT_UPLOAD,
            Perm.HANDBOOK_READ,
            Perm.ASSESSMENT_REVIEW,
        }
    ),
    Role.LEADER: frozenset(
        _READ_ORG
        | _READ_REGISTRIES
        | {
            Perm.USER_READ,
            Perm.NOTIFICATION_READ,
            Perm.DATA_EXPORT,
            Perm.EVENT_READ,
            Perm.EVENT_SUPERVISE,
            Perm.ASSESSMENT_READ,
            Perm.TRACK_READ,
            Perm.HANDBOOK_READ,
            Perm.DAILY_READ,
            Perm.ASSESSMENT_REVIEW,
        }
    ),
    Role.ADMIN: frozenset(Perm),
    Role.AUDITOR: frozenset(
        _READ_ORG
        | _READ_REGISTRIES
        | {
            Perm.USER_READ,
            Perm.ROLE_READ,
            Perm.AUDIT_READ,
            Perm.ASSESSMENT_READ,
            Perm.DAILY_READ,
        }
    ),
}

PERMISSION_DESCRIPTIONS: dict[Perm, str] = {
    Perm.SELF_READ: "查看本人信息",
    Perm.ORG_READ: "查看组织机构",
    Perm.ORG_WRITE: "维护组织机构",
    Perm.GRID_READ: "查看网格",
    Perm.GRID_WRITE: "维护网格（新建、调整、合并、拆分、删除）",
    Perm.DEPARTMENT_READ: "查看职能部门",
    Perm.DEPARTMENT_WRITE: "维护职能部门",
    Perm.USER_READ: "查看用户",
    Perm.USER_WRITE: "维护用户与角色",
    Perm.ROLE_READ: "查看角色与权限",
    Perm.AUDIT_READ: "查看与校验审计日志",
    Perm.PII_READ: "查看完整敏感信息",
    Perm.PII_REVEAL: "按需查看单条记录敏感信息（须说明理由）",
    Perm.NOTIFICATION_READ: "查看站内通知",
    Perm.POPULATION_READ: "查看实有人口、户籍家庭",
    Perm.POPULATION_WRITE: "维护实有人口、户籍家庭",
    Perm.HOUSE_READ: "查看实有房屋、出租房、标准地址",
    Perm.HOUSE_WRITE: "维护实有房屋、出租房、标准地址",
    Perm.TAG_READ: "查看业务人员（重点人口、关怀对象等）",
    Perm.TAG_WRITE: "维护业务人员（关注、取消关注）",
    Perm.PLACE_READ: "查看组织场所、城市部件、视频点位",
    Perm.PLACE_WRITE: "维护组织场所、城市部件、视频点位",
    Perm.TEAM_READ: "查看服务团队与辖区信息",
    Perm.TEAM_WRITE: "维护服务团队与辖区信息",
    Perm.MAP_READ: "地图范围查询与矢量瓦片",
    Perm.DATA_EXPORT: "导出列表数据",
    Perm.DATA_IMPORT: "导入数据与数据比对（区县级）",
    Perm.DATA_CLAIM: "认领导入池中的数据",
    Perm.SETTING_WRITE: "修改系统设置",
    Perm.EVENT_READ: "查看事件",
    Perm.EVENT_REPORT: "上报事件",
    Perm.EVENT_HANDLE: "办理事件（签收、反馈、办结、上报、交办、回退、抄告、分流、核查）",
    Perm.EVENT_SUPERVISE: "督办事件（加急、批示、历史遗留、典型案例）",
    Perm.ASSESSMENT_READ: "查看考核扣分台账",
    Perm.ASSESSMENT_WRITE: "维护考核细则",
    Perm.ASSESSMENT_REVIEW: "考核自评与对直属下级评分",
    Perm.ROUTING_WRITE: "维护事件自动分流规则",
    Perm.HOTLINE_WRITE: "热线登记与回访",
    Perm.POSITION_REPORT: "上报本人当前位置（移动端）",
    Perm.ATTACHMENT_UPLOAD: "上传事件附件（照片、音频、视频、文档）",
    Perm.API_KEY_MANAGE: "管理第三方接口密钥与事件推送订阅",
    Perm.VISIT_READ: "查看民情日记",
    Perm.VISIT_WRITE: "记录民情日记（移动端）",
    Perm.TRACK_READ: "回放网格员轨迹",
    Perm.HANDBOOK_READ: "阅读工作手册",
    Perm.HANDBOOK_WRITE: "维护工作手册",
    Perm.NOTICE_WRITE: "发布通知公告（本单位及下级，或指定人员）",
    Perm.DAILY_READ: "查看日常工作报表与台账",
    Perm.DAILY_WRITE: "填报日常工作报表与台账（上级可修正下级数据）",
}
