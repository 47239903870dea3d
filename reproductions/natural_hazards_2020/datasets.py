"""The ``natural-hazards`` dataset: the nine CSVs of the Natural Hazards Twitter Dataset
(Meng & Dong 2020), pinned to commit 9867e83 of github Dong-UTIL/Natural-Hazards-Twitter-Dataset.

One file per event, one tweet per record: ``num,text,timestamp,label`` (or, in
``2018Michael_Summary.csv``, a pandas index column with an empty name and ``sentiment``
for the label). The repository has no licence file and no documentation of the labels.
"""
from __future__ import annotations

from dataclasses import dataclass

from affrepro.components import DataFile, Dataset
from affrepro.lazy import lazy

COMMIT = "9867e830bc6adc40445b2fc31c1ea9b9e661a3b0"
REPO = "https://github.com/Dong-UTIL/Natural-Hazards-Twitter-Dataset"
_RAW = f"https://raw.githubusercontent.com/Dong-UTIL/Natural-Hazards-Twitter-Dataset/{COMMIT}/"


@dataclass(frozen=True)
class Event:
    """One event file: a short id, the kind of hazard, the year and a readable name."""

    file: str
    event: str
    disaster_type: str
    year: int
    name: str


# Names follow the paper's abstract (arXiv 2004.14456): "a tornado in 2011, a hurricane named
# Sandy in 2012, a series of floods in 2013, a hurricane named Matthew in 2016, a blizzard in
# 2016, a hurricane named Harvey in 2017, ... Michael in 2018, a series of wildfires in 2018,
# and a hurricane named Dorian in 2019".
EVENTS = (
    Event("2011Tornado_Summary.csv", "2011-tornado", "tornado", 2011, "2011 tornadoes"),
    Event("2012Sandy_Summary.csv", "2012-sandy", "hurricane", 2012, "Hurricane Sandy"),
    Event("2013Floods_Summary.csv", "2013-floods", "flood", 2013, "2013 floods"),
    Event("2016Blizzard_Summary.csv", "2016-blizzard", "blizzard", 2016, "2016 blizzard"),
    Event("2016Matthew_Summary.csv", "2016-matthew", "hurricane", 2016, "Hurricane Matthew"),
    Event("2017Hurricane_Summary.csv", "2017-harvey", "hurricane", 2017, "Hurricane Harvey (file '2017Hurricane')"),
    Event("2018Michael_Summary.csv", "2018-michael", "hurricane", 2018, "Hurricane Michael"),
    Event("2018Wildfires_Summary.csv", "2018-wildfires", "wildfire", 2018, "2018 wildfires"),
    Event("2019Dorian_Summary.csv", "2019-dorian", "hurricane", 2019, "Hurricane Dorian"),
)
EVENT_BY_FILE = {e.file: e for e in EVENTS}

_SHA256 = {
    "2011Tornado_Summary.csv": "abb5e3ef868e10836677d65c0ab5916f4459e2de4fcbba1d8f84324e41a75f12",
    "2012Sandy_Summary.csv": "2703e9bf8f6df7f6bcbd4ca9dd29fcd1d82138c309fe18dee661f26f641e6f79",
    "2013Floods_Summary.csv": "57f80db0e6a8567fecb0d8a2112d8ba8e3f5b3b167ea7e3bbea68da869a4fce0",
    "2016Blizzard_Summary.csv": "98ed03b59a88f1d7e8e4c7f7d82cd3081daeb6c56c820653a80c0b0c9b922874",
    "2016Matthew_Summary.csv": "4ab4c8b8550413889e4a390a5f5ecbef033fc2dee971d0f8f180bcf1ba9f30a4",
    "2017Hurricane_Summary.csv": "6078987f78c3d0096428c8889b498dc2a60b73c8baed9bbbc24323060f60b86c",
    "2018Michael_Summary.csv": "ee00587e8776becdf9b9bc51e39661892bc95a3562165087c55ebd164f686f00",
    "2018Wildfires_Summary.csv": "9ab4790d391e63e6a470d66ec644fc7836b5055918cc6d870bd9ed3470baa681",
    "2019Dorian_Summary.csv": "80cba36de32fc72aff4ef9742b5659f8ec790e03f0624e9a4c26394daf95a13e",
}
_SIZE = {
    "2011Tornado_Summary.csv": 503730, "2012Sandy_Summary.csv": 326890,
    "2013Floods_Summary.csv": 528005, "2016Blizzard_Summary.csv": 549543,
    "2016Matthew_Summary.csv": 818770, "2017Hurricane_Summary.csv": 1258697,
    "2018Michael_Summary.csv": 905968, "2018Wildfires_Summary.csv": 1231249,
    "2019Dorian_Summary.csv": 1774471,
}

FILES = tuple(DataFile(e.file, _SHA256[e.file], _RAW + e.file, _SIZE[e.file]) for e in EVENTS)


NATURAL_HAZARDS = Dataset(
    name="natural-hazards",
    description="Natural Hazards Twitter Dataset: nine CSVs of English tweets about US natural "
                "disasters 2011-2019, each with a binary sentiment label (Meng & Dong 2020)",
    access="public",
    licence="no licence file in the repository; published for research (arXiv 2004.14456)",
    homepage=REPO,
    files=FILES,
    # synthetic.py reads EVENTS from here: named, imported on first use
    synthesize=lazy("affrepro.reproductions.natural_hazards_2020.synthetic:write_corpus"),
    mirror_name="natural_hazards",
    splits="affrepro.reproductions.natural_hazards_2020.split_audits:natural_hazards",
)
