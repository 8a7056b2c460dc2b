"""The crisis-lines table: the shipped file is complete and dated, operators can override it,
mistakes in their file name the file and the key, and a zone, language or location finds the
country."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.safety.lines import (
    DEFAULT,
    CountryLines,
    Line,
    country_for_language,
    country_for_location,
    country_for_zone,
    lines_for,
    load_lines,
)
from bot.tools.safety import find_country

REQUIRED = ("GB", "IE", "US", "CA", "AU", "NZ", "ZA", "ES", "MX", "AR", "CO", "CL", "IN", "DE",
            "NL", "DK")

US_OVERRIDE = """\
US:
  name: United States
  emergency: {label: "Emergency services", number: "911"}
  phone:
    - {label: "Our county crisis line (24/7)", number: "555 0100"}
  sources: ["https://example.org/county"]
  checked: 2026-12-01
"""


@pytest.fixture(scope="module")
def shipped() -> dict[str, CountryLines]:
    return load_lines()


def write(tmp_path: Path, text: str, name: str = "lines.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the shipped table ---------------------------------------------------------------------


def test_shipped_table_has_every_required_country(shipped: dict[str, CountryLines]) -> None:
    assert set(REQUIRED) <= set(shipped)
    assert len(set(shipped) - {DEFAULT}) >= 16


def test_every_country_has_an_emergency_number_a_line_a_source_and_a_date(
        shipped: dict[str, CountryLines]) -> None:
    for code, lines in shipped.items():
        assert lines.country == code
        assert lines.emergency.number, code
        assert lines.sources and all(s.startswith("http") for s in lines.sources), code
        assert date(2026, 1, 1) <= lines.checked <= date(2027, 1, 1), code
        if code != DEFAULT:
            assert lines.phone, code
            assert all(line.number for line in lines.phone), code
        assert all(line.text or line.web for line in lines.text), code


def test_shipped_numbers_match_known_facts(shipped: dict[str, CountryLines]) -> None:
    numbers = {code: [line.number for line in lines.phone] for code, lines in shipped.items()}
    assert shipped["GB"].emergency.number == "999"
    assert "116 123" in numbers["GB"]
    assert "988" in numbers["US"] and "988" in numbers["CA"]
    assert "13 11 14" in numbers["AU"]
    assert "024" in numbers["ES"]  # quoted in the file: unquoted, YAML would read 20
    assert "Text SHOUT to 85258" in [line.text for line in shipped["GB"].text]


def test_default_points_to_find_a_helpline(shipped: dict[str, CountryLines]) -> None:
    default = shipped[DEFAULT]
    assert "112" in default.emergency.number
    assert [line.shown for line in default.text] == [
        "Find a helpline in your country: findahelpline.com"]


def test_lines_for_falls_back_to_default(shipped: dict[str, CountryLines]) -> None:
    assert lines_for(shipped, "GB").name == "United Kingdom"
    assert lines_for(shipped, "AQ") is shipped[DEFAULT]
    assert lines_for(shipped, None) is shipped[DEFAULT]


# -- overrides and errors ------------------------------------------------------------------


def test_override_replaces_a_whole_country(tmp_path: Path,
                                           shipped: dict[str, CountryLines]) -> None:
    table = load_lines(override=write(tmp_path, US_OVERRIDE, "ours.yaml"))
    us = table["US"]
    assert [line.shown for line in us.phone] == ["Our county crisis line (24/7): 555 0100"]
    assert us.text == ()  # not merged with the shipped text lines
    assert us.checked == date(2026, 12, 1)
    assert table["GB"] == shipped["GB"]


def test_override_can_add_a_country(tmp_path: Path) -> None:
    table = load_lines(override=write(tmp_path, US_OVERRIDE.replace("US:", "JP:")))
    assert table["JP"].phone[0].number == "555 0100"


def test_empty_override_changes_nothing(tmp_path: Path,
                                        shipped: dict[str, CountryLines]) -> None:
    assert load_lines(override=write(tmp_path, "# nothing yet\n")) == shipped


@pytest.mark.parametrize(("change", "key", "message"), [
    (('label: "Our county crisis line (24/7)", ', ""), "US.phone[0]", "missing key 'label'"),
    (('number: "555 0100"', "number: 5550100"), "US.phone[0].number", "expected text"),
    (('number: "911"', "number: 911"), "US.emergency.number", '"quotes"'),
    (("phone:", "fone:"), "US.fone", "did you mean 'phone'"),
    (("checked: 2026-12-01", "checked: soon"), "US.checked", "expected a date"),
    (("US:", "USA:"), "USA", "two-letter country code"),
    (('number: "555 0100"', 'text: "555 0100"'), "US.phone[0].text", "not allowed here"),
    (("  name: United States\n", ""), "US", "missing key 'name'"),
])
def test_broken_override_names_file_and_key(tmp_path: Path, change: tuple[str, str], key: str,
                                            message: str) -> None:
    path = write(tmp_path, US_OVERRIDE.replace(*change, 1), "ours.yaml")
    with pytest.raises(ConfigError) as caught:
        load_lines(override=path)
    assert caught.value.file == str(path)
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{path}: {key}: ")
    assert message in str(caught.value)


def test_unquoted_number_error_reads_well(tmp_path: Path) -> None:
    path = write(tmp_path, US_OVERRIDE.replace('number: "555 0100"', "number: 5550100"),
                 "lines.yaml")
    with pytest.raises(ConfigError, match=r"lines\.yaml: US\.phone\[0\]\.number: expected text"
                                          r", got 5550100 \(put numbers in \"quotes\"\)"
                                          r" \(line 5\)"):
        load_lines(override=path)


def test_duplicate_country_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, US_OVERRIDE + US_OVERRIDE)
    with pytest.raises(ConfigError, match="duplicate key 'US'"):
        load_lines(override=path)


def test_norway_stays_norway(tmp_path: Path) -> None:
    # Under YAML 1.1 the key NO is the boolean false.
    table = load_lines(override=write(tmp_path, US_OVERRIDE.replace("US:", "NO:")))
    assert table["NO"].phone[0].number == "555 0100"


def test_missing_override_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read it"):
        load_lines(override=tmp_path / "absent.yaml")


def test_a_table_without_default_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="default: missing"):
        load_lines(path=write(tmp_path, US_OVERRIDE))


# -- finding the country -------------------------------------------------------------------


@pytest.mark.parametrize(("zone", "country"), [
    ("Europe/London", "GB"), ("America/New_York", "US"), ("Europe/Madrid", "ES"),
    ("Europe/Copenhagen", "DK"), ("Europe/Oslo", "NO"), ("Asia/Kolkata", "IN"),
    ("America/Argentina/Buenos_Aires", "AR"), ("Pacific/Auckland", "NZ"),
    ("UTC", None), ("Etc/GMT+3", None), ("Not/AZone", None), ("", None),
    ("Iceland", None),  # a link to Africa/Abidjan: not followed, so not Côte d'Ivoire
])
def test_country_for_zone(zone: str, country: str | None) -> None:
    assert country_for_zone(zone) == country


@pytest.mark.parametrize(("code", "country"), [
    ("en-US", "US"), ("es-MX", "MX"), ("pt-br", "BR"), ("en_GB", "GB"), ("en-UK", "GB"),
    ("zh-Hant-TW", "TW"), ("en", None), ("es-419", None), (None, None), ("", None),
    ("en-x-ab", None),
])
def test_country_for_language(code: str | None, country: str | None) -> None:
    assert country_for_language(code) == country


@pytest.mark.parametrize(("latitude", "longitude", "country"), [
    (51.5, -0.12, "GB"), (40.42, -3.70, "ES"), (55.68, 12.57, "DK"), (-33.92, 18.42, "ZA"),
    (30.0, -40.0, None),  # mid-Atlantic
])
def test_country_for_location(latitude: float, longitude: float, country: str | None) -> None:
    assert country_for_location(latitude, longitude) == country


# -- rendering -----------------------------------------------------------------------------


def test_shown_formats_each_kind_of_line() -> None:
    assert Line("Samaritans (24/7, free)", number="116 123").shown == \
        "Samaritans (24/7, free): 116 123"
    assert Line("Shout (24/7, free)", text="Text SHOUT to 85258").shown == \
        "Shout (24/7, free): Text SHOUT to 85258"
    assert Line("Samaritans", web="https://www.samaritans.org/").shown == \
        "Samaritans: https://www.samaritans.org/"
    assert Line("Just a label").shown == "Just a label"


@pytest.mark.parametrize(("typed", "country"), [
    ("Ireland", "IE"), ("ie", "IE"), ("the US", "US"), ("Irland", "IE"), ("México", "MX"),
    ("españa", "ES"), ("Deutschland", "DE"), ("scotland", "GB"), ("narnia", None), ("", None)])
def test_a_typed_country_is_found_by_name_code_alias_or_near_spelling(
        typed: str, country: str | None) -> None:
    assert find_country(typed, load_lines()) == country


@pytest.mark.parametrize(("typed", "country"), [
    ("Alemania", "DE"), ("Reino Unido", "GB"), ("Estados Unidos", "US"), ("mexico", "MX"),
    ("Irlanda", "IE"), ("the uk", "GB"), ("Francia", "FR")])
def test_a_country_is_found_by_its_name_in_the_persons_language(
        typed: str, country: str) -> None:
    assert find_country(typed, load_lines(), "es") == country
