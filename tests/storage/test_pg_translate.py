"""The store's SQL (`:name` parameters, or `?`) as psycopg reads it: the one
translation that lets both backends run the logic written once."""

from __future__ import annotations

from storage.postgres._core import translate


def test_named_parameters_become_psycopg_placeholders() -> None:
    assert translate("SELECT * FROM feeds WHERE id = :id AND removed = 0") == (
        "SELECT * FROM feeds WHERE id = %(id)s AND removed = 0",
        True,
    )


def test_a_name_used_twice_is_the_same_parameter_twice() -> None:
    sql, parametrised = translate("UPDATE chats SET a = :x WHERE id = :id OR parent_id = :id")
    assert parametrised
    assert sql == "UPDATE chats SET a = %(x)s WHERE id = %(id)s OR parent_id = %(id)s"


def test_casts_are_left_alone() -> None:
    assert translate("SELECT :items::bigint[], CAST(:t AS TEXT), x::text FROM t") == (
        "SELECT %(items)s::bigint[], CAST(%(t)s AS TEXT), x::text FROM t",
        True,
    )


def test_string_literals_quoted_names_and_comments_are_not_parameters() -> None:
    sql, parametrised = translate(
        "SELECT ':not', 'it''s :no ?', \"col:umn\" FROM t -- :nor ?\nWHERE a = :yes"
    )
    assert parametrised
    assert sql == ("SELECT ':not', 'it''s :no ?', \"col:umn\" FROM t -- :nor ?\nWHERE a = %(yes)s")


def test_question_marks_are_positional_parameters() -> None:
    assert translate("SELECT 1 FROM t WHERE a = ? AND b = ?") == (
        "SELECT 1 FROM t WHERE a = %s AND b = %s",
        True,
    )


def test_percent_signs_are_doubled_where_there_are_parameters() -> None:
    # psycopg reads `%` everywhere, in literals too, once it is given parameters.
    assert translate("SELECT 5 % 2, 'a%' FROM t WHERE x LIKE :q") == (
        "SELECT 5 %% 2, 'a%%' FROM t WHERE x LIKE %(q)s",
        True,
    )


def test_sql_without_parameters_runs_as_written() -> None:
    assert translate("SELECT name FROM t WHERE name NOT LIKE 'pg_%'") == (
        "SELECT name FROM t WHERE name NOT LIKE 'pg_%'",
        False,
    )


def test_slices_and_time_literals_are_not_parameters() -> None:
    assert translate("SELECT a[1:2], '09:00' FROM t WHERE b = :b") == (
        "SELECT a[1:2], '09:00' FROM t WHERE b = %(b)s",
        True,
    )


def test_each_statement_is_translated_once() -> None:
    sql = "SELECT 1 FROM t WHERE a = :cached_once"
    before = translate.cache_info().hits
    translate(sql)
    translate(sql)
    assert translate.cache_info().hits >= before + 1
