"""Message catalogue: stable code → (Chinese, English) templates with `str.format` parameters.

Chinese is the default language (API.md); `Accept-Language: en` selects English.
"""

from typing import Any

MESSAGES: dict[str, tuple[str, str]] = {
    # generic
    "error": ("请求处理失败", "The request failed"),
    "bad_request": ("请求格式错误", "Malformed request"),
    "unauthenticated": ("未登录或登录已失效", "Not authenticated"),
    "permission_denied": ("无权执行此操作", "You lack the permission for this action"),
    "not_found": ("记录不存在", "Not found"),
    "route_not_found": ("接口不存在", "No such endpoint"),
    "method_not_allowed": ("不支持的请求方法", "Method not allowed"),
    "conflict": ("与现有数据冲突", "Conflicts with existing data"),
    "precondition_failed": (
        "数据已被他人修改，请刷新后重试",
        "The resource has changed; reload and retry",
    ),
    "validation_failed": ("输入数据校验未通过", "The input failed validation"),
    "rate_limited": ("请求过于频繁，请稍后再试", "Too many requests; retry later"),
    "internal_error": ("服务器内部错误", "Internal server error"),
    "service_unavailable": ("服务暂时不可用", "Service unavailable"),
    "database_unavailable": (
        "数据库暂时无法连接，请稍后重试",
        "The database cannot be reached at the moment; please try again shortly",
    ),
    "value_unstorable": (
        "提交的数据无法保存（含空字符、超出范围的数值或日期等）",
        "The data sent cannot be stored (a NUL character, a number or date out of range, …)",
    ),
    # auth
    "invalid_credentials": ("用户名或密码错误", "Wrong username or password"),
    "token_invalid": ("令牌无效或已过期", "The token is invalid or expired"),
    "refresh_token_reused": (
        "刷新令牌已被使用，该登录会话已注销",
        "The refresh token was already used; the session has been revoked",
    ),
    # idempotency / concurrency
    "idempotency_key_reused": (
        "幂等键已用于不同的请求内容",
        "The Idempotency-Key was already used with a different request body",
    ),
    "idempotency_in_progress": (
        "相同幂等键的请求正在处理中",
        "A request with this Idempotency-Key is still being processed",
    ),
    "cursor_invalid": ("分页游标无效", "Invalid pagination cursor"),
    "if_match_invalid": ("If-Match 请求头格式错误", "Malformed If-Match header"),
    # org units
    "org_unit_not_found": ("组织机构不存在", "Org unit not found"),
    "parent_not_found": ("上级组织机构不存在", "Parent unit not found"),
    "code_taken": ("编码 {code} 已被使用", "Code {code} is already in use"),
    "code_malformed": ("编码格式错误：{expected}", "Malformed code: {expected}"),
    "level_mismatch": (
        "下级组织的层级必须比上级低一级（上级为{parent_level}，应为{expected}）",
        "A child's level must be exactly one below its parent's ({parent_level} → {expected})",
    ),
    "top_level_invalid": (
        "没有上级的组织只能是市或区县",
        "A unit without a parent must be a city or a district",
    ),
    "unit_has_children": ("该组织下仍有下级组织", "The unit still has child units"),
    "unit_leaves_children_outside": (
        "调整后的边界会使下级单位超出范围：{codes}",
        "The new boundary would leave child units outside: {codes}",
    ),
    "unit_has_members": ("该组织下仍有用户或部门", "The unit still has users or departments"),
    "use_grid_endpoint": ("网格请通过网格接口维护", "Maintain grids through the grid endpoints"),
    # departments and users
    "department_not_found": ("职能部门不存在", "Department not found"),
    "department_unit_level": (
        "职能部门只能隶属于区县或街道",
        "A department belongs to a district or a street unit",
    ),
    "username_taken": ("用户名 {username} 已存在", "Username {username} already exists"),
    "role_unknown": ("未知角色：{role}", "Unknown role: {role}"),
    "user_home_required": (
        "用户必须且只能属于一个组织或一个部门",
        "A user belongs to exactly one unit or one department",
    ),
    "password_too_weak": (
        "密码至少 8 位，且须同时包含字母和数字",
        "A password needs at least 8 characters with letters and digits",
    ),
    # geometry and grids
    "geometry_invalid": ("几何图形无效：{reason}", "Invalid geometry: {reason}"),
    "geometry_type": ("几何类型应为 {expected}", "The geometry must be a {expected}"),
    "coordinate_out_of_range": (
        "坐标超出范围（经度 -180~180，纬度 -90~90）",
        "Coordinate out of range (lon -180..180, lat -90..90)",
    ),
    "grid_not_found": ("网格不存在", "Grid not found"),
    "grid_parent_not_community": ("网格的上级必须是社区", "A grid's parent must be a community"),
    "grid_outside_parent": ("网格超出上级社区范围", "The grid extends beyond its community"),
    "grid_overlap": ("网格与相邻网格重叠", "The grid overlaps a sibling grid"),
    "grid_geometry_required": ("网格必须有边界", "A grid needs a polygon"),
    "grid_has_records": (
        "网格内仍有数据，请先迁移后再删除",
        "The grid still holds records; move them before deleting it",
    ),
    "grids_not_siblings": ("只能合并同一社区的网格", "Only grids of one community can be merged"),
    "grids_not_adjacent": ("合并的网格必须相邻", "Merged grids must touch each other"),
    "split_failed": (
        "分割线必须穿过网格并将其分为多块",
        "The line must cross the grid and cut it in pieces",
    ),
    "split_codes_mismatch": (
        "分割得到 {pieces} 块，需要为新增的 {needed} 块提供编码和名称",
        "The split yields {pieces} pieces: give code and name for {needed} new grids",
    ),
    "move_target_invalid": ("目标网格无效", "Invalid target grid"),
    "point_not_in_grid": ("该位置不在任何网格内", "No grid contains this point"),
    "not_a_community": ("只能统计社区的网格覆盖情况", "Coverage is reported for communities"),
    # registries
    "record_needs_grid": ("登记信息须落到网格", "Records are added at grid level"),
    "status_transition_invalid": (
        "当前状态（{status}）不能变更为 {target}",
        "A record in status {status} cannot become {target}",
    ),
    "duplicate_active_record": (
        "本网格已存在有效的相同记录",
        "An active record with the same identity already exists in this grid",
    ),
    "reason_required": ("请填写原因", "A reason is required"),
    # workflow
    "transition_not_allowed": (
        "当前状态（{state}）不允许执行“{action}”",
        "Action {action} is not allowed in state {state}",
    ),
    "action_not_yours": ("您不能对该事件执行“{action}”", "You may not take action {action} here"),
    # map
    "map_layer_unknown": ("未知图层：{layer}", "Unknown map layer: {layer}"),
    # Open311 GeoReport v2 (R-API-2): errors, request states and notices, discovery.
    "open311_format_unknown": ("不支持的格式，请用 .xml 或 .json", "Use the .xml or .json format"),
    "open311_jurisdiction_required": (
        "本接口服务多个辖区，须提供 jurisdiction_id",
        "This endpoint serves several jurisdictions: jurisdiction_id is required",
    ),
    "open311_jurisdiction_not_found": ("辖区 {id} 不存在", "Jurisdiction {id} not found"),
    "open311_service_code_missing": ("须提供 service_code", "service_code was not provided"),
    "open311_service_not_found": (
        "服务类型 {service_code} 不存在",
        "Service code {service_code} not found",
    ),
    "open311_service_code_invalid": (
        "服务类型 {service_code} 不存在",
        "Service code {service_code} not found",
    ),
    "open311_request_not_found": ("诉求 {id} 不存在", "Service request {id} not found"),
    "open311_token_not_found": ("令牌 {token} 不存在", "Token {token} not found"),
    "open311_api_key_missing": (
        "缺少接口密钥 api_key，无法提交诉求",
        "api_key was not provided -- can't proceed with create_request",
    ),
    "open311_api_key_invalid": (
        "接口密钥无效、已过期或已吊销，无法提交诉求",
        "Invalid api_key received -- can't proceed with create_request",
    ),
    "open311_api_key_not_allowed": (
        "该接口密钥无权提交诉求",
        "This api_key may not create requests",
    ),
    "open311_request_invalid": ("诉求内容有误", "The request's fields are invalid"),
    "open311_field_unknown": ("不支持的参数：{name}", "Unknown argument: {name}"),
    "open311_field_invalid": ("参数 {name} 格式不正确", "Malformed {name}"),
    "open311_description_too_long": (
        "描述不得超过 4000 字",
        "The description is limited to 4,000 characters",
    ),
    "open311_attribute_unknown": ("该服务没有属性 {code}", "The service has no attribute {code}"),
    "open311_attribute_required": ("须填写属性 {code}", "Attribute {code} is required"),
    "open311_attribute_invalid": ("属性 {code} 的值无效", "Invalid value for attribute {code}"),
    "open311_location_missing": (
        "须提供 lat 与 long、address_string 或 address_id 之一",
        "One of lat & long, address_string or address_id is required",
    ),
    "open311_location_invalid": (
        "lat 与 long 须同时提供且为有效的 WGS-84 坐标",
        "lat and long go together and must be WGS-84 coordinates",
    ),
    "open311_location_outside": (
        "该位置不在本密钥可提交的网格范围内",
        "The location lies outside every grid this key may file in",
    ),
    "open311_address_not_found": (
        "标准地址库中没有唯一匹配的地址，请提供 lat 与 long",
        "No single standard address matches; send lat and long",
    ),
    "open311_datetime_invalid": (
        "{name} 须为带时区的 ISO 8601 时间，如 2010-01-01T00:00:00Z",
        "{name} must be a w3 datetime with its time zone, e.g. 2010-01-01T00:00:00Z",
    ),
    "open311_date_range_invalid": ("end_date 早于 start_date", "end_date lies before start_date"),
    "open311_date_range_too_long": (
        "查询时间范围不得超过 90 天",
        "The requested range may not span more than 90 days",
    ),
    "open311_status_invalid": ("status 只能为 open 或 closed", "status is open or closed"),
    "open311_page_invalid": (
        "page 须为正整数，page_size 须为 1 至 1000",
        "page is a positive integer and page_size 1 to 1000",
    ),
    "open311_state_dispatch": ("已受理，待分派承办单位", "Received, waiting to be dispatched"),
    "open311_state_pending_accept": (
        "已分派，待承办单位签收",
        "Dispatched, waiting for acceptance",
    ),
    "open311_state_handling": ("承办单位办理中", "Being handled"),
    "open311_state_pending_verify": ("已办理完毕，待回访核查", "Handled, being verified"),
    "open311_state_closed": ("已办结", "Closed"),
    "open311_notice_realtime": (
        "已受理，承办单位将在 24 小时内签收（重大紧急事件 12 小时）并办理",
        "Received: the handling unit accepts it within 24 hours (12 for major or urgent ones)",
    ),
    "open311_notice_batch": (
        "已受理，社区核实并由承办单位签收后可凭令牌查询诉求编号",
        "Received: once the community checked it and a handler accepted it, the token "
        "resolves to the request's id",
    ),
    "open311_notice_blackbox": (
        "已受理；治安线索不公开回传编号，紧急警情请拨打 110",
        "Received: public-security tips are not published back; call 110 in an emergency",
    ),
    "open311_contact": (
        "网格化社会服务管理平台，接口问题请联系平台管理员",
        "Grid governance platform: contact the platform's administrators",
    ),
    "open311_key_service": (
        "接口密钥由平台管理员为第三方机构签发（指定辖区范围与可用操作）",
        "API keys are issued to agencies by the platform's administrators (scope and operations)",
    ),
    # field-level
    "field_required": ("必填字段", "Field required"),
    "field_forbidden": ("不允许的字段", "Unknown field"),
    "field_invalid": ("字段值无效：{detail}", "Invalid value: {detail}"),
    # organisations, places, teams, jurisdiction info, components, video points (R-ORGN-1,
    # R-ORGN-2, R-PLACE-1, R-TEAM-1, R-JURINFO-1, R-CMP-1, R-VID-1)
    "dictionary_value_invalid": ("取值须为：{allowed}", "The value must be one of: {allowed}"),
    "licence_no_invalid": (
        "营业执照号码须为18位统一社会信用代码或15位注册号",
        "A business licence number is an 18-character credit code or a 15-digit number",
    ),
    "representative_id_number_invalid": (
        "法人代表身份证号码无效",
        "The legal representative's ID number is invalid",
    ),
    "organisation_not_found": ("组织不存在", "Organisation not found"),
    "address_not_found": ("标准地址不存在", "Standard address not found"),
    "address_inactive": ("标准地址已注销", "The standard address is deregistered"),
    "place_not_found": ("重点场所不存在", "Key place not found"),
    "place_kind_exists": ("该场所已属于此类型：{kind}", "The place already holds kind {kind}"),
    "place_kind_not_found": ("该场所不属于此类型", "The place does not hold this kind"),
    "place_kinds_duplicate": ("场所类型不能重复", "A kind may be given once"),
    "place_last_kind": (
        "重点场所至少保留一个类型；不再是重点场所请取消关注",
        "A key place keeps at least one kind; unfollow the place instead",
    ),
    "team_not_found": ("服务团队不存在", "Service team not found"),
    "team_dissolved": ("服务团队已解散", "The service team is dissolved"),
    "team_member_not_found": ("团队成员不存在", "Team member not found"),
    "member_already_in_team": (
        "该人员已是本团队的在职成员",
        "The person is already an active member of this team",
    ),
    "member_has_records": (
        "该成员已有服务记录，不能删除，请改为注销",
        "The member has service records; deregister instead of deleting",
    ),
    "member_identity_required": (
        "成员须关联实有人口或填写姓名",
        "A member needs a person record or a name",
    ),
    "person_not_found": ("实有人口不存在", "Person not found"),
    "tag_not_found": ("业务人员不存在", "Business person not found"),
    "service_record_not_found": ("服务记录不存在", "Service record not found"),
    "service_members_one_team": (
        "一条服务记录的服务成员只能属于同一个服务团队",
        "All serving members of a record belong to its one team",
    ),
    "service_member_deregistered": (
        "已注销的成员不能添加服务记录",
        "A deregistered member cannot be put on a service record",
    ),
    "service_targets_one_kind": (
        "一条服务记录的服务对象只能属于同一类人员",
        "All served persons of a record are of one business kind",
    ),
    "component_not_found": ("城市部件不存在", "City component not found"),
    "component_code_taken": ("部件编码 {code} 已被使用", "Component code {code} is in use"),
    "component_already_bound": (
        "该城市部件已绑定标准地址，请先解除绑定",
        "The component is already bound to an address; unbind it first",
    ),
    "component_not_bound": ("该城市部件未绑定地址", "The component is not bound"),
    "component_deregistered": ("该城市部件已注销", "The component is deregistered"),
    "video_point_not_found": ("视频点位不存在", "Video point not found"),
    "url_invalid": (
        "地址格式无效，协议须为：{schemes}",
        "Invalid URL; the scheme must be one of: {schemes}",
    ),
    # business tags, system settings, notifications (R-LINK-1, R-KEY-1, R-KEY-2, R-CARE-1)
    "position_unit_required": (
        "仅属于组织单元的用户可上报位置",
        "Only a user of an org unit can report a position",
    ),
    "tag_details_invalid": ("业务人员明细信息校验未通过", "The tag details failed validation"),
    "tag_end_before_start": ("结束日期须晚于开始日期", "The end date must be after the start date"),
    "tag_age_out_of_range": (
        "年龄不符合「{label}」的条件（{range} 周岁）",
        "The person's age does not suit {label} ({range} years)",
    ),
    "tag_gender_mismatch": ("「{label}」仅适用于{gender}性", "{label} is only for gender {gender}"),
    "tag_conversion_not_allowed": (
        "「{source}」不能转为「{target}」",
        "A {source} tag cannot be converted to {target}",
    ),
    "tag_period_ended": (
        "「{label}」的关注期限已满，不能关注",
        "The follow-up period of {label} has ended",
    ),
    "person_required": (
        "本网格未登记该身份证号的实有人口，请先登记人员",
        "No active person with this ID number in the grid; register the person first",
    ),
    "setting_not_found": ("系统设置项 {key} 不存在", "Unknown setting {key}"),
    "setting_value_invalid": ("系统设置项 {key} 的取值无效", "Invalid value for setting {key}"),
    "notification_not_found": ("通知不存在", "Notification not found"),
    # standard addresses, houses and rentals (R-HOUSE-1, R-HOUSE-2, R-MAP-3); address_not_found
    # is shared with places, above
    "address_taken": ("标准地址“{full_text}”已存在", "The address {full_text} already exists"),
    "address_deregistered": ("该标准地址已注销", "The address is deregistered"),
    "address_in_use": (
        "仍有 {houses} 处房屋使用该标准地址，不能注销",
        "{houses} active houses use this address; it cannot be deregistered",
    ),
    "house_not_found": ("房屋不存在", "House not found"),
    "house_no_taken": (
        "房屋编号 {house_no} 已被其他房屋使用，请更换编号",
        "House number {house_no} is already used by another house",
    ),
    "house_address_required": (
        "请填写房屋地址或选择标准地址",
        "Give the house's address or a standard address",
    ),
    "house_in_use": (
        "该房屋仍有 {residents} 名居住人员、{rentals} 条有效出租登记，请先处理后再注销",
        "The house still has {residents} residents and {rentals} active rentals",
    ),
    "house_deregistered": (
        "房屋 {house_no} 已注销，不能登记出租",
        "House {house_no} is deregistered; it cannot be let",
    ),
    "rental_not_found": ("出租房记录不存在", "Rental not found"),
    # actual population, households and families (R-POP-1..5, R-HH-1, R-HH-2); person_not_found
    # and house_not_found are shared, above
    "id_number_invalid": ("身份证号码校验未通过", "The ID number failed validation"),
    "id_number_format": (
        "身份证号码应为18位（末位可为X）或15位数字",
        "An ID number has 18 characters (the last may be X) or 15 digits",
    ),
    "id_number_checksum": ("身份证号码校验码错误", "Wrong check character in the ID number"),
    "id_number_permit": (
        "以 {region} 开头的是港澳台居民居住证号码，不是居民身份证号码，"
        "请按境外人员登记并填写通行证件",
        "A number starting {region} is a Hong Kong, Macao or Taiwan residence permit, not a "
        "resident ID: register the person as overseas with their permit",
    ),
    "id_number_region": (
        "身份证号码的行政区划代码 {region} 不存在",
        "Division code {region} of the ID number does not exist",
    ),
    "id_number_birth_date": (
        "身份证号码中的出生日期无效或晚于今天",
        "The birth date in the ID number is invalid or in the future",
    ),
    "birth_date_mismatch": (
        "出生日期与身份证号码不一致",
        "The birth date disagrees with the ID number",
    ),
    "gender_mismatch": ("性别与身份证号码不一致", "The gender disagrees with the ID number"),
    "overseas_id_number": (
        "境外人员以证件类型、国籍和证件号码识别，不填写身份证号码",
        "Overseas people are identified by document type, nationality and number, not an ID",
    ),
    "residence_invalid": ("居住信息有误", "Invalid residence"),
    "no_house_reason_required": (
        "未关联居住房屋时须填写无房原因",
        "Without a house, a no-house reason is required",
    ),
    "no_house_reason_with_house": (
        "已关联居住房屋时不填写无房原因",
        "A person living in a house has no no-house reason",
    ),
    "house_inactive": ("该房屋已注销，不能登记居住", "The house is deregistered"),
    "record_deregistered": (
        "记录已注销，请先恢复后再修改",
        "The record is deregistered; restore it before changing it",
    ),
    "settle_not_unsettled": ("只有未落户人员可以办理落户", "Only unsettled people can settle"),
    "date_in_future": ("日期不能晚于今天", "The date cannot be in the future"),
    "household_not_found": ("户籍家庭不存在", "Household not found"),
    "family_not_found": ("家庭不存在", "Family not found"),
    "household_no_taken": (
        "户号 {household_no} 已被使用",
        "Household number {household_no} is in use",
    ),
    "family_no_taken": ("家庭编号 {family_no} 已被使用", "Family number {family_no} is in use"),
    "already_in_household": (
        "该人员已属于一个户籍家庭",
        "The person already belongs to a household",
    ),
    "already_in_family": ("该人员已属于一个家庭", "The person already belongs to a family"),
    "household_not_empty": (
        "户籍家庭仍有成员，不能删除",
        "The household still has members; it cannot be deleted",
    ),
    "family_not_empty": ("家庭仍有成员，不能删除", "The family still has members"),
    "member_not_active": ("已注销的人员不能加入家庭", "A deregistered person cannot join"),
    "member_other_grid": (
        "家庭成员须为本网格登记的人员",
        "Members are people registered in the group's grid",
    ),
    "member_not_registered": (
        "户籍家庭成员须为户籍人口",
        "Household members are registered residents",
    ),
    "member_not_found": ("该人员不是本家庭成员", "The person is not a member"),
    "relation_head_reserved": (
        "户主关系通过变更户主设置",
        "The head's relation is set by changing the head",
    ),
    "head_not_member": ("户主须为本家庭成员", "The head must be a member"),
    "head_must_change_first": (
        "请先变更户主，再移出原户主",
        "Change the head before removing the current one",
    ),
    # attachments (R-EVT-1, R-MOB-1) and duplicates (R-EVT-3)
    "too_large": ("请求内容过大", "The request is too large"),
    # bounded request bodies and geometries (api/body_guard.py, domain/geo.py)
    "body_too_large": (
        "请求内容超过 {limit_mb} MB 上限，请分批提交或改用文件导入",
        "The request body exceeds the {limit_mb} MB limit; send it in parts or import a file",
    ),
    "json_too_deep": (
        "JSON 嵌套层数超过 {max} 层上限",
        "The JSON nesting exceeds the limit of {max} levels",
    ),
    "json_too_complex": (
        "JSON 内容过于复杂：数组和对象合计最多 {max} 个，批量数据请改用文件导入",
        "The JSON holds too many arrays and objects (at most {max}); import bulk data as a file",
    ),
    "geometry_too_complex": (
        "图形顶点过多：最多 {max} 个，请简化后再提交",
        "The geometry has too many vertices (at most {max}); simplify it first",
    ),
    "attachment_too_large": (
        "文件超过大小限制（{limit_mb} MB）",
        "The file exceeds the size limit ({limit_mb} MB)",
    ),
    "attachment_type_unsupported": (
        "不支持的文件类型（{type}），仅接受照片、音频、视频和 PDF 文档",
        "Unsupported file type ({type}); photos, audio, video and PDF documents are accepted",
    ),
    "attachment_type_mismatch": (
        "文件内容为 {detected}，与声明的类型 {declared} 不符",
        "The content is {detected}, not the declared {declared}",
    ),
    "attachment_image_invalid": (
        "图片无法解码或像素过多",
        "The image cannot be decoded or has too many pixels",
    ),
    "attachment_not_found": ("附件不存在", "Attachment not found"),
    "attachment_not_yours": (
        "只有上传者或督办人员可以删除附件",
        "Only the uploader or a supervisor may delete the attachment",
    ),
    "attachment_uploads_invalid": (
        "附件须为本人已完成且尚未使用的上传",
        "Attachments must be your own finished, unused uploads",
    ),
    "upload_not_found": ("上传任务不存在", "Upload not found"),
    "upload_sha256_invalid": (
        "SHA-256 须为 64 位十六进制字符",
        "The SHA-256 must be 64 hexadecimal characters",
    ),
    "upload_range_invalid": (
        "Content-Range 须为 bytes 起-止/总长，且与上传总长一致",
        "Content-Range must be bytes START-END/TOTAL matching the upload's size",
    ),
    "upload_chunk_too_large": (
        "分片超过大小限制（{limit_mb} MB）",
        "The chunk exceeds the size limit ({limit_mb} MB)",
    ),
    "upload_chunk_incomplete": (
        "分片内容长度与 Content-Range 不符，请从当前偏移量重传",
        "The chunk's length disagrees with Content-Range; resend from the current offset",
    ),
    "upload_offset_mismatch": (
        "分片须从偏移量 {offset} 开始续传",
        "The chunk must start at offset {offset}",
    ),
    "upload_not_receiving": (
        "该上传已完成，不再接收分片",
        "The upload is finished and takes no more chunks",
    ),
    "upload_incomplete": (
        "上传尚未完成：已接收 {received} / {size} 字节",
        "The upload is incomplete: {received} of {size} bytes received",
    ),
    "upload_checksum_mismatch": (
        "文件校验和与声明的 SHA-256 不符，请重新上传",
        "The file's checksum differs from the declared SHA-256; upload it again",
    ),
    "duplicate_original_not_found": (
        "原事件不存在或不在管辖范围内",
        "The original event does not exist or is outside your jurisdiction",
    ),
    "duplicate_of_itself": ("事件不能标记为自身的重复", "An event cannot duplicate itself"),
    "duplicate_of_duplicate": (
        "原事件本身已是重复事件，请关联其原事件",
        "The original is itself a duplicate; link to its original instead",
    ),
    "duplicate_has_duplicates": (
        "已有其他事件关联到本事件，不能再标记为重复",
        "Other events are linked to this one; it cannot become a duplicate",
    ),
    # events (R-EVT-1, R-WF-1)
    "event_not_found": ("事件不存在", "Event not found"),
    "event_subtype_unknown": (
        "事件小类不在该大类的字典中",
        "The sub-type is not listed for this category",
    ),
    "event_action_unknown": ("未知的事件操作", "Unknown event action"),
    "event_action_invalid": ("操作参数有误", "The action's fields are invalid"),
    "field_not_allowed": ("该操作不接受此字段", "This action does not take this field"),
    "phone_invalid": ("电话号码格式不正确", "Invalid phone number"),
    "event_target_required": (
        "须且只能指定一个承办单位或职能部门",
        "Name exactly one unit or department",
    ),
    "event_place_invalid": ("重点场所须为本网格的场所", "The place must be one of the grid's"),
    "event_changed": (
        "事件已被他人处理，请刷新后重试",
        "The event changed meanwhile; reload and retry",
    ),
    "event_target_invalid": (
        "承办对象不在可交办范围内",
        "The target is not one this step may hand the event to",
    ),
    # Supervision and the assessment ledger (R-SUP-1, R-SUP-5).
    "supervision_not_found": ("没有可撤销的人工督办", "No open manual supervision to cancel"),
    # Routing rules and the manual dispatch queue (R-WF-3).
    "routing_rule_invalid": ("分流规则校验未通过", "The routing rule is invalid"),
    "routing_rule_not_found": ("分流规则不存在", "No such routing rule"),
    "routing_level_invalid": (
        "适用层级须为社区、街道或区县",
        "The level must be community, street or district",
    ),
    "routing_level_below_owner": (
        "适用层级不能高于规则所属单位",
        "The level must not lie above the owning unit",
    ),
    "routing_keyword_blank": ("关键词不能为空", "Keywords must not be blank"),
    "routing_keywords_too_many": ("关键词最多 {max} 个", "At most {max} keywords"),
    "routing_keyword_too_long": (
        "每个关键词最多 {max} 个字",
        "Each keyword has at most {max} characters",
    ),
    # Appeals against a verification (R-WF-2).
    "verification_not_found": (
        "没有可申诉的核查评价（不满意或未落实）",
        "No unsatisfied or not-implemented verification to appeal",
    ),
    "appeal_exists": ("该核查评价已申诉过", "This verification was already appealed"),
    "appeal_not_found": ("没有待裁定的申诉", "No undecided appeal"),
    # Assessment (R-ASM-1 … R-ASM-5).
    "rule_set_not_found": ("考核细则不存在", "No such assessment rule set"),
    "rule_set_state": (
        "考核细则当前状态（{state}）不允许此操作（{action}）",
        "The rule set's state ({state}) does not allow {action}",
    ),
    "rule_set_changed": ("考核细则已被他人修改，请刷新后重试", "The rule set changed meanwhile"),
    "rule_set_enabled_exists": (
        "该单位本年度同类考核细则已有启用的版本",
        "The owner already has an enabled rule set of this year and kind",
    ),
    "assessment_rules_invalid": ("考核细则校验未通过", "The rule set's items are invalid"),
    "assessment_item_code_invalid": (
        "考核项编码须为小写字母开头的字母、数字或下划线（最多32位）",
        "An item code is lower-case letters, digits and underscores (at most 32)",
    ),
    "assessment_item_code_taken": ("考核项编码重复", "The item code is used twice"),
    "assessment_points_invalid": (
        "分值须非零、绝对值不超过100、最多一位小数",
        "Points are non-zero, at most 100 and have at most one decimal",
    ),
    "assessment_signal_taken": (
        "同一系统指标只能绑定一个考核项",
        "A system signal is bound to one item at most",
    ),
    "assessment_card_points_whole": (
        "督办黄牌、红牌的分值须为整数且不设上限",
        "Card items have whole points and no cap",
    ),
    "assessment_cap_invalid": ("上限不能小于单次分值", "The cap is below one item's points"),
    "assessment_scores_invalid": ("评分校验未通过", "The scores are invalid"),
    "assessment_manual_item_unknown": (
        "不是适用考核细则中的人工考核项，或重复评分",
        "Not a manual item of the applicable rule set, or scored twice",
    ),
    "assessment_points_out_of_range": (
        "评分须与考核项同号，且不超过其分值（或上限）",
        "A score has the item's sign and at most its points (or cap)",
    ),
    "assessment_not_assessed": ("该单位不参加考核", "This unit is not assessed"),
    "review_holder_required": (
        "须且只能指定一个被考核单位或部门",
        "Name exactly one unit or department",
    ),
    "finding_not_found": ("考核认定不存在", "No such assessment finding"),
    "finding_exists": (
        "该事件已有对该单位的同类考核认定",
        "A standing finding of this kind on this event and unit exists",
    ),
    "finding_revoked": ("该考核认定已撤销", "The finding was revoked already"),
    "finding_period_archived": (
        "该单位 {period} 的考核已归档，不能再变更考核认定",
        "The unit's assessment of {period} is archived; its findings stand",
    ),
    "finding_unit_unrelated": (
        "该单位既未上报也未办理此事件",
        "The unit neither reported nor handled this event",
    ),
    "finding_unit_not_assessed": (
        "考核认定只针对社区或网格",
        "Findings charge a community or a grid",
    ),
    "finding_not_superior": (
        "考核认定由上级单位作出，不能认定本单位",
        "A finding is recorded by a superior, not by the unit itself",
    ),
    "review_not_found": ("考核评分表不存在", "No such review"),
    "review_exists": ("该单位本期考核评分表已存在", "The review of this period already exists"),
    "review_changed": ("考核评分表已被他人修改，请刷新后重试", "The review changed meanwhile"),
    "review_not_yours": (
        "只有被考核单位本身或其直接上级可执行此操作（{action}）",
        "Only the assessed unit or its direct superior may {action} here",
    ),
    "review_transition_not_allowed": (
        "考核评分表当前状态（{state}）不允许此操作（{action}）",
        "The review's state ({state}) does not allow {action}",
    ),
    # Citizens and the hotline (R-CIT-1).
    "location_outside_city": (
        "所选位置不在本平台的网格范围内",
        "The location lies outside every grid of the platform",
    ),
    "receipt_invalid": ("回执码格式不正确", "Not a receipt code"),
    "receipt_not_found": ("未找到该回执码对应的诉求", "No submission has this receipt code"),
    "rating_not_open": ("诉求尚未办理完毕，暂不能评价", "It can be rated once it was handled"),
    "already_rated": ("已评价过，不能重复评价", "It was already rated"),
    "hotline_call_invalid": ("来电登记内容有误", "The call's fields are invalid"),
    "hotline_nuisance_event": ("骚扰电话不登记事件", "A nuisance call reports no event"),
    "hotline_call_not_found": ("来电记录不存在", "No such call"),
    "callback_not_due": (
        "该来电无需回访或事件尚未办理完毕",
        "This call asks for no call-back, or its event is not handled yet",
    ),
    "callback_done": ("已回访过", "The call-back was already recorded"),
    # imports, claims and comparisons (SPEC §4)
    "registry_unknown": ("没有这一类数据的导入模板", "No import template for this registry"),
    "import_needs_district": ("导入须指定县区", "An import is addressed to a district"),
    "import_format_unsupported": (
        "仅支持 XLSX、CSV 或 XML 文件",
        "Only XLSX, CSV or XML files are accepted",
    ),
    "import_file_empty": ("文件为空", "The file is empty"),
    "import_encoding_invalid": (
        "文件编码无法识别（请使用 UTF-8 或 GBK）",
        "The file's encoding is not UTF-8 or GBK",
    ),
    "import_file_unreadable": ("文件无法读取", "The file cannot be read"),
    "import_columns_mismatch": (
        "文件的列与「{registry}」模板不一致，整个文件未导入",
        "The file's columns differ from the {registry} template; nothing was imported",
    ),
    "column_missing": ("缺少此列", "This column is missing"),
    "column_unexpected": ("模板中没有此列", "This column is not in the template"),
    "import_not_found": ("导入任务不存在", "No such import"),
    "import_finished": ("导入已结束（{state}），不能取消", "The import is over ({state})"),
    "identity_required": (
        "须填写证件号码或姓名（单位、场所须填写名称）",
        "An ID number or a name is required (a name for organisations)",
    ),
    "licence_invalid": ("统一社会信用代码校验未通过", "The licence number is invalid"),
    "grid_not_in_district": ("该网格不在导入的县区内", "No such grid in the district"),
    "import_row_not_found": ("导入池中没有这一行", "No such row in the import pool"),
    "import_row_claimed": ("该行已被认领", "The row has been claimed"),
    "import_row_no_duplicate": (
        "网格中没有与该行重复的在册记录",
        "No active record in the grid duplicates this row",
    ),
    "comparison_not_found": ("比对记录不存在", "No such comparison"),
    "callback_satisfaction": (
        "联系上来电人时须填写满意度，未联系上时不填",
        "Give the caller's satisfaction exactly when they were reached",
    ),
    # ledger files (R-DAY-2)
    "ledger_attachment_invalid": (
        "附件须为本人已上传完成、尚未使用的文件",
        "The attachment must be a finished, unused upload of your own",
    ),
    "ledger_attachment_not_found": ("台账附件不存在", "No such ledger attachment"),
    # jurisdiction profile photos (R-JURINFO-1)
    "profile_image_upload_invalid": (
        "照片须为本人已上传完成、尚未使用的图片",
        "The photo must be a finished, unused image upload of your own",
    ),
    "profile_image_not_found": ("辖区照片不存在", "No such profile photo"),
    # API keys (R-API-1) and webhooks (R-API-3)
    "api_key_invalid": ("接口密钥无效", "The API key is invalid"),
    "api_key_expired": ("接口密钥已过期", "The API key has expired"),
    "api_key_revoked": ("接口密钥已吊销", "The API key has been revoked"),
    "api_key_not_found": ("接口密钥不存在", "No such API key"),
    "api_key_inactive": ("接口密钥已过期或已吊销", "The API key is expired or revoked"),
    "operation_unknown": ("未知操作权限：{operation}", "Unknown operation: {operation}"),
    "operation_not_grantable": (
        "不能授予接口密钥该操作权限：{operation}",
        "The operation cannot be granted to a key: {operation}",
    ),
    "operations_required": ("至少授予一项操作权限", "Grant at least one operation"),
    "expiry_in_past": ("有效期必须晚于当前时间", "The expiry must lie in the future"),
    "expiry_too_far": ("有效期最长两年", "A key lives two years at most"),
    "overlap_invalid": (
        "新旧密钥并存时间须在 0 至 7 天之间",
        "The overlap must lie between 0 and 7 days",
    ),
    "webhook_invalid": ("事件推送订阅内容有误", "The webhook subscription is invalid"),
    "webhook_not_found": ("事件推送订阅不存在", "No such webhook subscription"),
    "webhook_url_invalid": (
        "推送地址须为 http(s) 地址且不含用户名密码",
        "The target must be an http(s) URL without credentials",
    ),
    "webhook_url_forbidden": (
        "推送地址指向内网、本机或保留地址，已拒绝",
        "The target resolves to a loopback, private, link-local or reserved address",
    ),
    "webhook_url_unresolved": ("推送地址的主机名无法解析", "The target's host does not resolve"),
    "webhook_action_unknown": ("未知事件动作：{action}", "Unknown event action: {action}"),
    "webhook_key_cannot_read_events": (
        "该接口密钥没有查看事件的权限，无法订阅事件推送",
        "The key may not read events, so it cannot subscribe to their changes",
    ),
    # field work, offline sync (R-MOB-1, R-MOB-2)
    "user_not_found": ("用户不存在", "User not found"),
    "visit_not_found": ("民情日记不存在", "Visit log entry not found"),
    "visit_link_invalid": (
        "关联的人员或房屋须属于该网格",
        "The linked person or house must belong to the visit's grid",
    ),
    "check_in_open": ("已有未签退的打卡，请先签退", "A check-in is still open; check out first"),
    "no_open_check_in": ("当前没有未签退的打卡", "No check-in is open"),
    "handbook_not_found": ("工作手册不存在", "Handbook not found"),
    "sync_target_required": ("该操作须指明目标记录", "This operation needs a target_id"),
    # daily work (R-DAY-1, R-DAY-2)
    "period_invalid": (
        "报表期间格式错误（月：2026-11，季：2026-Q4，年：2026）",
        "Malformed period (month 2026-11, quarter 2026-Q4, year 2026)",
    ),
    "period_not_over": ("该期间尚未结束，不能填报", "The period is not over yet"),
    "report_level_invalid": (
        "报表由社区填报，街道、区县为下级汇总",
        "Reports are filed by communities; streets and districts get the roll-up",
    ),
    "report_already_filed": ("本期报表已填报", "This period's report was already filed"),
    "report_not_found": ("报表不存在", "Report not found"),
    "figures_invalid": ("报表数字有误：{detail}", "Invalid figures: {detail}"),
    "amend_needs_superior": (
        "只有上级单位可以修正下级报表",
        "Only a superior unit may amend a subordinate's report",
    ),
    "ledger_entry_not_found": ("台账记录不存在", "Ledger entry not found"),
    "ledger_subtype_invalid": ("台账类型与子类不符", "The sub-type does not fit the ledger kind"),
    "ledger_year_mismatch": ("日期须在台账年度内", "The date must lie in the ledger's year"),
    "ledger_doc_no_required": ("文件台账须填写文号", "A document entry needs its number"),
    "analysis_window_invalid": (
        "统计截止日期不能早于起始日期",
        "The end date is before the start date",
    ),
    "analysis_window_too_long": (
        "统计区间过长，请缩短区间或改用更粗的粒度",
        "The period is too long: shorten it or choose a coarser granularity",
    ),
    "notice_recipient_invalid": (
        "收件人须为本单位及下级的在职用户",
        "Recipients must be active users of the unit or below it",
    ),
    "notice_not_found": ("通知公告不存在", "The notice does not exist"),
}


def render(code: str, params: dict[str, Any], lang: str) -> str:
    """The message for `code` in `lang` ("zh" or "en"), parameters filled in."""
    zh, en = MESSAGES.get(code, MESSAGES["error"])
    template = en if lang == "en" else zh
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template
