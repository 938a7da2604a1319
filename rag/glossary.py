"""English → Chinese terminology for the standardisation domain.

English questions share no tokens with the Chinese text, and the small multilingual embedder is
weak across languages; mapping domain terms lets BM25 and the sentence scorer see them. This is a
terminology list for the policy area (the office can extend it), not answers to questions.
"""

from __future__ import annotations

import re

GLOSSARY: dict[str, str] = {
    # document and process
    "public comment": "征求意见", "comments": "意见", "comment": "意见", "feedback": "反馈",
    "deadline": "截止", "contact person": "联系人", "contact": "联系人", "phone": "电话",
    "telephone": "电话", "email": "邮箱", "e-mail": "邮箱", "draft": "征求意见稿",
    "notice": "公告", "issued": "印发", "issue": "印发", "name of": "名义",
    "market supervision": "市场监督管理局", "market regulation": "市场监管局",
    "provincial": "浙江省", "province": "省", "zhejiang": "浙江", "taizhou": "台州",
    "sanmen": "三门", "county": "县", "document number": "文号", "national": "国家",
    "outline": "纲要", "based on": "根据", "implement": "贯彻落实",
    "guiding ideology": "指导思想", "guiding principle": "指导思想", "guideline": "指导思想",
    "xi jinping": "习近平", "thought": "思想", "goal": "目标", "goals": "目标", "target": "目标",
    "targets": "目标", "objective": "目标", "2025": "2025年", "by 2025": "到2025年",
    # standards vocabulary
    "standardization": "标准化", "standardisation": "标准化", "standards": "标准", "standard": "标准",
    "local standard": "地方标准", "local standards": "地方标准", "group standard": "团体标准",
    "group standards": "团体标准", "association standard": "团体标准", "enterprise standard": "企业标准",
    "enterprise standards": "企业标准", "national standard": "国家标准", "national standards": "国家标准",
    "international standard": "国际标准", "international standards": "国际标准",
    "chief standards engineer": "企业标准总师", "chief standards engineers": "企业标准总师",
    "chief standardization engineer": "企业标准总师", "standardization engineer": "标准化工程师",
    "self-declaration": "自我声明公开", "self declaration": "自我声明公开", "qr code": "二维码",
    "qr codes": "二维码", "forerunner": "领跑者", "front-runner": "领跑者", "leader": "领跑者",
    "zhejiang standard": "浙江标准", "zhejiang manufacturing": "浙江制造", "made in zhejiang": "浙江制造",
    "pilot": "试点", "pilots": "试点", "demonstration": "示范", "demonstration zone": "示范区",
    "innovation contribution award": "标准创新贡献奖", "award": "奖", "awards": "奖", "reward": "奖励",
    "rewards": "奖励", "patent": "专利", "patents": "专利", "intellectual property": "知识产权",
    "trade secret": "商业秘密", "trade secrets": "商业秘密", "alliance": "联盟",
    "technical committee": "技术委员会", "secretariat": "秘书处", "financing": "融资",
    "credit enhancement": "融资增信", "huangyan": "黄岩", "formulation cycle": "制定周期",
    "formulate": "制定", "formulation": "制定", "revise": "制修订", "revision": "制修订",
    "lead": "牵头", "leading": "牵头", "take the lead": "牵头", "months": "个月", "month": "个月",
    "average": "平均", "cultivate": "培育", "cultivated": "培育", "foster": "培育", "fostered": "培育",
    "trained": "培育", "train": "培育", "nurture": "培育", "ratio": "比率", "percentage": "比率", "percent": "比率",
    "research results": "研究成果", "science and technology": "科技", "technology": "技术",
    "technological innovation": "科技创新", "innovation": "创新", "research": "研究",
    "key technologies": "关键技术", "key technology": "关键技术", "key technical": "关键技术",
    "blockchain": "区块链", "metaverse": "元宇宙", "marine": "海洋", "life health": "生命健康",
    "new energy vehicles": "新能源汽车", "new materials": "新材料", "aerospace": "航空航天",
    "rubber": "橡胶", "plastics": "塑料", "textile": "纺织", "garments": "服装", "clothing": "服装",
    "molds": "模具", "moulds": "模具", "equipment": "装备", "pumps": "泵", "pump": "泵", "motors": "电机",
    "valves": "阀门", "plumbing": "水暖", "independently controllable": "自主可控",
    "digital economy": "数字经济", "industrial internet": "工业互联网", "future factory": "未来工厂",
    "future factories": "未来工厂", "smart manufacturing": "智能制造", "intelligent manufacturing": "智能制造",
    "manufacturing": "制造", "cnc machine tools": "数控机床", "machine tools": "数控机床",
    "first set": "首台套", "industrial chain": "产业链", "supply chain": "供应链",
    "consumer goods": "消费品", "service industry": "服务业", "services": "服务业", "logistics": "物流",
    "finance": "金融", "elderly care": "康养", "health care": "医疗康养", "tourism": "旅游",
    "testing": "检验检测", "inspection": "检验检测", "certification": "认证",
    "common prosperity": "共同富裕", "income distribution": "收入分配", "government services": "政务服务",
    "business environment": "营商环境", "credit supervision": "信用监管", "one-stop": "一网通办",
    "social governance": "社会治理", "grid": "网格", "public safety": "公共安全",
    "cybersecurity": "网络安全", "epidemic": "疫情防控", "public health": "公共卫生",
    "public services": "公共服务", "public service": "公共服务", "priority areas": "重点领域",
    "key areas": "重点领域", "areas": "领域", "fields": "领域", "life cycle": "全生命周期",
    "green": "绿色", "low-carbon": "低碳", "low carbon": "低碳", "zero-carbon": "零碳", "carbon": "碳",
    "green factory": "绿色工厂", "green factories": "绿色工厂", "green building": "绿色建筑",
    "garbage sorting": "垃圾分类", "waste sorting": "垃圾分类", "food waste": "餐饮浪费",
    "gep": "GEP", "gross ecosystem product": "生态产品总值", "ecological": "生态", "ecology": "生态",
    "pollutant": "污染物", "pollution": "污染", "coastal zone": "海岸带", "coastline": "海岸带",
    "underground space": "地下空间", "urban-rural": "城乡融合", "rural": "乡村", "agriculture": "农业",
    "agricultural": "农业", "rural revitalization": "乡村振兴", "future community": "未来社区",
    "mountain": "山区", "mountainous": "山区", "coastal": "沿海", "enclave": "飞地",
    "yangtze river delta": "长三角", "yangtze delta": "长三角", "regional": "区域",
    "resources": "资源", "data": "数据", "talent": "人才", "talents": "人才",
    "rcep": "RCEP", "international": "国际", "opening up": "对外开放", "openness": "开放",
    "trade facilitation": "贸易便利化", "technical barriers to trade": "技术性贸易壁垒",
    "trade barriers": "贸易壁垒", "chamber of commerce": "商会", "chambers of commerce": "商会",
    "private economy": "民营经济", "private enterprises": "民营经济", "sister": "合作县城",
    "same line": "同线同标同质", "domestic and foreign trade": "内外贸",
    "small and micro": "中小微企业", "smes": "中小微企业", "service agencies": "标准化服务机构",
    "service institutions": "标准化服务机构", "statistics": "统计", "monitoring": "监测",
    "contract": "合同", "contracts": "合同", "laws and regulations": "法规规章", "regulations": "法规",
    "market access": "市场准入", "supervision": "监督", "implementation": "实施",
    "organizational leadership": "组织领导", "leadership": "领导", "performance evaluation": "绩效评价",
    "assessment": "考核", "townships": "乡镇", "township": "乡镇", "subdistricts": "街道",
    "fiscal": "财政", "funding": "经费", "policies": "政策", "policy": "政策",
    "high-level talent": "高层次人才", "professional titles": "职称评聘", "professional title": "职称",
    "innovation base": "技术标准创新基地", "think tank": "智库", "experts": "专家", "expert": "专家",
    "publicity": "宣传", "awareness": "标准化意识", "training base": "实训基地",
    "popular science": "科普", "education": "教育", "safeguard": "保障措施", "measures": "举措",
}
_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in sorted(GLOSSARY, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


def english_to_terms(text: str) -> list[str]:
    """Chinese terms for the domain phrases found in an English question (longest match first)."""
    return list(dict.fromkeys(GLOSSARY[m.group(1).lower()] for m in _PATTERN.finditer(text)))
