"""Write the hand-labelled seed fixture, evals/seed/reuters-2018-01-26-cambodians-deportation.yaml.

The labels are written here as (words, context) pairs instead of offsets: ``sp("Carney", "Carney wrote")``
finds the unique context in the article and the words inside it, so no offset is ever counted by hand and
an ambiguous anchor is an error. Run it after changing a label:

    .venv/bin/python evals/label_seed.py

The labelling conventions are in evals/README.md ("The seed case").
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from factkit.eval._fixtures import Case, dump_case_yaml, load_cases  # noqa: E402

NAME = "reuters-2018-01-26-cambodians-deportation"
ARTICLE = ROOT / "seeds" / f"{NAME}.txt"
OUT = ROOT / "evals" / "seed" / f"{NAME}.yaml"
TEXT = ARTICLE.read_bytes().decode("utf-8")


def sp(words: str, context: str | None = None) -> dict[str, Any]:
    """The span of ``words``: unique in the article, or the first time it occurs in the unique ``context``."""
    anchor = words if context is None else context
    first = TEXT.find(anchor)
    if first < 0 or TEXT.find(anchor, first + 1) >= 0:
        raise SystemExit(f"{anchor!r} occurs {TEXT.count(anchor)} times in the article; give a unique context")
    inner = anchor.find(words)
    if inner < 0:
        raise SystemExit(f"{words!r} is not inside its context {context!r}")
    start = first + inner
    return {"start": start, "end": start + len(words), "text": words}


def entity(name: str, etype: str, aliases: list[str], mentions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "type": etype,
        "aliases": aliases,
        "mentions": sorted(mentions, key=lambda m: m["start"]),
    }


ENTITIES = [
    # ---- people
    entity(
        "Donald Trump",
        "person",
        ["President Donald Trump", "Trump"],
        [sp("President Donald Trump"), sp("Trump", "the Trump administration")],
    ),
    entity(
        "Cormac Carney",
        "person",
        ["U.S. District Judge Cormac Carney", "Judge Cormac Carney", "Carney"],
        [
            sp("U.S. judge", "U.S. judge blocks"),
            sp("A federal judge"),
            sp("U.S. District Judge Cormac Carney"),
            sp("the judge", "the judge called insensitive"),
            sp("Carney", "Carney wrote"),
        ],
    ),
    entity(
        "Lee Gelernt",
        "person",
        ["Gelernt"],
        [sp("Lee Gelernt"), sp("he", "he said"), sp("Gelernt", "Gelernt said")],
    ),
    entity("Dan Levine", "person", [], [sp("Dan Levine")]),
    entity("Mica Rosenberg", "person", [], [sp("Mica Rosenberg")]),
    entity("Roberta Rampton", "person", [], [sp("Roberta Rampton")]),
    entity("Alistair Bell", "person", [], [sp("Alistair Bell")]),
    # ---- organizations
    entity("Reuters", "organization", [], [sp("Reuters")]),
    entity(
        "Trump administration",
        "organization",
        ["President Donald Trump’s administration", "Trump’s administration"],
        [
            sp("President Donald Trump’s administration"),
            sp("the Trump administration"),
            sp("The government", "The government said"),
            sp("the Government"),
            sp("the government", "stopping the government"),
            sp("the administration", "the administration’s claim"),
        ],
    ),
    entity(
        "United States Department of Justice",
        "organization",
        ["U.S. Department of Justice", "Department of Justice"],
        [sp("U.S. Department of Justice")],
    ),
    entity(
        "American Civil Liberties Union",
        "organization",
        ["ACLU"],
        [sp("American Civil Liberties Union")],
    ),
    entity(
        "ACLU Immigrants’ Rights Project",
        "organization",
        ["American Civil Liberties Union Immigrants’ Rights Project", "Immigrants’ Rights Project"],
        [sp("the American Civil Liberties Union Immigrants’ Rights Project")],
    ),
    entity(
        "United States District Court for the Central District of California",
        "organization",
        ["Santa Ana, California federal court", "U.S. District Court"],
        [sp("Santa Ana, California federal court")],
    ),
    entity("Khmer Rouge", "organization", [], [sp("the Khmer Rouge government")]),
    # ---- locations
    entity("San Francisco", "location", ["SAN FRANCISCO"], [sp("SAN FRANCISCO")]),
    entity("New York City", "location", ["NEW YORK", "New York"], [sp("NEW YORK")]),
    entity(
        "United States",
        "location",
        ["U.S."],
        [
            sp("U.S.", "U.S. judge blocks"),
            sp("the United States", "from the United States"),
            sp("U.S.", "U.S. immigration authorities"),
            sp("the United States", "arriving in the United States"),
            sp("U.S.", "U.S. District Judge"),
            sp("the country", "remain in the country"),
            sp("U.S.", "U.S. Department of Justice"),
            sp("U.S.", "U.S. judges"),
            sp("the country", "long lived in the country"),
        ],
    ),
    entity("Cambodia", "location", [], [sp("Cambodia", "However Cambodia")]),
    entity("Santa Ana, California", "location", ["Santa Ana"], [sp("Santa Ana")]),
    entity("California", "location", [], [sp("California", "Santa Ana, California")]),
    entity("Washington, D.C.", "location", ["Washington"], [sp("Washington")]),
    # ---- other: nationalities named as groups of people
    entity(
        "Cambodians",
        "other",
        [],
        [
            sp("Cambodians", "deportation of Cambodians"),
            sp("Cambodians", "approximately 100 Cambodians"),
            sp("the Cambodians", "the Cambodians had been"),
            sp("the Cambodians", "92 of the Cambodians"),
            sp("the Cambodians", "the Cambodians’ request"),
            sp("the Cambodians", "represents the Cambodians"),
        ],
    ),
    entity("Iraqis", "other", [], [sp("Iraqis")]),
    entity("Indonesians", "other", [], [sp("Indonesians")]),
    entity("Somalians", "other", [], [sp("Somalians")]),
]

CARNEY_QUOTE = (
    "It is disingenuous for the Government to claim that throughout the many years that Petitioners were "
    "permitted to live and work on supervised release, they should not have built up any expectation that "
    "they would be permitted to remain in the country"
)
GELERNT_QUOTE = (
    "In each case, the courts have soundly rejected the administration’s claim that it is necessary to "
    "abruptly remove these long term residents without giving them due process"
)

QUOTES = [
    {**sp(CARNEY_QUOTE), "speaker": "Cormac Carney"},
    {**sp(GELERNT_QUOTE), "speaker": "Lee Gelernt"},
]

QUANTITIES = [
    {**sp("92 Cambodian citizens"), "value": 92, "unit": "Cambodian citizens", "approximate": False},
    {**sp("approximately 100 Cambodians"), "value": 100, "unit": "Cambodians", "approximate": True},
    {**sp("92 of the Cambodians"), "value": 92, "unit": "Cambodians", "approximate": False},
    {**sp("Three other U.S. judges"), "value": 3, "unit": "judges", "approximate": False},
]

DATES = [
    {**sp("January 26, 2018"), "value": "2018-01-26"},
    {**sp("8:49 PM"), "value": "20:49:00"},
    {**sp("late on Thursday"), "value": "2018-01-25"},
    {**sp("last October"), "value": "2017-10"},
    {**sp("the 1970s"), "value": "197X"},
    {**sp("years ago"), "value": None},
    {**sp("last year"), "value": "2017"},
    {**sp("Thursday", "In a ruling on Thursday"), "value": "2018-01-25"},
]


def fact(statement: str, evidence: dict[str, Any], key: bool = False) -> dict[str, Any]:
    return {"statement": statement, "evidence": evidence, "key": key}


FACTS = [
    fact(
        "A U.S. federal judge ruled that the Trump administration cannot immediately deport 92 Cambodian "
        "citizens without first giving them a chance to challenge the action in court.",
        sp(
            "A federal judge late on Thursday said President Donald Trump’s administration cannot "
            "immediately deport 92 Cambodian citizens from the United States without first allowing them "
            "a chance to challenge the action in court."
        ),
        key=True,
    ),
    fact(
        "The ruling was issued on Thursday, January 25, 2018, by U.S. District Judge Cormac Carney of the "
        "federal court in Santa Ana, California.",
        sp("In a ruling on Thursday, U.S. District Judge Cormac Carney in Santa Ana, California federal court ruled"),
        key=True,
    ),
    fact(
        "U.S. immigration authorities arrested approximately 100 Cambodians in raids in October 2017.",
        sp("U.S. immigration authorities conducted raids last October and arrested approximately 100 Cambodians"),
        key=True,
    ),
    fact(
        "Many of the arrested Cambodians had fled the Khmer Rouge government in the 1970s.",
        sp("many of whom had fled the Khmer Rouge government in the 1970s."),
    ),
    fact(
        "The Cambodians had been convicted of various criminal charges and ordered deported years ago.",
        sp("the Cambodians had been convicted of various criminal charges, and ordered deported years ago."),
    ),
    fact(
        "Cambodia refused to repatriate the Cambodians, so they were released from U.S. immigration "
        "custody, and many held jobs until they were re-arrested in 2017.",
        sp(
            "However Cambodia refused to repatriate them, so they were released from immigration custody and "
            "many held down jobs until they were re-arrested last year."
        ),
        key=True,
    ),
    fact(
        "The Trump administration is seeking stronger measures against immigrants ordered deported whose "
        "home countries refuse to accept them, according to a senior administration official.",
        sp(
            "the Trump administration is seeking stronger measures against immigrants who have been ordered "
            "deported but whose home countries refused to accept them, a senior administration official said."
        ),
    ),
    fact(
        "Judge Carney ruled that 92 of the Cambodians still in custody could raise serious questions about "
        "the validity of their convictions and deportation orders.",
        sp(
            "ruled that 92 of the Cambodians still in custody could raise “serious questions” about the "
            "validity of their underlying convictions and deportation orders."
        ),
    ),
    fact(
        "The judge called insensitive the government's argument that the Cambodians knew they could be "
        "deported at any instant.",
        sp(
            "The government said the Cambodians’ request should be rejected because they knew they could be "
            "deported at any instant, an argument the judge called insensitive."
        ),
    ),
    fact(
        "Carney wrote that it is disingenuous for the government to claim the petitioners should not have "
        "expected to be permitted to remain in the country after years on supervised release.",
        sp(CARNEY_QUOTE),
        key=True,
    ),
    fact(
        "Three other U.S. judges have issued similar rulings, involving Iraqis, Indonesians and Somalians, "
        "according to Lee Gelernt of the ACLU Immigrants’ Rights Project, who represents the Cambodians.",
        sp(
            "Three other U.S. judges have issued similar rulings stopping the government from quickly "
            "deporting immigrants who have long lived in the country, said Lee Gelernt"
        ),
    ),
    fact(
        "Lee Gelernt said the courts have rejected the administration's claim that it must abruptly remove "
        "long-term residents without due process.",
        sp(GELERNT_QUOTE),
    ),
]

SUMMARY = (
    "A U.S. federal judge, Cormac Carney in Santa Ana, California, ruled on Thursday that the Trump "
    "administration cannot immediately deport 92 Cambodian citizens without first giving them a chance to "
    "challenge their removal in court. They were among about 100 Cambodians, many of them refugees from the "
    "Khmer Rouge with old criminal convictions, arrested in raids last October after years of release "
    "because Cambodia had refused to take them back."
)

CASE = {
    "id": NAME,
    "title": "U.S. judge blocks prompt deportation of Cambodians",
    "published": "2018-01-26",
    "provenance": {
        "source": "Reuters, 26 January 2018, 'U.S. judge blocks prompt deportation of Cambodians' "
        "(seeds/reuters-2018-01-26-cambodians-deportation.txt)",
        "licence": "text: Reuters (the project's seed article, not redistributable beyond it); "
        "labels: written for factkit, Apache-2.0",
        "credit": "Reuters; reporting by Dan Levine and Mica Rosenberg, additional reporting by Roberta "
        "Rampton, editing by Alistair Bell",
    },
    "metadata": {
        "labelled_by": "hand, with evals/label_seed.py computing the offsets",
        "notes": [
            "“serious questions” is a two-word partial quotation of the ruling, not labelled as a quote "
            "(GUM marks such phrases <q>, which the GUM fixtures leave out too).",
            "Page furniture (“Updated 16 minutes ago”, “3 Min Read”) is not labelled as a date or quantity; "
            "the dateline date and time are.",
            "Entity mentions include descriptions and pronouns that refer to the entity (“A federal judge”, "
            "“he”), as GUM's do; possessive ’s is left out of a span.",
        ],
    },
    "text_path": f"../../seeds/{NAME}.txt",
    "summaries": [{"text": SUMMARY, "author": "factkit maintainers"}],
    "entities": ENTITIES,
    "facts": FACTS,
    "quotes": QUOTES,
    "quantities": QUANTITIES,
    "dates": DATES,
}

HEADER = "# Hand-labelled seed case; offsets computed by evals/label_seed.py (edit that script, then rerun it).\n"


def main() -> int:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    case = Case.model_validate(CASE, context={"base_dir": str(OUT.parent)})
    OUT.write_bytes((HEADER + dump_case_yaml(case)).encode("utf-8"))
    (loaded,) = load_cases(OUT)
    assert loaded.text == TEXT and loaded == case, "the written fixture does not load back unchanged"
    print(
        f"{OUT.relative_to(ROOT)}: {len(case.entities)} entities, {len(case.facts)} facts "
        f"({sum(f.key for f in case.facts)} key), {len(case.quotes)} quotes, {len(case.quantities)} "
        f"quantities, {len(case.dates)} dates, {len(case.summaries)} summaries"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
