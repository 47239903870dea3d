"""The datasets of araus-2022.

``araus`` (CC BY-NC 4.0, by download, ~3 GB with audio): the ARAUSv1 release on DR-NTU
(doi:10.21979/N9/9OTEVX), laid out as ``code/download.py`` of the authors' repository
leaves it. The authors publish sha512 digests of the downloads (archives), not of the
files inside them, in ``code/manifest.csv``; they are listed here (``MANIFEST``):
``affrepro data fetch araus`` downloads and unpacks the three DR-NTU archives (never
inside ``reproduce``: they are large), and ``affrepro data verify araus`` checks the
unpacked layout.

``araus-soundscapes`` (public): the one ARAUS table that is openly mirrored on GitHub,
``soundscapes.csv``, pinned to a commit, with its sha256.

``isd`` (public): the International Soundscape Database v1.0 on Zenodo, for the
real-data extension.
"""
from __future__ import annotations

from pathlib import Path

from affrepro.audit import DatasetAudit
from affrepro.components import DataFile, Dataset
from affrepro.lazy import lazy

# the verifiers and generators read this module's constants: named here, imported on use
_HERE = "affrepro.reproductions.araus_2022"

# -- ARAUS (by download) --------------------------------------------------------------

DRNTU = "https://researchdata.ntu.edu.sg/api/access/datafile/{}?gbrecs=true"
# (url, path as download.py writes it relative to the repository root, sha512) for the
# ARAUSv1 downloads in code/manifest.csv of github ntudsp/araus-dataset-baseline-models
# @ 46a9a7c; the 62 raw 1-minute Lion City recordings it also lists are only needed to
# remake soundscapes/ and are omitted.
MANIFEST_COMMIT = "46a9a7c"
MANIFEST: tuple[tuple[str, str, str], ...] = (
    (DRNTU.format(99922), "data.zip",
     "94b4a166bc3b042084dc04d8771540b10e494dcbc5bc7e44fb0e3b19bb956d0682d8b3fcfcffdd778e4f7c888d80c8"
     "17db29fd2ef58722fbcc7b01d4684f8cb8"),
    (DRNTU.format(89458), "maskers.zip",
     "34f34a8e1264ca2aae0788c1101de5c1d9ff9af804cb4aa5388a161fd916773b5b4d165c5d546e516ab035b5b5499d"
     "015cc00f77ff8fc31107999e08e44d5cc1"),
    (DRNTU.format(89459), "soundscapes.zip",
     "e462e963d28835f25bb40a2a0c01f1c33e654367f1a7dc073becb352bb388d3c9de68c130dcb4d204b9809411ec425"
     "58b379a8607ed6a34efa752a3012e534a2"),
    ("https://zenodo.org/records/10106181/files/binaural.zip?download=1", "binaural.zip",
     "b9ea99b1e66ef8c26b9b21953d803bebe6cdbe8926fbf7b582e5c11fdab7ccbb7b782c79eaa196a2b2b46412a4ed"
     "b75796830e0549470bfd7ef525a29aa295cf"),
)

ARAUS_HOW = (
    "`affrepro data fetch araus` downloads data.zip, maskers.zip and soundscapes.zip from DR-NTU "
    "(sha512 from the authors' code/manifest.csv) and unpacks them as the authors' download.py does. "
    "Or download ARAUS (CC BY-NC 4.0, ~3 GB) from DR-NTU, doi:10.21979/N9/9OTEVX yourself: clone "
    "https://github.com/ntudsp/araus-dataset-baseline-models, then `cd code && python download.py "
    "manifest.csv` (it checks the sha512 of every archive and unpacks data/, maskers/, soundscapes/ "
    "into the repository root). Link that root, the folder holding data/responses.csv. Only the "
    "tables in data/ are needed for the label-mean and ElasticNet baselines (data.zip alone, "
    f"sha512 {MANIFEST[0][2][:16]}…); the CNN also needs soundscapes/ and maskers/."
)


# the three archives of the DR-NTU release; download.py unpacks them into the repository root
ARAUS_ARCHIVES = tuple(
    DataFile(name, None, url, sha512=sha512, extract=True)
    for url, name, sha512 in MANIFEST if url.startswith("https://researchdata.ntu.edu.sg/")
)

ARAUS = Dataset(
    name="araus",
    description="ARAUSv1: 25,440 ratings of augmented urban soundscapes (responses, soundscapes, "
                "maskers, participants; binaural soundscape and mono masker WAVs)",
    access="public",
    licence="CC BY-NC 4.0 (DR-NTU doi:10.21979/N9/9OTEVX); maskers under their Freesound/Xeno-canto licences",
    homepage="https://doi.org/10.21979/N9/9OTEVX",
    files=ARAUS_ARCHIVES,
    auto_fetch=False,  # ~3 GB: only on `affrepro data fetch araus`, never inside reproduce
    how_to_get=ARAUS_HOW,
    verify=lazy(f"{_HERE}.loaders:verify_araus"),
    synthesize=lazy(f"{_HERE}.synthetic:write_araus_dry_run"),  # short WAVs: the CNN stage runs too
    splits="affrepro.reproductions.araus_2022.split_audits:araus",
)

# -- soundscapes.csv (public copy) -----------------------------------------------------

SOUNDSCAPES_COMMIT = "60d3c2d3632f00661627e2f77a0b50f0bb89ffa3"
SOUNDSCAPES_SHA256 = "a5462c1c6bed4c5dbf85f99c888b695c69a1dbf31a77954585546e7a289ce007"


ARAUS_SOUNDSCAPES = Dataset(
    name="araus-soundscapes",
    description="ARAUS soundscapes.csv (247 soundscapes x 145 columns: folds, in-situ LAeq, gains, "
                "141 per-soundscape acoustic indicators _s)",
    access="public",
    licence="CC BY-NC 4.0",
    homepage="https://doi.org/10.21979/N9/9OTEVX",
    files=(DataFile("soundscapes.csv", SOUNDSCAPES_SHA256,
                    "https://raw.githubusercontent.com/amaiasagasti/UrbanPleasantnessEventfulness/"
                    f"{SOUNDSCAPES_COMMIT}/data/soundscapes.csv", size=224_389),),
    verify=lazy(f"{_HERE}.loaders:verify_soundscapes"),
    synthesize=lazy(f"{_HERE}.synthetic:write_soundscapes_only"),
    mirror_name="araus",
    audit=DatasetAudit(Path(__file__).with_name("araus_soundscapes_audit.toml"),
                       "affrepro.reproductions.araus_2022.audits:araus_soundscapes"),
)

# -- International Soundscape Database ------------------------------------------------

ISD_FILE = "ISD v1.0 Data.csv"
ISD_SHA256 = "1e54e41c694b7054e137210dc632a7d0c0aa6eca91e4b5e6a59605ea6411e3cf"


ISD = Dataset(
    name="isd",
    description="International Soundscape Database v1.0: 3,589 on-site responses with the eight "
                "ISO 12913-2 PAQs, demographics and binaural acoustic indicators, 26 locations",
    access="public",
    licence="as stated on Zenodo record 10639661 (not checked here)",
    homepage="https://doi.org/10.5281/zenodo.6331810",
    # sha256 of the copy shipped in soundscapy 0.8.5 (soundscapy/data/), which soundscapy
    # reads from this Zenodo URL; a Zenodo file that differed would fail with both digests
    files=(DataFile(ISD_FILE, ISD_SHA256,
                    "https://zenodo.org/records/10639661/files/ISD%20v1.0%20Data.csv",
                    size=1_860_308),),
    verify=lazy(f"{_HERE}.isd:verify_isd_folder"),
    synthesize=lazy(f"{_HERE}.synthetic:write_isd"),
)
