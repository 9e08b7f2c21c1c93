"""Doris's string functions as the engine lowers them (in process, on DuckDB): the values Doris answers,
taken from its string_functions regression suites' .out files and its documentation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pytest

from dorisbk.errors import DorisError
from tests.engine.test_functions import answer, db  # noqa: F401 - db is a fixture

pytestmark = pytest.mark.fast

CASES: list[tuple[str, Any]] = [
    # str_to_map: the last value of a repeated key, NULL for a pair without its delimiter
    ("SELECT str_to_map('a:1,b:2,b:3', ',', ':')", {"a": "1", "b": "3"}),
    ("SELECT str_to_map('')", {"": None}),
    ("SELECT str_to_map(',,,')", {"": None}),
    ("SELECT str_to_map('a=1;b=2', ';', '=')", {"a": "1", "b": "2"}),
    ("SELECT str_to_map(repeat('a:1,', 3))", {"a": "1"}),
    ("SELECT str_to_map(NULL, ',', ':')", None),
    # EXPORT_SET / MAKE_SET: the lowest bit first, a count out of 0..64 is 64
    ("SELECT EXPORT_SET(5, 'Y', 'N', ',', 5)", "Y,N,Y,N,N"),
    ("SELECT EXPORT_SET(255, '1', '0', ',', 8)", "1,1,1,1,1,1,1,1"),
    ("SELECT EXPORT_SET(-1, '1', '0', ',', 0)", ""),
    ("SELECT EXPORT_SET(6, '1', '', '', 63)", "11"),
    ("SELECT EXPORT_SET(5, '1', '0', '', 65)", "10100" + "0" * 59),
    ("SELECT EXPORT_SET(18446744073709551616, '1', '0')", ",".join("1" * 63) + ",0"),
    ("SELECT EXPORT_SET(18446744073708551616, '1', '0', '')", "000000111011110100001" + "1" * 43),
    ("SELECT EXPORT_SET(-9223372036854775809, '1', '0', '')", "0" * 63 + "1"),
    ("SELECT EXPORT_SET(5, '1', NULL)", None),
    ("SELECT MAKE_SET(3, 'dog', 'cat', 'bird')", "dog,cat"),
    ("SELECT MAKE_SET(-3, '汽车', '自行车', '火车')", "汽车,火车"),
    ("SELECT MAKE_SET(3, '', 'should after ,', 'useless')", ",should after ,"),
    ("SELECT MAKE_SET(5, 'a', NULL, 'c')", "a,c"),
    ("SELECT MAKE_SET(NULL, 'a', 'b')", None),
    # count_substrings from a 1-based start, 0 for a start before 1
    ("SELECT count_substrings('a12bc23de345f', '2', 4)", 1),
    ("SELECT count_substrings('a12bc23de345f', '2', 0)", 0),
    ("SELECT count_substrings('a12bc23de345f', '2', NULL)", None),
    ("SELECT count_substrings('abababab', 'ab', 3)", 3),
    # split_by_regexp: at most `limit` pieces, the last keeping the rest
    ("SELECT split_by_regexp('a12bc23de345f', '\\\\d+')", ["a", "bc", "de", "f"]),
    ("SELECT split_by_regexp('aa,bbb,cccc', ',', 2)", ["aa", "bbb,cccc"]),
    ("SELECT split_by_regexp('aa,bbb,cccc', ',', 1)", ["aa,bbb,cccc"]),
    ("SELECT split_by_regexp('', '')", []),
    ("SELECT regexp_split_to_array('abc', NULL)", None),
    # the host's domain parts, '' for a host that is no dotted domain
    ("SELECT top_level_domain('https://news.clickhouse.com.tr/')", "tr"),
    ("SELECT first_significant_subdomain('https://news.clickhouse.com.tr/')", "clickhouse"),
    ("SELECT cut_to_first_significant_subdomain('www.google.com.cn')", "google.com.cn"),
    ("SELECT first_significant_subdomain('http://www.example.com/a/b/c?a=b')", "example"),
    ("SELECT top_level_domain('invalid url')", ""),
    ("SELECT cut_to_first_significant_subdomain('xxxxxxxx')", ""),
    ("SELECT top_level_domain(NULL)", None),
    # encode_as_<int> packs short text into an integer, decode_as_varchar unpacks it at the type's width
    ("SELECT encode_as_smallint('a')", 12417),
    ("SELECT encode_as_int('ab')", 816906242),
    ("SELECT encode_as_bigint('abcd')", 3508640225272266756),
    ("SELECT encode_as_largeint('abcdefgh')", 64722988298011025234418333488001318920),
    ("SELECT encode_as_int('')", 0),
    ("SELECT decode_as_varchar(encode_as_bigint('abcde'))", "abcde"),
    ("SELECT decode_as_varchar(encode_as_largeint('abcdefghijklmno'))", "abcdefghijklmno"),
    ("SELECT decode_as_varchar(CAST('8321' AS SMALLINT))", "A"),
    ("SELECT decode_as_varchar(8321)", "A"),
    # parse_data_size: whole bytes, units in powers of 1024
    ("SELECT parse_data_size('2.234kB')", 2287),
    ("SELECT parse_data_size('1.9B')", 1),
    ("SELECT parse_data_size('8YB')", 9671406556917033397649408),
    ("SELECT parse_data_size('69175290276410818560EB')", 79753679747094952374228423616820674560),
    ("SELECT parse_data_size(NULL)", None),
    # MID takes SUBSTRING's FROM / FOR syntax
    ("SELECT mid('abcdef' FROM -3)", "def"),
    ("SELECT mid('abcdef' FROM 3 FOR 10)", "cdef"),
    ("SELECT mid('a' FROM 0 FOR 1)", ""),
    # CHAR: each integer's bytes, NULLs skipped, NULL when the bytes are no UTF-8
    ("SELECT char(68, 111, 114, 0, 105, NULL, 115 USING utf8)", "Dor\x00is"),
    ("SELECT char(15049882, 15179199, 14989469)", "多睿丝"),
    ("SELECT length(char(229, 164, 154))", 3),
    ("SELECT char(255)", None),
    # trim / ltrim / rtrim with a string strip its repetitions; trim_in strips a set of characters
    ("SELECT trim('ababccaab', 'ab')", "cca"),
    ("SELECT rtrim('ababccaab', 'ab')", "ababcca"),
    ("SELECT ltrim('ḍḍuḍḍu hello', 'ḍu')", "ḍḍuḍḍu hello"),
    ("SELECT rtrim_in('ababccaab', 'ab')", "ababcc"),
    # split_part: NULL when the delimiter is absent, from the right for a negative field
    ("SELECT split_part('hello world', '|', 1)", None),
    ("SELECT split_part('abc##123###xyz', '##', -1)", "xyz"),
    ("SELECT split_part('abc##123###xyz', '##', -2)", "123#"),
    ("SELECT split_part('test', NULL, 1)", None),
    ("SELECT strright('Hello doris', -7)", "doris"),
    ("SELECT right('Hello doris', -6)", " doris"),
    ("SELECT mask_first_n('ṭṛWorld123', 7)", "ṭṛXorld123"),
    ("SELECT mask_last_n('Helloṭṛ123', 9)", "Helloṭṛnnn"),
    ("SELECT ascii('ṭṛì')", 225),
    ("SELECT initcap('ṭṛì ḍḍumai hello')", "Ṭṛì Ḍḍumai Hello"),
    ("SELECT quote('aaa\\\\')", "'aaa\\'"),
    ("SELECT concat_ws('-', ['a', 'b'], ['c', NULL], ['d'])", "a-b-c-d"),
    ("SELECT concat_ws('-', ['a', 'b'], NULL, ['d'])", ""),
    ("SELECT lpad('hello', 10, '')", ""),
    ("SELECT locate('', 'foobar', 7)", 0),
    ("SELECT locate('', '', 1)", 1),
    ("SELECT elt(-1, 'first', 'second')", None),
    ("SELECT space(NULL)", None),
    ("SELECT substring_index('prefix_string', NULL, 1)", None),
    ("SELECT unhex(NULL)", None),
    ("SELECT unhex('123')", ""),
    ("SELECT unhex_null('123')", None),
    ("SELECT unhex_null('4142')", "AB"),
    ("SELECT soundex('R@b-e123rt')", "R163"),
    ("SELECT soundex('Doris')", "D620"),
    ("SELECT soundex('123@*%')", ""),
    ("SELECT ngram_search('123456789', '12345', 3)", 0.6),
    ("SELECT ngram_search('abababab', 'babababa', 2)", 1.0),
    ("SELECT ngram_search('1313131', 'abc1313131', 3)", 4 / 7),
    ("SELECT overlay('Quadratic', 3, 4, 'What')", "QuWhattic"),
    ("SELECT insert('Quadratic', 2, -1, 'Hi')", "QHi"),
    ("SELECT overlay('Hello', 10, 2, 'X')", "Hello"),
    ("SELECT replace_empty('abc', '', 'x')", "xaxbxcx"),
    ("SELECT replace_empty('', '', 'x')", "x"),
    ("SELECT auto_partition_name('range', 'month', '2022-12-12 19:20:30')", "p20221201000000"),
    ("SELECT auto_partition_name('list', 'ṭṛì', 'ḍḍumai')", "p1e6d1e5bec31e0d1e0dumai6"),
    ("SELECT random_bytes(NULL)", None),
    ("SELECT length(random_bytes(7))", 16),
    # LIKE: a backslash escapes %, _ and itself, and stands for itself before anything else
    ("SELECT '%' LIKE '\\\\%'", True),
    ("SELECT '\\%' LIKE '\\%'", False),
    ("SELECT '\\\\b' LIKE '\\\\b'", True),
    ("SELECT 'b' LIKE '\\\\b'", False),
    ("SELECT 'ab' NOT LIKE 'a%'", False),
    ("SELECT 'a' LIKE 'a' ESCAPE 'a'", True),
    ("SELECT '%a' LIKE 'a%a' ESCAPE 'a'", True),
    ("SELECT '%_' LIKE 'a%a' ESCAPE 'a'", False),
    ("SELECT '%_' LIKE 'a%a_' ESCAPE 'a'", True),
    ("SELECT next_day('2025-01-01', 'MO')", dt.date(2025, 1, 6)),
    (
        "SELECT money_format(-170141183460469231731687303715884105728)",
        "-170,141,183,460,469,231,731,687,303,715,884,105,728.00",
    ),
    ("SELECT money_format(1234)", "1,234.00"),
    # regexp_extract(_or_null): '' (NULL) for no match or no such group; regexp_extract_all skips empty matches
    ("SELECT regexp_extract('AbCdE', '([[:lower:]]+)C([[:lower:]]+)', 2)", "d"),
    ("SELECT regexp_extract('AbCdE', '([[:lower:]]+)C([[:lower:]]+)', 3)", ""),
    ("SELECT regexp_extract_or_null('AbCdE', '([[:lower:]]+)C([[:lower:]]+)', 3)", None),
    ("SELECT regexp_extract_or_null('AbCdE', '([[:lower:]]+)C([[:lower:]]+)', 1)", "b"),
    ("SELECT regexp_extract_or_null('AbCdE', 'x(y)', 1)", None),
    ("SELECT regexp_extract('AbCdE', '([[:lower:]]+)C([[:lower:]]+)', g) FROM (SELECT 2 AS g) t", "d"),
    ("SELECT regexp_extract('AbCdE', p, 1) FROM (SELECT 'billie eillish' AS p) t", ""),
    ("SELECT regexp_extract_all('abcdfesscca', '(ab|c|)')", "['ab','c','c','c']"),
    ("SELECT regexp_extract_all('asdfg', '(z|x|c|)')", ""),
    ("SELECT regexp_extract_all('xxfs', 'f')", ""),
    ("SELECT regexp_extract_all('x=a3&x=18abc&x=2', 'x=([0-9]+)([a-z]+)')", "['18']"),
    # xpath_string: the first node's text, XPath's own conversions for numbers and booleans
    ("SELECT xpath_string('<a><b>123</b><b>456</b></a>', '/a/b')", "123"),
    ("SELECT xpath_string('<a><b>123</b><b>456</b></a>', '/a/b[2]')", "456"),
    ('SELECT xpath_string(\'<a><b id="1">x</b><b id="2">y</b></a>\', \'//b[@id="2"]\')', "y"),
    ("SELECT xpath_string('<a><c>x</c></a>', '/a/d')", ""),
    ("SELECT xpath_string('<root><name>John</name></root>', 'string-length(/root/name)')", "4"),
    ("SELECT xpath_string('<root><name>John</name></root>', 'contains(/root/name, \"oh\")')", "true"),
    ("SELECT xpath_string('<r><d>hello world</d></r>', 'substring(/r/d, 1, 5)')", "hello"),
    ("SELECT xpath_string('', '')", None),
    ("SELECT xpath_string(NULL, '/a')", None),
    # an external entity is never read: the document can not reach a file
    ("SELECT xpath_string('<!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/hostname\">]><a>&e;</a>', '/a')", ""),
]


@pytest.mark.parametrize(("sql", "expected"), CASES)
def test_string_function(db: duckdb.DuckDBPyConnection, sql: str, expected: Any) -> None:  # noqa: F811
    assert answer(db, sql) == expected


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT MAKE_SET(184467440737095516156, 'a', 'b', 'c')", "Can not find the compatibility function signature"),
        ("SELECT split_by_regexp('a,b', ',', -10)", "function must be a positive constant"),
        ("SELECT split_by_regexp('a,b', ',', 1 + 2)", "function must be a positive constant"),
        ("SELECT decode_as_varchar(2)", "Invalid input of function decode_as_varchar"),
        ("SELECT char(68 USING abc)", "only support charset name 'utf8'"),
        ("SELECT 'a' LIKE 'aa' ESCAPE 'aa'", "like escape character must be a single ascii character"),
        ("SELECT 'a' LIKE 'aa' ESCAPE 1", "like escape character must be a string literal"),
        ("SELECT xpath_string('wrong xml', '//a')", "failed to parse XML string: No document element found"),
        ("SELECT xpath_string('<a/>', '///')", "failed to parse XPath"),
    ],
)
def test_string_function_error(db: duckdb.DuckDBPyConnection, sql: str, message: str) -> None:  # noqa: F811
    """Refused while lowered (DorisError) or, for a value only a row shows, while DuckDB runs the query."""
    with pytest.raises((DorisError, duckdb.Error), match=message):
        answer(db, sql)
