"""The demo city's synthetic population (issue item 10): standard addresses, houses, rentals,
people, households and business tags — with the neighbourhoods' organisations, key places,
city components, cameras and each grid's service team — inside the grids of a unit,
bulk-loaded with COPY.

Generation runs block by block — at most BLOCK_PEOPLE people of one grid with their own
addresses, houses and households — and rows are flushed every `batch_size` people, so memory
stays flat whatever the population. The output is deterministic for a seed: every block draws
from its own random stream and ids come from those streams too.

PostgreSQL refuses `COPY FROM` into a table under row-level security for a role that does not
bypass it (the application role `grid_app`), so each batch is copied into a temporary staging
table without policies and moved with one `INSERT … SELECT`, which the policies check against
the system scope.
"""

import asyncio
import bisect
import math
import random
import sys
import time
import uuid
import zlib
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Any, NamedTuple, TypeVar

import orjson
import shapely
from faker.providers.person.zh_CN import Provider as ZhNames
from faker.providers.phone_number.zh_CN import Provider as ZhPhones
from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import uscc

from domain import addresses as address_rules
from domain.addresses import HazardLevel
from domain.id_numbers import Gender, check_char
from domain.org import Level
from domain.people import DocumentType, Kind, Relation, UnsettledReason, establish_identity
from domain.places import (
    COMPONENT_KINDS,
    AttentionLevel,
    ComponentCategory,
    ComponentCondition,
    OrganisationCategory,
    PlaceKind,
    TeamCategory,
    VideoSource,
)
from domain.principal import SYSTEM_SCOPE
from domain.tags import (
    DISABILITY_TYPES,
    ENTITLED_TYPES,
    KINDS,
    YOUTH_TYPES,
    TagKind,
    age_on,
)
from services import audit, org_units
from services.context import Ctx
from services.db import make_engine, set_scope
from services.models import OrgUnit, Person

DEFAULT_SEED = 20_260_101
BATCH_SIZE = 50_000
BLOCK_PEOPLE = 1_000

# --- vocabulary ----------------------------------------------------------------------------
# Word lists are space-separated; weighted choices are {value: weight}.


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


ROADS = _words(
    "人民东路 人民西路 解放北路 解放南路 西域大道 色满路 克孜都维路 吐曼路 帕米尔路 迎宾大道"
    " 世纪大道 深喀大道 天南路 东湖路 艾提尕尔路 吾斯塘博依路 欧尔达希克路 库木代尔瓦扎路"
    " 多来特巴格路 亚瓦格路 恰萨路 团结路 健康路 文化路 新城路 光明路 和谐路 幸福路 友谊路"
    " 建设路 滨河路 学府路"
)
# Uyghur given names in Chinese transliteration.
UYGHUR_MALE = _words(
    "买买提 艾力 阿不都热合曼 艾买提 吐尔逊 阿不都拉 依明 肉孜 热合曼 艾山 玉素甫 努尔买买提"
    " 阿迪力 亚森 喀迪尔 吾斯曼 阿不都热西提 麦麦提江 艾尔肯 伊力哈木 买合木提 阿里木 奥斯曼"
    " 居来提 卡哈尔 吐尔洪 塔依尔 托乎提 赛买提 努尔江 阿力甫 艾克拜尔 木合塔尔 热西提"
    " 阿布来提 吾买尔 沙吾提 艾合买提 斯拉木 帕尔哈提"
)
UYGHUR_FEMALE = _words(
    "阿依古丽 古丽娜尔 努尔 帕提古丽 热依拉 阿依努尔 古丽米拉 迪丽努尔 米热古丽 热娜 阿依夏木"
    " 布合丽其 祖丽皮亚 古再丽努尔 玛依拉 阿娜尔古丽 帕丽达 努尔古丽 海丽且木 阿依先木 吐尼莎"
    " 再努尔 茹仙古丽 乃菲莎 米娜瓦尔 佐拉 阿瓦古丽 古丽巴哈尔 迪丽拜尔 阿米娜 帕提曼 加米拉"
)
# Han and Hui names follow the Han pattern (surname + given name, Faker's zh_CN lists); the
# other groups use a transliterated given name with the father's: 阿依古丽·买买提.
HAN_NAMING = frozenset({"汉族", "回族"})
RESIDENT_ETHNICITIES = {
    "维吾尔族": 82.0, "汉族": 13.5, "回族": 1.3, "塔吉克族": 1.2, "柯尔克孜族": 0.8,
    "乌孜别克族": 0.6, "哈萨克族": 0.6,
}  # fmt: skip
FLOATING_ETHNICITIES = {"维吾尔族": 50.0, "汉族": 44.0, "回族": 4.0, "柯尔克孜族": 2.0}
# Division codes with their place names: registered residents are mostly born in the city; the
# floating come from the prefecture, the rest of Xinjiang and inland provinces.
HOME_REGION = "653101"
PLACES = {
    HOME_REGION: "新疆维吾尔自治区喀什市",
    "653121": "新疆维吾尔自治区喀什地区疏附县",
    "653122": "新疆维吾尔自治区喀什地区疏勒县",
    "653123": "新疆维吾尔自治区喀什地区英吉沙县",
    "653125": "新疆维吾尔自治区喀什地区莎车县",
    "653126": "新疆维吾尔自治区喀什地区叶城县",
    "653129": "新疆维吾尔自治区喀什地区伽师县",
    "653130": "新疆维吾尔自治区喀什地区巴楚县",
    "653131": "新疆维吾尔自治区喀什地区塔什库尔干塔吉克自治县",
    "653001": "新疆维吾尔自治区克孜勒苏柯尔克孜自治州阿图什市",
    "652901": "新疆维吾尔自治区阿克苏地区阿克苏市",
    "653201": "新疆维吾尔自治区和田地区和田市",
    "650102": "新疆维吾尔自治区乌鲁木齐市天山区",
    "650104": "新疆维吾尔自治区乌鲁木齐市新市区",
    "410102": "河南省郑州市中原区",
    "510104": "四川省成都市锦江区",
    "620102": "甘肃省兰州市城关区",
    "622901": "甘肃省临夏回族自治州临夏市",
}
REGISTERED_REGIONS = {HOME_REGION: 90.0, "653121": 3.0, "653122": 3.0, "653125": 2.0, "653129": 2.0}
FLOATING_REGIONS = {
    "653121": 10.0, "653122": 10.0, "653123": 6.0, "653125": 8.0, "653126": 5.0, "653129": 6.0,
    "653130": 4.0, "653131": 2.0, "653001": 4.0, "652901": 4.0, "653201": 4.0, "650102": 3.0,
    "650104": 3.0, "410102": 8.0, "510104": 7.0, "620102": 7.0, "622901": 5.0,
}  # fmt: skip
NATIONALITIES = {
    "PAK": 40.0, "KGZ": 15.0, "TJK": 12.0, "KAZ": 8.0, "UZB": 8.0, "AFG": 5.0, "RUS": 4.0,
    "TUR": 4.0, "IND": 2.0, "MNG": 2.0,
}  # fmt: skip
OVERSEAS_MALE = _words(
    "穆罕默德 阿里 哈桑 艾哈迈德 伊姆兰 乌斯曼 努尔兰 阿斯卡尔 达尼亚尔 法鲁赫 谢尔盖 安德烈"
    " 梅赫梅特 穆斯塔法 阿齐兹"
)
OVERSEAS_FEMALE = _words("法蒂玛 艾伊莎 扎伊娜布 古丽娜拉 阿丽娅 玛丽亚姆 娜塔莉娅 泽伊内普")
OVERSEAS_FAMILY = _words(
    "汗 拉希德 马利克 侯赛因 沙阿 乔杜里 托克托古洛夫 拉赫莫诺夫 努尔别科夫 卡里莫夫 伊万诺夫"
    " 耶尔马兹"
)
VISA_TYPES = ("商务签证(M)", "工作签证(Z)", "学习签证(X1)", "旅游签证(L)", "探亲签证(Q2)")

# Ages by 5-year band (lowest age: weight): household heads, and people who come alone.
HEAD_AGES = {
    20: 3.0, 25: 8.0, 30: 12.0, 35: 13.0, 40: 12.0, 45: 11.0, 50: 10.0, 55: 9.0, 60: 6.0,
    65: 5.0, 70: 3.5, 75: 2.5, 80: 1.2, 85: 0.5,
}  # fmt: skip
MIGRANT_AGES = {
    0: 3.0, 5: 3.0, 10: 2.0, 15: 5.0, 20: 18.0, 25: 18.0, 30: 15.0, 35: 12.0, 40: 9.0,
    45: 6.0, 50: 4.0, 55: 3.0, 60: 1.5, 65: 0.5,
}  # fmt: skip
# Share of each kind in a block (R-POP-1).
KIND_SHARES = {
    Kind.REGISTERED: 0.85,
    Kind.FLOATING: 0.10,
    Kind.UNSETTLED: 0.03,
    Kind.OVERSEAS: 0.02,
}

# Education of adults by generation: (highest age, {term: weight}).
EDUCATION_BY_GENERATION = (
    (35, {"小学": 5.0, "初中": 25.0, "高中": 18.0, "职业高中": 4.0, "中等专科": 8.0,
          "大学专科": 18.0, "大学本科": 20.0, "研究生": 2.0}),
    (59, {"小学": 20.0, "初中": 35.0, "高中": 18.0, "技工学校": 3.0, "中等专科": 8.0,
          "大学专科": 8.0, "大学本科": 7.0, "研究生": 1.0}),
    (200, {"文盲或半文盲": 25.0, "小学": 45.0, "初中": 20.0, "高中": 7.0, "大学专科": 2.0,
           "大学本科": 1.0}),
)  # fmt: skip
OCCUPATIONS = {
    "个体工商户": 14.0, "农民": 14.0, "企业职工": 14.0, "教师": 5.0, "医护人员": 4.0,
    "公务员": 3.0, "事业单位职工": 4.0, "司机": 6.0, "建筑工人": 8.0, "餐饮服务人员": 8.0,
    "商贩": 8.0, "手工艺人": 5.0, "保安": 3.0, "快递员": 3.0, "自由职业": 5.0,
}  # fmt: skip
EMPLOYERS = {
    "教师": "喀什市第一中学 喀什市第六中学 喀什市第十小学 喀什市第二十八中学 喀什大学"
    " 喀什市第三幼儿园",
    "医护人员": "喀什地区第一人民医院 喀什地区第二人民医院 喀什市人民医院 喀什地区维吾尔医医院"
    " 喀什市恰萨街道社区卫生服务中心",
    "公务员": "喀什市人民政府 喀什市公安局 喀什市民政局 喀什市市场监督管理局"
    " 喀什市住房和城乡建设局",
    "事业单位职工": "喀什市自来水公司 喀什市广播电视台 喀什市图书馆 喀什市博物馆",
    "企业职工": "新疆喀什农村商业银行 喀什远方物流有限公司 喀什古城旅游发展有限公司"
    " 中国移动喀什分公司 喀什市热力有限公司 喀什经济开发区纺织有限公司",
}
STAY_REASONS = {"务工": 55.0, "经商": 25.0, "投靠亲友": 8.0, "就学": 6.0, "就医": 3.0, "其他": 3.0}
NO_HOUSE_REASONS = {
    Kind.REGISTERED: ("借住亲友家", "房屋拆迁过渡安置", "人户分离，现住址不详"),
    Kind.FLOATING: ("居住在单位宿舍", "居住在工地工棚"),
    Kind.UNSETTLED: ("借住亲友家",),
    Kind.OVERSEAS: ("居住在宾馆酒店",),
}
HOUSE_USES = {"住宅": 85.0, "商住两用": 12.0, "经营": 3.0}
COURTYARD_STRUCTURES = {"砖木结构": 50.0, "土木结构": 20.0, "砖混结构": 30.0}
APARTMENT_STRUCTURES = {"砖混结构": 45.0, "框架结构": 55.0}
RENTAL_NATURES = {"整租": 70.0, "合租": 20.0, "单间出租": 10.0}
RENTAL_CATEGORIES = {"住宅出租": 85.0, "商住出租": 12.0, "群租房": 3.0}
RENTAL_USES = {"居住": 85.0, "居住兼经营": 12.0, "经营": 3.0}
HAZARDS = {HazardLevel.NONE: 70.0, HazardLevel.LOW: 22.0, HazardLevel.MEDIUM: 6.0,
           HazardLevel.HIGH: 2.0}  # fmt: skip

# Business tags (SPEC §3.2). An adult (18–65) is a key person of one kind at this rate per kind.
KEY_PERSON_RATE = 0.008
ADULT_KEY_KINDS = (
    TagKind.RELEASED_PRISONER,
    TagKind.RELEASED_REEDUCATION,
    TagKind.COMMUNITY_CORRECTION,
    TagKind.DRUG_USER,
    TagKind.MENTAL_PATIENT,
    TagKind.KEY_PETITIONER,
    TagKind.DANGEROUS_GOODS_WORKER,
    TagKind.NEEDS_HELP,
    TagKind.VAGRANT,
    TagKind.KEY_OTHER,
)
KEY_YOUTH_RATE = 0.015
DISABLED_RATE = 0.025
ENTITLED_RATE = 0.004
UNEMPLOYED_RATE = 0.03
LOW_INCOME_RATE = 0.03

CRIMES = _words("盗窃罪 故意伤害罪 诈骗罪 抢劫罪 寻衅滋事罪 危险驾驶罪 交通肇事罪 贩卖毒品罪")
CORRECTION_TYPES = ("管制", "缓刑", "假释", "暂予监外执行", "剥夺政治权利")
DRUG_CAUSES = ("好奇", "交友不慎", "空虚无聊", "治疗疾病", "其他")
DRUG_SOURCES = ("朋友提供", "非法购买", "来源不详")
REHAB_STATUSES = ("社区戒毒", "社区康复", "强制隔离戒毒期满", "自愿戒毒", "戒断三年未复吸")
PETITION_REASONS = ("征地拆迁", "劳动社保", "涉法涉诉", "城乡建设", "民政救助", "医疗纠纷")
PETITION_CHANNELS = ("来访", "来信", "网上信访", "电话")
PETITION_FREQUENCIES = ("每月一次", "每季度一至两次", "每年数次", "不定期")
PETITION_LEVELS = ("县级", "地级", "省级", "国家级")
DANGEROUS_GOODS = _words("易燃易爆化学品 剧毒化学品 放射性物品 民用爆炸物品 成品油 液化石油气")
KEY_OTHER_REASONS = ("涉稳重点关注", "有暴力倾向", "长期无业游荡", "其他需关注情形")
DIFFICULTY_TYPES = ("低保户", "特困供养人员", "低收入家庭", "因病致贫", "因残致困", "临时困难")

# Organisations, key places, city components, video points and grid teams (SPEC §3.4, §2).
SHOP_PREFIXES = _words("古城 艾提尕尔 帕米尔 丝路 西域 香妃 天山 昆仑 吐曼河 克孜河 金胡杨 石榴花")
BUSINESSES = {
    "馕坑": ("个体工商户", "餐饮业"), "烤肉店": ("个体工商户", "餐饮业"),
    "干果店": ("个体工商户", "零售业"), "民族乐器店": ("个体工商户", "零售业"),
    "手工艺品店": ("个体工商户", "零售业"), "便民超市": ("个体工商户", "零售业"),
    "服装店": ("个体工商户", "零售业"), "五金店": ("个体工商户", "零售业"),
    "茶馆": ("个体工商户", "餐饮业"), "宾馆": ("私营企业", "住宿业"),
    "商贸有限公司": ("私营企业", "批发业"), "物流有限公司": ("私营企业", "交通运输业"),
    "建材有限公司": ("私营企业", "建筑业"), "纺织有限公司": ("私营企业", "制造业"),
    "农产品加工有限公司": ("私营企业", "制造业"), "进出口贸易有限公司": ("外资企业", "批发业"),
}  # fmt: skip
SOCIAL_GROUPS = {"老年协会": "社会团体", "志愿者协会": "社会团体", "民族团结互助会": "社区活动团体"}
HAZARDS_TEXT = ("储存液化石油气", "使用易燃溶剂", "存放少量危险化学品")
PLACE_SUBTYPES = {
    PlaceKind.PUBLIC_SECURITY: ("旅馆", "出租屋聚集区", "娱乐场所", "批发市场", "车站码头"),
    PlaceKind.FIRE_SAFETY: ("商场", "市场", "娱乐场所", "重点单位"),
    PlaceKind.OTHER: ("诊所", "燃气点", "加油点"),
}
PLACE_NAMES = {
    PlaceKind.WORK_SAFETY: ("加工厂", "建材市场", "仓储中心"),
    PlaceKind.PUBLIC_SECURITY: ("旅馆", "出租屋集中区", "KTV", "农贸批发市场", "客运站"),
    PlaceKind.FIRE_SAFETY: ("商场", "巴扎", "歌舞厅", "大酒店"),
    PlaceKind.SCHOOL_SURROUNDINGS: ("小学", "初级中学", "幼儿园"),
    PlaceKind.OTHER: ("诊所", "液化气供应点", "加油站"),
}
ATTENTION = {AttentionLevel.NORMAL: 70.0, AttentionLevel.MEDIUM: 22.0, AttentionLevel.SEVERE: 8.0}
# City components: kind (code letters, owner) and weight.
COMPONENTS = {
    "manhole_cover": (("JG", "喀什市城市管理局"), 40.0),
    "utility_pole": (("DG", "国网喀什供电公司"), 25.0),
    "fire_hydrant": (("XF", "喀什市消防救援大队"), 15.0),
    "bus_stop": (("GJ", "喀什市公共交通有限公司"), 10.0),
    "substation": (("BD", "国网喀什供电公司"), 3.0),
    "other": (("QT", "喀什市城市管理局"), 7.0),
}
CONDITIONS = {
    ComponentCondition.NORMAL: 90.0,
    ComponentCondition.DAMAGED: 5.0,
    ComponentCondition.OCCUPIED: 3.0,
    ComponentCondition.MISSING: 1.0,
    ComponentCondition.OUT_OF_SERVICE: 1.0,
}
VIDEO_OWNERS = {
    VideoSource.PUBLIC_SECURITY: ("喀什市公安局", 50.0),
    VideoSource.TRAFFIC: ("喀什市公安局交通警察大队", 25.0),
    VideoSource.WORK_SAFETY: ("喀什市应急管理局", 10.0),
    VideoSource.SOCIAL: ("喀什市社会面视频共享平台", 15.0),
}
# Per 1,000 people of a block.
ORGANISATIONS_PER_1000 = 20
PLACES_PER_1000 = 3
COMPONENTS_PER_1000 = 10
VIDEO_POINTS_PER_1000 = 2

# Points stay this far (degrees, ≈ 1 m) inside a grid, away from the shared edges.
EDGE_MARGIN = 1e-5
# Addresses of a block gather around a neighbourhood centre (σ in degrees, ≈ 300 m).
NEIGHBOURHOOD_SPREAD = 0.003
_DAYS_PER_YEAR = 365.2425
K = TypeVar("K")

# --- sampling helpers ----------------------------------------------------------------------


class _Weighted:
    """A fixed weighted choice, drawn with one random number."""

    def __init__(self, weights: Mapping[Any, float]) -> None:
        self.values = list(weights)
        self.cumulative = list(accumulate(weights.values()))

    def draw(self, rng: random.Random) -> Any:
        point = rng.random() * self.cumulative[-1]
        return self.values[bisect.bisect_right(self.cumulative, point)]


_HAN_SURNAMES = _Weighted(ZhNames.last_names)
_PHONE_PREFIXES = tuple(str(prefix) for prefix in ZhPhones.phonenumber_prefixes)
_RESIDENT_ETHNICITY = _Weighted(RESIDENT_ETHNICITIES)
_FLOATING_ETHNICITY = _Weighted(FLOATING_ETHNICITIES)
_REGISTERED_REGION = _Weighted(REGISTERED_REGIONS)
_FLOATING_REGION = _Weighted(FLOATING_REGIONS)
_NATIONALITY = _Weighted(NATIONALITIES)
_HEAD_AGE = _Weighted(HEAD_AGES)
_MIGRANT_AGE = _Weighted(MIGRANT_AGES)
_EDUCATION = [(top, _Weighted(terms)) for top, terms in EDUCATION_BY_GENERATION]
_OCCUPATION = _Weighted(OCCUPATIONS)
_EMPLOYERS = {occupation: tuple(names.split()) for occupation, names in EMPLOYERS.items()}
_STAY_REASON = _Weighted(STAY_REASONS)
_HOUSE_USE = _Weighted(HOUSE_USES)
_COURTYARD_STRUCTURE = _Weighted(COURTYARD_STRUCTURES)
_APARTMENT_STRUCTURE = _Weighted(APARTMENT_STRUCTURES)
_RENTAL_NATURE = _Weighted(RENTAL_NATURES)
_RENTAL_CATEGORY = _Weighted(RENTAL_CATEGORIES)
_RENTAL_USE = _Weighted(RENTAL_USES)
_HAZARD = _Weighted(HAZARDS)
_COMPONENT = _Weighted({kind: weight for kind, (_, weight) in COMPONENTS.items()})
_CONDITION = _Weighted(CONDITIONS)
_VIDEO_SOURCE = _Weighted({source: weight for source, (_, weight) in VIDEO_OWNERS.items()})
_ATTENTION = _Weighted(ATTENTION)
_ORGANISATION_CATEGORY = _Weighted(
    {
        OrganisationCategory.ACTUAL_UNIT: 55.0,
        OrganisationCategory.NEW_ECONOMIC: 35.0,
        OrganisationCategory.LARGE_ENTERPRISE: 5.0,
        OrganisationCategory.SOCIAL: 5.0,
    }
)
_COMPANIES = [name for name, (org_type, _) in BUSINESSES.items() if org_type != "个体工商户"]
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _phone(rng: random.Random) -> str:
    return f"{rng.choice(_PHONE_PREFIXES)}{rng.randrange(10**8):08d}"


def _per_block(rng: random.Random, size: int, per_1000: int) -> int:
    """How many of a thing a block of `size` people has, rounded at random (unbiased)."""
    expected = size * per_1000 / 1000
    return math.floor(expected) + (rng.random() < expected % 1)


def _uscc(rng: random.Random, entity: str) -> str:
    """A unified social credit code (GB 32100) issued in the city by market regulation
    (`9`): `entity` 1 for an enterprise, 2 for a sole trader."""
    body = f"9{entity}{HOME_REGION}" + "".join(rng.choices(_USCC_ALPHABET, k=9))
    return body + uscc.calc_check_digit(body)


def apportion(rng: random.Random, total: int, weights: Mapping[K, float]) -> dict[K, int]:
    """`total` split in proportion to `weights`; the units left after rounding down go by
    lot in proportion to the fractions, so small shares are not lost to rounding when many
    small blocks are split (unbiased), and the parts always sum to `total`."""
    scale = sum(weights.values())
    exact = {key: total * weight / scale for key, weight in weights.items()}
    counts = {key: math.floor(x) for key, x in exact.items()}
    fractions = {key: exact[key] - counts[key] for key in exact}
    for _ in range(total - sum(counts.values())):
        key = rng.choices(list(fractions), weights=list(fractions.values()))[0]
        counts[key] += 1
        fractions[key] = 0.0
    return counts


class IdNumbers:
    """Issues valid, never repeated resident ID numbers (GB 11643, R-POP-2).

    Numbers repeat only if region, birth date and sequence do, so the sequences handed out
    are counted per (region, birth date, gender) — 500 odd sequences for men, 499 even ones
    for women. A full day moves the birth date one day earlier. The counters are a fixed
    array over the regions and ~110 years of birth dates, whatever the population.
    """

    YEARS = 110

    def __init__(self, regions: Sequence[str], today: date, seed: int = 0) -> None:
        self.seed = seed
        self.regions = {code: i for i, code in enumerate(dict.fromkeys(regions))}
        self.earliest = today - timedelta(days=int(self.YEARS * _DAYS_PER_YEAR))
        self.days = (today - self.earliest).days + 1
        # Numbers issued per (region, day, gender), flattened.
        self.issued = array("H", bytes(2 * len(self.regions) * self.days * 2))

    def issue(self, region: str, born: date, gender: Gender) -> tuple[str, date]:
        """A fresh number for someone born on (or, when that day is full, just before) `born`;
        returns the number and the birth date it encodes."""
        r = self.regions[region]
        g = 0 if gender == Gender.MALE else 1
        capacity = 500 - g
        first_slot = r * self.days * 2 + g
        day = max((born - self.earliest).days, 0)
        while self.issued[first_slot + 2 * day] >= capacity:
            day -= 1
            if day < 0:
                raise ValueError(f"no ID numbers left for region {region}")
        count = self.issued[first_slot + 2 * day]
        self.issued[first_slot + 2 * day] = count + 1
        # Start each day's sequences somewhere different, as police stations do.
        k = (count + day * 37 + r * 101 + self.seed) % capacity
        seq = 2 * k + 1 if g == 0 else 2 * k + 2
        birth = self.earliest + timedelta(days=day)
        first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
        return first17 + check_char(first17), birth


# --- the generated world -------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DemoGrid:
    """A grid to fill: its id, code, jurisdiction path and polygon (WGS-84)."""

    id: uuid.UUID
    code: str
    path: str
    polygon: BaseGeometry


def _roads(grid: DemoGrid) -> list[str]:
    """The three roads a grid's addresses lie on (a stable pick per grid)."""
    first = zlib.crc32(grid.code.encode())
    return [ROADS[(first + k) % len(ROADS)] for k in range(3)]


class GridArea:
    """Random points inside a grid, at least EDGE_MARGIN from its edges."""

    def __init__(self, polygon: BaseGeometry) -> None:
        inner = polygon.buffer(-EDGE_MARGIN)
        self.shape = inner if not inner.is_empty else polygon
        shapely.prepare(self.shape)
        self.minx, self.miny, self.maxx, self.maxy = self.shape.bounds

    def _inside(self, x: float, y: float) -> bool:
        return bool(shapely.contains_xy(self.shape, x, y))

    def anywhere(self, rng: random.Random) -> tuple[float, float]:
        """A uniformly random point (rounded to 1e-7°, ≈ 1 cm)."""
        while True:
            x = round(rng.uniform(self.minx, self.maxx), 7)
            y = round(rng.uniform(self.miny, self.maxy), 7)
            if self._inside(x, y):
                return x, y

    def near(self, rng: random.Random, centre: tuple[float, float]) -> tuple[float, float]:
        """A point scattered around `centre`; anywhere when the scatter keeps leaving."""
        for _ in range(20):
            x = round(rng.gauss(centre[0], NEIGHBOURHOOD_SPREAD), 7)
            y = round(rng.gauss(centre[1], NEIGHBOURHOOD_SPREAD), 7)
            if self._inside(x, y):
                return x, y
        return self.anywhere(rng)


@dataclass(slots=True)
class _Person:
    id: uuid.UUID
    kind: Kind
    name: str
    given: str
    # Han naming: the surname; transliterated names: the father's given name.
    family: str
    gender: Gender
    birth: date
    age: int
    ethnicity: str | None
    id_number: str
    phone: str | None
    relation: Relation = Relation.OTHER
    marital: str = "未婚"
    register_address: str | None = None
    house: "_House | None" = None
    details: dict[str, Any] = field(default_factory=dict)


# A house owner's name, ID number and phone; a rental's landlord is the owner (R-HOUSE-2).
Owner = tuple[str, str, str | None]


@dataclass(slots=True)
class _House:
    id: uuid.UUID
    owner: Owner
    rented: bool
    address: str = ""
    location: tuple[float, float] = (0.0, 0.0)


class _Site(NamedTuple):
    """A standard address where organisations and places can be."""

    id: uuid.UUID
    text: str
    point: tuple[float, float]


Rows = dict[str, list[tuple[Any, ...]]]


class CityGenerator:
    """Deterministic rows for the grids of one city, produced block by block in a fixed
    order. What blocks share (ID sequences, road and household numbers) is bounded by the
    city, not by the population."""

    def __init__(self, *, city: str, region: str, today: date, seed: int) -> None:
        self.city = city
        self.region = region
        self.today = today
        self.seed = seed
        self.ids = IdNumbers(list(PLACES), today, seed)
        self.road_numbers = dict.fromkeys(ROADS, 0)
        self.household_count = 0
        self.serials: dict[tuple[uuid.UUID, str], int] = {}

    def block(self, grid: DemoGrid, area: GridArea, index: int, size: int) -> Rows:
        """The rows of `size` people of `grid` (its block number `index`): registered
        households, floating, unsettled and overseas people, their houses at new standard
        addresses, rentals and business tags; the organisations, key places, components and
        cameras of the neighbourhood; in the grid's first block, its service team."""
        rng = random.Random(f"{self.seed}/{grid.code}/{index}")
        shares = apportion(rng, size, KIND_SHARES)
        households = self._households(rng, shares[Kind.REGISTERED])
        heads = [members[0] for members in households]
        houses: list[_House] = []
        for members in households:
            if rng.random() < 0.03:
                continue
            head = members[0]
            rented = rng.random() < 0.28
            owner = (
                self._landlord(rng, heads) if rented else (head.name, head.id_number, head.phone)
            )
            houses.append(self._move_in(rng, members, owner, rented))
        groups = self._newcomers(rng, shares)
        for group in groups:
            if group[0].kind == Kind.UNSETTLED and houses:
                # The unsettled live with relatives, in a house of the block.
                for person in group:
                    person.house = rng.choice(houses)
            elif rng.random() >= (0.3 if group[0].kind == Kind.OVERSEAS else 0.12):
                houses.append(self._move_in(rng, group, self._landlord(rng, heads), True))
        vacant = [
            _House(_uuid(rng), self._landlord(rng, heads), False) for _ in range(len(houses) // 12)
        ]
        rows: Rows = {table.name: [] for table in TABLES}
        placed = [*houses, *vacant]
        centre = area.anywhere(rng)
        sites = self._addresses(rng, grid, area, centre, placed, rows)
        # A household without a house is still registered at an address (人户分离).
        fallback = placed[0].address if placed else None
        for members in households:
            address = members[0].house.address if members[0].house else fallback
            for person in members:
                person.register_address = address
            self._household_rows(rng, grid, members, address, rows)
        for person in (p for group in [*households, *groups] for p in group):
            self._person_rows(rng, grid, area, person, rows)
        self._facilities(rng, grid, area, centre, sites, heads, size, rows)
        reachable = [head for head in heads if head.phone]
        if index == 0 and reachable:
            staff = rng.sample(reachable, min(len(reachable), rng.randint(3, 5)))
            self._team(rng, grid, staff, rows)
        return rows

    # -- people --

    def _person(
        self,
        rng: random.Random,
        kind: Kind,
        age: int,
        gender: Gender,
        ethnicity: str | None,
        family: str | None = None,
        region: str | None = None,
    ) -> _Person:
        """A person of about that age; `family` is the surname or the father's given name."""
        male = gender == Gender.MALE
        if ethnicity in HAN_NAMING:
            family = family or _HAN_SURNAMES.draw(rng)
            given = rng.choice(ZhNames.first_names_male if male else ZhNames.first_names_female)
            name = family + given
        else:
            family = family or rng.choice(UYGHUR_MALE)
            given = rng.choice(UYGHUR_MALE if male else UYGHUR_FEMALE)
            while given == family:  # a son is not named after his father
                given = rng.choice(UYGHUR_MALE)
            name = f"{given}·{family}"
        born = self.today - timedelta(days=int((age + rng.random()) * _DAYS_PER_YEAR))
        id_number, born = self.ids.issue(region or _REGISTERED_REGION.draw(rng), born, gender)
        age = age_on(born, self.today)
        return _Person(
            id=_uuid(rng),
            kind=kind,
            name=name,
            given=given,
            family=family,
            gender=gender,
            birth=born,
            age=age,
            ethnicity=ethnicity,
            id_number=id_number,
            phone=_phone(rng) if age >= 16 and rng.random() < 0.95 else None,
        )

    def _households(self, rng: random.Random, count: int) -> list[list[_Person]]:
        """Registered families of `count` people in all (the last one cut to fit)."""
        households: list[list[_Person]] = []
        while count > 0:
            members = self._family(rng)[:count]
            households.append(members)
            count -= len(members)
        return households

    def _family(self, rng: random.Random) -> list[_Person]:
        """Head first, usually a spouse, children; sometimes a widowed parent or, under an
        old head, a married son with his wife and children."""
        ethnicity = _RESIDENT_ETHNICITY.draw(rng)
        age = _HEAD_AGE.draw(rng) + rng.randrange(5)
        married = rng.random() < (0.45 if age < 25 else 0.88 if age < 60 else 0.65)
        male_head = rng.random() < (0.88 if married else 0.5)
        head = self._relative(rng, Relation.HEAD, age, male_head, ethnicity)
        members = [head]
        father: _Person | None = head if male_head else None
        if married:
            gap = rng.randint(-8, 2) if male_head else rng.randint(-2, 8)
            spouse = self._relative(
                rng, Relation.SPOUSE, max(18, age + gap), not male_head, ethnicity
            )
            head.marital = spouse.marital = "已婚"
            father = father or spouse
            members.append(spouse)
        else:
            head.marital = "未婚" if age < 30 else rng.choice(("离婚", "丧偶"))
        lineage = self._lineage(father, ethnicity)
        if 20 <= age <= 60:
            for _ in range(rng.choices(range(6), (10, 20, 30, 23, 12, 5))[0]):
                child_age = rng.randint(max(0, age - 42), age - 20)
                members.append(
                    self._relative(rng, Relation.CHILD, child_age, None, ethnicity, lineage)
                )
        if 25 <= age <= 50 and rng.random() < 0.15:
            parent_age = age + rng.randint(24, 34)
            parent = self._relative(rng, Relation.PARENT, parent_age, rng.random() < 0.4, ethnicity)
            parent.marital = "丧偶"
            members.append(parent)
        if age > 58 and rng.random() < 0.35:
            son_age = rng.randint(max(22, age - 40), age - 22)
            son = self._relative(rng, Relation.CHILD, son_age, True, ethnicity, lineage)
            wife_age = max(20, son_age - rng.randint(0, 5))
            wife = self._relative(rng, Relation.CHILD_IN_LAW, wife_age, False, ethnicity)
            son.marital = wife.marital = "已婚"
            members += [son, wife]
            son_lineage = self._lineage(son, ethnicity)
            for _ in range(rng.randint(1, 3)):
                grandchild_age = rng.randint(0, wife_age - 20)
                grandchild = self._relative(
                    rng, Relation.GRANDCHILD, grandchild_age, None, ethnicity, son_lineage
                )
                members.append(grandchild)
        return members

    @staticmethod
    def _lineage(father: _Person | None, ethnicity: str) -> str | None:
        """What children inherit: the father's surname, or his given name as their second."""
        if father is None:
            return None
        return father.family if ethnicity in HAN_NAMING else father.given

    def _relative(
        self,
        rng: random.Random,
        relation: Relation,
        age: int,
        male: bool | None,
        ethnicity: str,
        family: str | None = None,
    ) -> _Person:
        """A household member; `male` None draws the gender."""
        male = rng.random() < 0.51 if male is None else male
        person = self._person(
            rng, Kind.REGISTERED, age, Gender.MALE if male else Gender.FEMALE, ethnicity, family
        )
        person.relation = relation
        return person

    def _newcomers(self, rng: random.Random, shares: dict[Kind, int]) -> list[list[_Person]]:
        """Floating people in groups of one to four; the unsettled and overseas one by one."""
        groups: list[list[_Person]] = []
        left = shares[Kind.FLOATING]
        while left > 0:
            size = min(left, rng.choices((1, 2, 3, 4), (40, 30, 20, 10))[0])
            groups.append([self._floating(rng) for _ in range(size)])
            left -= size
        groups += [[self._unsettled(rng)] for _ in range(shares[Kind.UNSETTLED])]
        groups += [[self._overseas(rng)] for _ in range(shares[Kind.OVERSEAS])]
        return groups

    def _migrant(
        self, rng: random.Random, kind: Kind, ethnicity: str, region: str | None
    ) -> _Person:
        male = rng.random() < 0.58
        age = _MIGRANT_AGE.draw(rng) + rng.randrange(5)
        gender = Gender.MALE if male else Gender.FEMALE
        person = self._person(rng, kind, age, gender, ethnicity, region=region)
        person.marital = _marital(rng, person.age)
        return person

    def _floating(self, rng: random.Random) -> _Person:
        region = _FLOATING_REGION.draw(rng)
        person = self._migrant(rng, Kind.FLOATING, _FLOATING_ETHNICITY.draw(rng), region)
        person.register_address = PLACES[region]
        inflow = self.today - timedelta(days=rng.randrange(30, 5 * 365))
        person.details = {
            "residence_permit_no": f"{HOME_REGION}{inflow.year}{rng.randrange(10**6):06d}",
            "stay_reason": _STAY_REASON.draw(rng),
            "inflow_date": inflow.isoformat(),
        }
        return person

    def _unsettled(self, rng: random.Random) -> _Person:
        person = self._migrant(rng, Kind.UNSETTLED, _RESIDENT_ETHNICITY.draw(rng), None)
        reason = UnsettledReason.BIRTH if person.age < 6 else rng.choice(list(UnsettledReason))
        person.details = {"reason": reason.value}
        if reason == UnsettledReason.OTHER:
            person.details["reason_note"] = "户籍迁移手续办理中"
        return person

    def _overseas(self, rng: random.Random) -> _Person:
        """A foreigner: no resident ID, identified by passport (domain.people)."""
        gender = Gender.MALE if rng.random() < 0.7 else Gender.FEMALE
        born = self.today - timedelta(days=rng.randrange(20 * 365, 64 * 365))
        letters = "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=2))
        details = {
            "nationality": _NATIONALITY.draw(rng),
            "document_type": DocumentType.PASSPORT.value,
            "document_number": f"{letters}{rng.randrange(10**7):07d}",
            "visa_type": rng.choice(VISA_TYPES),
            "entry_date": (self.today - timedelta(days=rng.randrange(10, 730))).isoformat(),
        }
        identity = establish_identity(
            Kind.OVERSEAS,
            id_number=None,
            details=details,
            birth_date=born,
            gender=gender,
            today=self.today,
        )
        given = rng.choice(OVERSEAS_MALE if gender == Gender.MALE else OVERSEAS_FEMALE)
        family = rng.choice(OVERSEAS_FAMILY)
        age = age_on(born, self.today)
        return _Person(
            id=_uuid(rng),
            kind=Kind.OVERSEAS,
            name=f"{given}·{family}",
            given=given,
            family=family,
            gender=gender,
            birth=born,
            age=age,
            ethnicity=None,
            id_number=identity.id_number,
            phone=_phone(rng) if rng.random() < 0.8 else None,
            marital=_marital(rng, age),
            details=details,
        )

    # -- houses and addresses --

    @staticmethod
    def _move_in(rng: random.Random, group: list[_Person], owner: Owner, rented: bool) -> _House:
        house = _House(_uuid(rng), owner, rented)
        for person in group:
            person.house = house
        return house

    def _landlord(self, rng: random.Random, heads: list[_Person]) -> Owner:
        """The owner of a let house: a household head of the block, or someone from
        elsewhere in the city."""
        if heads and rng.random() < 0.7:
            owner = rng.choice(heads)
        else:
            owner = self._person(rng, Kind.REGISTERED, rng.randint(35, 70), Gender.MALE, "维吾尔族")
        return owner.name, owner.id_number, owner.phone or _phone(rng)

    def _addresses(
        self,
        rng: random.Random,
        grid: DemoGrid,
        area: GridArea,
        centre: tuple[float, float],
        houses: list[_House],
        rows: Rows,
    ) -> list[_Site]:
        """Group the houses under standard addresses on the grid's roads — old-town
        courtyards of one or two houses and apartment buildings of up to 24 flats — around
        the block's neighbourhood centre."""
        rng.shuffle(houses)
        roads = _roads(grid)
        sites: list[_Site] = []
        start = 0
        while start < len(houses):
            road = rng.choice(roads)
            self.road_numbers[road] += rng.randint(1, 4)
            number = f"{self.road_numbers[road]}号"
            base = f"{self.city}{road}{number}"
            if rng.random() < 0.35:
                courtyard = houses[start : start + rng.randint(1, 2)]
                site = _Site(_uuid(rng), base, area.near(rng, centre))
                self._address(rng, grid, site, rows, road, number, None, courtyard)
                sites.append(site)
                start += len(courtyard)
                continue
            compound = houses[start : start + rng.randint(12, 48)]
            for b, first in enumerate(range(0, len(compound), FLATS_PER_BUILDING), start=1):
                flats = compound[first : first + FLATS_PER_BUILDING]
                site = _Site(_uuid(rng), f"{base}{b}栋", area.near(rng, centre))
                self._address(rng, grid, site, rows, road, number, f"{b}栋", flats)
                sites.append(site)
            start += len(compound)
        return sites

    def _address(
        self,
        rng: random.Random,
        grid: DemoGrid,
        site: _Site,
        rows: Rows,
        road: str,
        number: str,
        building: str | None,
        houses: list[_House],
    ) -> None:
        address_id, full_text, point = site
        rows["addresses"].append(
            (
                address_id,
                grid.id,
                grid.path,
                full_text,
                road,
                number,
                building,
                address_rules.search_text(full_text),
                address_rules.pinyin_initials(full_text),
                *point,
            )
        )
        structure = (_APARTMENT_STRUCTURE if building else _COURTYARD_STRUCTURE).draw(rng)
        for k, house in enumerate(houses):
            if building:
                # Two units of six floors with two flats each: 1单元 101 … 2单元 602.
                unit_no: str | None = f"{k // 12 + 1}单元"
                room: str | None = f"{k % 12 // 2 + 1}0{k % 2 + 1}"
                house.address = f"{full_text}{unit_no}{room}室"
                size = rng.uniform(50, 140)
            else:
                unit_no, room = None, f"{k + 1}户" if len(houses) > 1 else None
                house.address = full_text + (room or "")
                size = rng.uniform(60, 220)
            house.location = point
            serial = self._serial(grid, "house")
            owner_name, owner_id_number, owner_phone = house.owner
            rows["houses"].append(
                (
                    house.id,
                    grid.id,
                    grid.path,
                    f"{grid.code}{serial:06d}",
                    address_id,
                    house.address,
                    building,
                    unit_no,
                    room,
                    *point,
                    _HOUSE_USE.draw(rng),
                    structure,
                    round(size, 1),
                    *house.owner,
                )
            )
            if house.rented:
                rows["rentals"].append(
                    (
                        _uuid(rng),
                        grid.id,
                        grid.path,
                        house.id,
                        owner_name,
                        owner_phone,
                        owner_id_number,
                        rng.randint(1, 4),
                        _RENTAL_NATURE.draw(rng),
                        _RENTAL_CATEGORY.draw(rng),
                        _RENTAL_USE.draw(rng),
                        structure,
                        _HAZARD.draw(rng).value,
                    )
                )

    # -- organisations, places, components, video points, teams --

    def _facilities(
        self,
        rng: random.Random,
        grid: DemoGrid,
        area: GridArea,
        centre: tuple[float, float],
        sites: list[_Site],
        heads: list[_Person],
        size: int,
        rows: Rows,
    ) -> None:
        """The block's organisations (R-ORGN-1, R-ORGN-2) and key places (R-PLACE-1) at its
        standard addresses, run by its household heads, and its city components (R-CMP-1)
        and video points (R-VID-1) along its roads."""
        if sites and heads:
            for _ in range(_per_block(rng, size, ORGANISATIONS_PER_1000)):
                self._organisation(rng, grid, rng.choice(sites), rng.choice(heads), rows)
            for _ in range(_per_block(rng, size, PLACES_PER_1000)):
                self._place(rng, grid, rng.choice(sites), rng.choice(heads), rows)
        roads = _roads(grid)
        for _ in range(_per_block(rng, size, COMPONENTS_PER_1000)):
            kind = _COMPONENT.draw(rng)
            (letters, owner), _ = COMPONENTS[kind]
            serial = self._serial(grid, "component")
            label = COMPONENT_KINDS[ComponentCategory.PUBLIC][kind]
            rows["components"].append(
                (
                    _uuid(rng),
                    grid.id,
                    grid.path,
                    f"{grid.code}{letters}{serial:05d}",
                    f"{rng.choice(roads)}{label}{serial}号",
                    ComponentCategory.PUBLIC.value,
                    kind,
                    _CONDITION.draw(rng).value,
                    owner,
                    *area.near(rng, centre),
                )
            )
        for _ in range(_per_block(rng, size, VIDEO_POINTS_PER_1000)):
            source = _VIDEO_SOURCE.draw(rng)
            code = f"{grid.code}SP{self._serial(grid, 'video'):04d}"
            host = f"10.65.{rng.randint(1, 254)}.{rng.randint(1, 254)}"
            rows["video_points"].append(
                (
                    _uuid(rng),
                    grid.id,
                    grid.path,
                    f"{rng.choice(roads)}{rng.randint(1, 300)}号路口",
                    code,
                    source.value,
                    *area.near(rng, centre),
                    f"rtsp://{host}:554/live/{code}",
                    VIDEO_OWNERS[source][0],
                )
            )

    def _organisation(
        self, rng: random.Random, grid: DemoGrid, site: _Site, boss: _Person, rows: Rows
    ) -> None:
        category = _ORGANISATION_CATEGORY.draw(rng)
        licence: str | None = None
        industry: str | None = None
        if category == OrganisationCategory.SOCIAL:
            group = rng.choice(list(SOCIAL_GROUPS))
            name, org_type = f"{rng.choice(SHOP_PREFIXES)}{group}", SOCIAL_GROUPS[group]
        else:
            companies = category == OrganisationCategory.LARGE_ENTERPRISE
            business = rng.choice(_COMPANIES if companies else list(BUSINESSES))
            org_type, industry = BUSINESSES[business]
            individual = org_type == "个体工商户"
            if category == OrganisationCategory.ACTUAL_UNIT and not individual:
                org_type = "企业"
            owner_style = individual and rng.random() < 0.5
            name = f"{boss.given if owner_style else rng.choice(SHOP_PREFIXES)}{business}"
            licence = _uscc(rng, "2" if individual else "1")
        dangerous = industry == "制造业" and rng.random() < 0.2
        rows["organisations"].append(
            (
                _uuid(rng),
                grid.id,
                grid.path,
                category.value,
                name,
                org_type,
                licence,
                boss.name,
                boss.id_number,
                boss.phone,
                boss.name,
                boss.phone,
                industry,
                dangerous,
                rng.choice(HAZARDS_TEXT) if dangerous else None,
                site.text,
                site.id,
                *site.point,
            )
        )

    def _place(
        self, rng: random.Random, grid: DemoGrid, site: _Site, principal: _Person, rows: Rows
    ) -> None:
        kinds = [rng.choice(list(PlaceKind))]
        if rng.random() < 0.25:
            kinds.append(rng.choice([kind for kind in PlaceKind if kind != kinds[0]]))
        place_id = _uuid(rng)
        rows["places"].append(
            (
                place_id,
                grid.id,
                grid.path,
                f"{rng.choice(SHOP_PREFIXES)}{rng.choice(PLACE_NAMES[kinds[0]])}",
                site.text,
                site.id,
                *site.point,
                principal.name,
                principal.phone,
            )
        )
        for kind in kinds:
            details = self._place_details(rng, kind, principal)
            level = _ATTENTION.draw(rng).value
            rows["place_kinds"].append(
                (place_id, kind.value, grid.path, level, orjson.dumps(details).decode())
            )

    @staticmethod
    def _place_details(rng: random.Random, kind: PlaceKind, principal: _Person) -> dict[str, Any]:
        """Details as the places module keeps them (domain.places.PLACE_DETAILS)."""
        if kind == PlaceKind.SCHOOL_SURROUNDINGS:
            return {
                "principal": principal.name,
                "nature": "公办",
                "school_type": rng.choice(("小学", "初级中学", "幼儿园")),
                "safety_officer": _stranger(rng),
            }
        if kind == PlaceKind.OTHER:
            return {"subtype": rng.choice(PLACE_SUBTYPES[kind]), "contact": principal.name}
        details: dict[str, Any] = {"hazardous_chemicals": False}
        if kind == PlaceKind.WORK_SAFETY:
            business = rng.choice(_COMPANIES)
            details.update(
                enterprise_type=BUSINESSES[business][0],
                legal_representative=principal.name,
                industry=BUSINESSES[business][1],
            )
        else:
            details["subtype"] = rng.choice(PLACE_SUBTYPES[kind])
        return details

    def _team(self, rng: random.Random, grid: DemoGrid, members: list[_Person], rows: Rows) -> None:
        """The grid's own service team (R-TEAM-1): a grid leader and grid workers."""
        team_id = _uuid(rng)
        joined = self.today - timedelta(days=rng.randrange(30, 3 * 365))
        leader = members[0]
        rows["teams"].append(
            (
                team_id,
                grid.id,
                grid.path,
                f"{grid.code}网格化管理服务团队",
                TeamCategory.GRID_SERVICE.value,
                "网格管理服务团队",
                leader.name,
                leader.phone,
                joined,
            )
        )
        for n, person in enumerate(members):
            post = "网格长" if n == 0 else rng.choice(("网格员", "楼栋长", "平安志愿者"))
            rows["team_members"].append(
                (
                    _uuid(rng),
                    team_id,
                    grid.path,
                    person.id,
                    person.name,
                    person.phone,
                    [post],
                    joined,
                )
            )

    def _serial(self, grid: DemoGrid, what: str) -> int:
        """The next number of `what` in the grid (house, component and video numbers)."""
        key = (grid.id, what)
        self.serials[key] = self.serials.get(key, 0) + 1
        return self.serials[key]

    # -- rows --

    def _household_rows(
        self,
        rng: random.Random,
        grid: DemoGrid,
        members: list[_Person],
        address: str | None,
        rows: Rows,
    ) -> None:
        self.household_count += 1
        household_id = _uuid(rng)
        number = f"{self.region}{self.household_count:09d}"
        rows["households"].append(
            (household_id, grid.id, grid.path, number, members[0].id, address)
        )
        rows["household_members"] += [
            (person.id, household_id, grid.path, person.relation.value) for person in members
        ]

    def _person_rows(
        self, rng: random.Random, grid: DemoGrid, area: GridArea, person: _Person, rows: Rows
    ) -> None:
        """The person (R-POP-1..5) and their business tags."""
        house = person.house
        if house is None:
            point = area.anywhere(rng)
            no_house_reason: str | None = rng.choice(NO_HOUSE_REASONS[person.kind])
        else:
            point, no_house_reason = house.location, None
            if person.kind == Kind.FLOATING:
                person.details["landlord"] = house.owner[0]
        age = person.age
        occupation, employer = _work(rng, age)
        low_income = rng.random() < LOW_INCOME_RATE
        rows["people"].append(
            (
                person.id,
                grid.id,
                grid.path,
                person.kind.value,
                person.id_number,
                person.name,
                person.gender.value,
                person.birth,
                person.ethnicity,
                person.phone,
                person.register_address,
                house.address if house else None,
                _education(rng, age),
                occupation,
                employer,
                _politics(rng, age),
                person.marital,
                low_income,
                person.kind == Kind.REGISTERED and 20 <= age <= 50 and rng.random() < 0.03,
                house.id if house else None,
                no_house_reason,
                orjson.dumps(person.details).decode(),
                *point,
            )
        )
        for kind, details in self._tags(rng, person, occupation, low_income):
            rows["person_tags"].append(
                (
                    _uuid(rng),
                    grid.id,
                    grid.path,
                    person.id,
                    kind.value,
                    person.id_number,
                    person.name,
                    person.birth,
                    orjson.dumps(details).decode(),
                    # R-KEY-2: the daily job would have tagged the elderly automatically.
                    kind == TagKind.ELDERLY,
                )
            )

    # -- business tags --

    def _tags(
        self, rng: random.Random, person: _Person, occupation: str | None, low_income: bool
    ) -> list[tuple[TagKind, dict[str, Any]]]:
        """Everyone 60 or older is elderly and every woman 15–49 of child-bearing age; a
        share are key persons, disabled, entitled, needy (the low-income) or unemployed."""
        age, gender = person.age, person.gender
        tags: list[tuple[TagKind, dict[str, Any]]] = [
            (kind, {})
            for kind in (TagKind.ELDERLY, TagKind.CHILDBEARING_WOMAN)
            if _suits(kind, age, gender)
        ]
        if 18 <= age <= 65 and rng.random() < KEY_PERSON_RATE * len(ADULT_KEY_KINDS):
            kind = rng.choice(ADULT_KEY_KINDS)
            tags.append((kind, self._key_details(rng, kind)))
        if _suits(TagKind.KEY_YOUTH, age, gender) and rng.random() < KEY_YOUTH_RATE:
            youth = {
                "youth_type": rng.choice(YOUTH_TYPES),
                "guardian_name": _stranger(rng),
                "guardian_phone": _phone(rng),
            }
            tags.append((TagKind.KEY_YOUTH, youth))
        if rng.random() < DISABLED_RATE:
            disability = {
                "disability_type": rng.choice(DISABILITY_TYPES),
                "grade": rng.randint(1, 4),
            }
            tags.append((TagKind.DISABLED, disability))
        if age >= 40 and rng.random() < ENTITLED_RATE:
            tags.append((TagKind.ENTITLED_GROUP, {"entitled_type": rng.choice(ENTITLED_TYPES)}))
        if low_income:
            needy = {"difficulty_type": rng.choice(DIFFICULTY_TYPES), "low_income": True}
            tags.append((TagKind.NEEDY, needy))
        if occupation == UNEMPLOYED:
            tags.append((TagKind.UNEMPLOYED, {}))
        return tags

    def _key_details(self, rng: random.Random, kind: TagKind) -> dict[str, Any]:
        """Plausible details of an adult key-person kind (R-KEY-1), dated so that the tag is
        still followed today under the life-cycle rules (R-KEY-2)."""

        def days_ago(low: int, high: int) -> str:
            return (self.today - timedelta(days=rng.randrange(low, high))).isoformat()

        if kind == TagKind.RELEASED_PRISONER:
            return {
                "release_date": days_ago(30, 5 * 365 - 2),
                "original_crime": rng.choice(CRIMES),
                "sentence": f"有期徒刑{rng.randint(1, 10)}年",
                "helpers": [_stranger(rng)],
            }
        if kind == TagKind.RELEASED_REEDUCATION:
            return {"release_date": days_ago(30, 3 * 365 - 2), "helpers": [_stranger(rng)]}
        if kind == TagKind.COMMUNITY_CORRECTION:
            return {
                "correction_type": rng.choice(CORRECTION_TYPES),
                "start_date": days_ago(30, 700),
                "end_date": (self.today + timedelta(days=rng.randrange(30, 900))).isoformat(),
                "original_sentence": f"有期徒刑{rng.randint(1, 3)}年",
                "helpers": [_stranger(rng), _stranger(rng)],
            }
        if kind == TagKind.DRUG_USER:
            return {
                "cause": rng.choice(DRUG_CAUSES),
                "source": rng.choice(DRUG_SOURCES),
                "rehab_status": rng.choice(REHAB_STATUSES),
                "methadone": rng.random() < 0.3,
            }
        if kind == TagKind.MENTAL_PATIENT:
            return {
                "guardian_name": _stranger(rng),
                "guardian_phone": _phone(rng),
                "risk_level": rng.choices(range(6), (30, 30, 20, 12, 6, 2))[0],
                "treated": rng.random() < 0.7,
            }
        if kind == TagKind.KEY_PETITIONER:
            return {
                "reason": rng.choice(PETITION_REASONS),
                "channel": rng.choice(PETITION_CHANNELS),
                "frequency": rng.choice(PETITION_FREQUENCIES),
                "highest_level": rng.choice(PETITION_LEVELS),
            }
        if kind == TagKind.DANGEROUS_GOODS_WORKER:
            return {
                "category": rng.choice(DANGEROUS_GOODS),
                "certificate_no": f"WXP{HOME_REGION}{rng.randrange(10**8):08d}",
                "employer": rng.choice(_EMPLOYERS["企业职工"]),
            }
        if kind == TagKind.KEY_OTHER:
            return {"reason": rng.choice(KEY_OTHER_REASONS)}
        if kind == TagKind.NEEDS_HELP:
            return {
                "difficulty_type": rng.choice(DIFFICULTY_TYPES),
                "low_income": rng.random() < 0.5,
            }
        return {}


FLATS_PER_BUILDING = 24
UNEMPLOYED = "待业"


def _suits(kind: TagKind, age: int, gender: Gender) -> bool:
    """Whether a person of this age and gender may carry the kind (R-KEY-1, R-CARE-1)."""
    spec = KINDS[kind]
    if spec.min_age is not None and age < spec.min_age:
        return False
    if spec.max_age is not None and age > spec.max_age:
        return False
    return spec.gender is None or spec.gender == gender


def _stranger(rng: random.Random) -> str:
    """A guardian or helper who is not in the registry."""
    return f"{rng.choice(UYGHUR_MALE)}·{rng.choice(UYGHUR_MALE)}"


def _marital(rng: random.Random, age: int) -> str:
    if age < 20:
        return "未婚"
    if age > 70 and rng.random() < 0.4:
        return "丧偶"
    return rng.choices(("未婚", "已婚", "离婚"), (60, 38, 2) if age < 28 else (8, 87, 5))[0]


def _education(rng: random.Random, age: int) -> str:
    if age < 6:
        return "学龄前"
    if age < 12:
        return "小学"
    if age < 15:
        return "初中"
    if age < 18:
        return rng.choice(("高中", "职业高中", "初中"))
    return str(next(terms for top, terms in _EDUCATION if age <= top).draw(rng))


def _politics(rng: random.Random, age: int) -> str | None:
    """Political status from 14 (the age one may join the Youth League)."""
    if age < 14:
        return None
    draw = rng.random()
    if age >= 18 and draw < 0.07:
        return "中共党员"
    if 14 <= age <= 28 and draw < 0.4:
        return "共青团员"
    return "群众"


def _work(rng: random.Random, age: int) -> tuple[str | None, str | None]:
    """Occupation and employer by age: pupils and students, the working, the retired."""
    if age < 6:
        return None, None
    if age < 18 or (age <= 22 and rng.random() < 0.5):
        return "学生", None
    if age >= 60:
        return rng.choice(("离退休人员", "无")), None
    if rng.random() < UNEMPLOYED_RATE:
        return UNEMPLOYED, None
    occupation = str(_OCCUPATION.draw(rng))
    employers = _EMPLOYERS.get(occupation)
    return occupation, rng.choice(employers) if employers else None


# --- loading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    """A target table as generated: record columns in order with their types. `ltree` and
    `jsonb` are staged as text and cast; a `point` is staged as `<name>_lon, <name>_lat`."""

    name: str
    columns: tuple[tuple[str, str], ...]
    # created_at / updated_at / created_by (joined_at for link tables) come from the load.
    stamp: tuple[str, ...] = ("created_at", "updated_at", "created_by")

    @property
    def stage(self) -> str:
        return f"demo_stage_{self.name}"

    def create_stage(self) -> str:
        defs: list[str] = []
        for column, kind in self.columns:
            if kind == "point":
                defs += [f"{column}_lon float8", f"{column}_lat float8"]
            else:
                defs.append(f"{column} {'text' if kind in ('ltree', 'jsonb') else kind}")
        return f"CREATE TEMP TABLE IF NOT EXISTS {self.stage} ({', '.join(defs)}) ON COMMIT DROP"

    def insert(self) -> str:
        """Move the staged rows; the stamp columns are the parameters, in order."""
        values: list[str] = []
        for column, kind in self.columns:
            if kind == "point":
                values.append(f"ST_SetSRID(ST_MakePoint({column}_lon, {column}_lat), 4326)")
            elif kind in ("ltree", "jsonb"):
                values.append(f"{column}::{kind}")
            else:
                values.append(column)
        stamps = [
            f"${n}::{'timestamptz' if name.endswith('_at') else 'uuid'}"
            for n, name in enumerate(self.stamp, start=1)
        ]
        targets = [column for column, _ in self.columns] + list(self.stamp)
        return (
            f"INSERT INTO {self.name} ({', '.join(targets)}) "
            f"SELECT {', '.join(values + stamps)} FROM {self.stage}"
        )


_GRID_BOUND = (("id", "uuid"), ("grid_id", "uuid"), ("path", "ltree"))
# In foreign-key order: a batch is moved table by table.
TABLES = (
    _Table(
        "addresses",
        (
            *_GRID_BOUND,
            ("full_text", "text"),
            ("road", "text"),
            ("house_number", "text"),
            ("building", "text"),
            ("search_text", "text"),
            ("pinyin_initials", "text"),
            ("location", "point"),
        ),
    ),
    _Table(
        "houses",
        (
            *_GRID_BOUND,
            ("house_no", "text"),
            ("address_id", "uuid"),
            ("address", "text"),
            ("building", "text"),
            ("unit_no", "text"),
            ("room", "text"),
            ("location", "point"),
            ("use", "text"),
            ("structure", "text"),
            ("area", "float8"),
            ("owner_name", "text"),
            ("owner_id_number", "text"),
            ("owner_phone", "text"),
        ),
    ),
    _Table(
        "rentals",
        (
            *_GRID_BOUND,
            ("house_id", "uuid"),
            ("landlord_name", "text"),
            ("landlord_phone", "text"),
            ("landlord_id_number", "text"),
            ("rooms", "int4"),
            ("nature", "text"),
            ("category", "text"),
            ("use", "text"),
            ("structure", "text"),
            ("hazard_level", "text"),
        ),
    ),
    _Table(
        "people",
        (
            *_GRID_BOUND,
            ("kind", "text"),
            ("id_number", "text"),
            ("name", "text"),
            ("gender", "text"),
            ("birth_date", "date"),
            ("ethnicity", "text"),
            ("phone", "text"),
            ("register_address", "text"),
            ("current_address", "text"),
            ("education", "text"),
            ("occupation", "text"),
            ("employer", "text"),
            ("political_status", "text"),
            ("marital_status", "text"),
            ("low_income", "bool"),
            ("away", "bool"),
            ("house_id", "uuid"),
            ("no_house_reason", "text"),
            ("details", "jsonb"),
            ("location", "point"),
        ),
    ),
    _Table(
        "households",
        (
            *_GRID_BOUND,
            ("household_no", "text"),
            ("head_person_id", "uuid"),
            ("address", "text"),
        ),
    ),
    _Table(
        "household_members",
        (("person_id", "uuid"), ("household_id", "uuid"), ("path", "ltree"), ("relation", "text")),
        stamp=("joined_at",),
    ),
    _Table(
        "person_tags",
        (
            *_GRID_BOUND,
            ("person_id", "uuid"),
            ("kind", "text"),
            ("id_number", "text"),
            ("name", "text"),
            ("birth_date", "date"),
            ("details", "jsonb"),
            ("automatic", "bool"),
        ),
    ),
    _Table(
        "organisations",
        (
            *_GRID_BOUND,
            ("category", "text"),
            ("name", "text"),
            ("org_type", "text"),
            ("licence_no", "text"),
            ("legal_representative", "text"),
            ("legal_representative_id_number", "text"),
            ("legal_representative_phone", "text"),
            ("principal", "text"),
            ("phone", "text"),
            ("industry", "text"),
            ("hazardous_chemicals", "bool"),
            ("hazards", "text"),
            ("address", "text"),
            ("address_id", "uuid"),
            ("location", "point"),
        ),
    ),
    _Table(
        "places",
        (
            *_GRID_BOUND,
            ("name", "text"),
            ("address", "text"),
            ("address_id", "uuid"),
            ("location", "point"),
            ("principal", "text"),
            ("phone", "text"),
        ),
    ),
    _Table(
        "place_kinds",
        (
            ("place_id", "uuid"),
            ("kind", "text"),
            ("path", "ltree"),
            ("level", "text"),
            ("details", "jsonb"),
        ),
        stamp=("created_at", "updated_at"),
    ),
    _Table(
        "components",
        (
            *_GRID_BOUND,
            ("code", "text"),
            ("name", "text"),
            ("category", "text"),
            ("kind", "text"),
            ("condition", "text"),
            ("owner", "text"),
            ("location", "point"),
        ),
    ),
    _Table(
        "video_points",
        (
            *_GRID_BOUND,
            ("name", "text"),
            ("code", "text"),
            ("source", "text"),
            ("location", "point"),
            ("stream_url", "text"),
            ("owner", "text"),
        ),
    ),
    _Table(
        "teams",
        (
            *_GRID_BOUND,
            ("name", "text"),
            ("category", "text"),
            ("subcategory", "text"),
            ("leader", "text"),
            ("phone", "text"),
            ("established_on", "date"),
        ),
    ),
    _Table(
        "team_members",
        (
            ("id", "uuid"),
            ("team_id", "uuid"),
            ("path", "ltree"),
            ("person_id", "uuid"),
            ("name", "text"),
            ("phone", "text"),
            ("posts", "text[]"),
            ("joined_on", "date"),
        ),
    ),
)


Progress = Callable[[int, int], None]


class _Loader:
    """Moves batches of generated rows through the staging tables, table by table."""

    def __init__(
        self,
        raw: Any,
        now: datetime,
        actor: uuid.UUID | None,
        total: int,
        progress: Progress | None,
    ) -> None:
        self.raw = raw
        self.now = now
        self.actor = actor
        self.total = total
        self.progress = progress
        self.counts = {table.name: 0 for table in TABLES}

    async def open(self) -> None:
        for table in TABLES:
            await self.raw.execute(table.create_stage())

    async def load(self, batch: Rows) -> None:
        for table in TABLES:
            records = batch[table.name]
            if not records:
                continue
            await self.raw.copy_records_to_table(table.stage, records=records)
            stamps = [self.now if name.endswith("_at") else self.actor for name in table.stamp]
            await self.raw.execute(table.insert(), *stamps)
            await self.raw.execute(f"TRUNCATE {table.stage}")
            self.counts[table.name] += len(records)
        if self.progress:
            self.progress(self.counts["people"], self.total)


def batches(
    generator: CityGenerator, quotas: Mapping[DemoGrid, int], batch_size: int
) -> Iterator[Rows]:
    """The rows of every grid's quota of people, block by block, gathered in batches of
    about `batch_size` people (whole blocks, so each batch is closed under foreign keys)."""
    batch: Rows = {table.name: [] for table in TABLES}
    for grid, quota in quotas.items():
        area = GridArea(grid.polygon)
        for index, start in enumerate(range(0, quota, BLOCK_PEOPLE)):
            for name, rows in generator.block(
                grid, area, index, min(BLOCK_PEOPLE, quota - start)
            ).items():
                batch[name] += rows
            if len(batch["people"]) >= batch_size:
                yield batch
                batch = {table.name: [] for table in TABLES}
    if batch["people"]:
        yield batch


async def demo_grids(session: AsyncSession, root: OrgUnit) -> list[DemoGrid]:
    """The live grids under `root` with a polygon, in code order."""
    rows = await session.execute(
        select(OrgUnit.id, OrgUnit.code, OrgUnit.path, OrgUnit.geom)
        .where(
            OrgUnit.path.op("<@")(root.path),
            OrgUnit.level == Level.GRID.value,
            OrgUnit.geom.is_not(None),
            org_units.live(),
        )
        .order_by(OrgUnit.code)
    )
    return [DemoGrid(r.id, r.code, r.path, to_shape(r.geom)) for r in rows]


async def load_population(
    ctx: Ctx,
    root_id: uuid.UUID,
    *,
    people: int,
    seed: int = DEFAULT_SEED,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Fill the grids under unit `root_id` with `people` synthetic people, their addresses,
    houses, rentals, households and tags, and the neighbourhoods' organisations, places,
    components, cameras and teams, in the caller's transaction (system work; one audit
    entry). Returns the rows written per table; nothing at all when people already live
    under the unit, so a second run is a no-op."""
    await set_scope(ctx.session, SYSTEM_SCOPE)
    root = await ctx.session.get_one(OrgUnit, root_id)
    occupied = await ctx.session.scalar(
        select(Person.id).where(Person.path.op("<@")(root.path)).limit(1)
    )
    grids = await demo_grids(ctx.session, root)
    if occupied is not None or not grids or people <= 0:
        return {}
    await ctx.session.flush()
    generator = CityGenerator(city=root.name, region=root.code[:6], today=ctx.today(), seed=seed)
    connection = await ctx.session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    loader = _Loader(raw, ctx.now(), ctx.principal.user_id, people, progress)
    await loader.open()
    # Grids differ in size: each gets between 0.6 and 1.4 times the average.
    rng = random.Random(seed)
    quotas = apportion(rng, people, {grid: rng.uniform(0.6, 1.4) for grid in grids})
    pending = batches(generator, quotas, batch_size)

    def generate_next() -> asyncio.Future[Rows | None]:
        # In a thread: the next batch is generated while the database takes the current one.
        return asyncio.ensure_future(asyncio.to_thread(next, pending, None))

    upcoming = generate_next()
    while (batch := await upcoming) is not None:
        upcoming = generate_next()
        await loader.load(batch)
    await audit.record(
        ctx,
        action="demo.population_loaded",
        target_type="org_unit",
        target_id=root.id,
        unit_path=root.path,
        after={"seed": seed, **loader.counts},
    )
    return loader.counts


async def analyze(owner_url: str) -> None:
    """Refresh the planner statistics of the loaded tables. ANALYZE skips tables the role
    does not own, so this runs as the owner, after the load is committed."""
    engine = make_engine(owner_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"ANALYZE {', '.join(t.name for t in TABLES)}"))
    finally:
        await engine.dispose()


def stderr_progress() -> Progress:
    """A progress printer for the CLI: people loaded so far and the rate."""
    started = time.monotonic()

    def report(done: int, total: int) -> None:
        rate = done / max(time.monotonic() - started, 1e-9)
        print(f"演示人口 / demo people: {done:,}/{total:,} ({rate:,.0f}/s)", file=sys.stderr)

    return report
