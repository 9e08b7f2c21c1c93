"""What a query may ask of DuckDB: Doris's statement forms and Doris's functions, nothing else.

Every tree a client sends (and every stored view, expanded) is checked node by node before any
DuckDB SQL is written from it: each node kind must be one a Doris SELECT has, each function call
must name a function Doris has, and the table functions are ``numbers`` and ``snapshot`` (a backup
read in place). DuckDB's own table functions (``read_text``, ``query``, ``glob``...), its logging and
settings functions and its file-reading syntax are not on the list, wherever they stand (LATERAL,
subqueries, CTEs, views).
DuckDB is also locked to the data dir (``backend/duck.py``); either layer alone keeps a query
off the host.
"""

from __future__ import annotations

import functools
import re

import sqlglot
from sqlglot import exp

from dorisbk.engine.dialect import DorisBK
from dorisbk.engine.functions import CALLS
from dorisbk.errors import DorisError, ParseError

# Doris's built-in scalar, aggregate and window functions, by the names a user writes them.
DORIS_FUNCTIONS = frozenset(
    """
    abs acos append_trailing_char_if_absent array array_apply array_avg array_compact array_concat
    array_contains array_count array_cum_sum array_difference array_distinct array_enumerate
    array_enumerate_uniq array_except array_exists array_filter array_first array_first_index
    array_intersect array_join array_last array_last_index array_map array_match_any array_max array_min
    array_popback array_popfront array_position array_product array_pushback array_pushfront array_range
    array_remove array_repeat array_reverse_sort array_shuffle array_size array_slice array_sort
    array_sortby array_sum array_union array_with_constant array_zip arrays_overlap ascii asin atan atan2
    bin bit_count bit_length bit_shift_left bit_shift_right bitand bitnot bitor bitxor bitmap_and
    bitmap_and_count bitmap_and_not bitmap_and_not_count bitmap_andnot bitmap_andnot_count bitmap_contains
    bitmap_count bitmap_empty bitmap_from_array bitmap_from_base64 bitmap_from_string bitmap_has_all
    bitmap_has_any bitmap_hash bitmap_hash64 bitmap_max bitmap_min bitmap_not bitmap_or bitmap_or_count
    bitmap_remove bitmap_subset_in_range bitmap_subset_limit bitmap_to_array bitmap_to_base64
    bitmap_to_string bitmap_xor bitmap_xor_count cardinality cbrt ceil ceiling char char_length
    character_length coalesce concat concat_ws connection_id conv convert_tz cos cosh cosine_distance
    countequal curdate current_catalog current_date current_time current_timestamp current_user curtime
    database date date_add date_format date_sub date_trunc datediff datev2 day day_ceil day_floor dayname
    dayofmonth dayofweek dayofyear days_add days_diff days_sub dceil degrees dexp dfloor digital_masking
    dlog1 dlog10 domain domain_without_www dpow dround dsqrt e element_at elt ends_with exp
    extract_url_parameter field find_in_set floor fmod fpow from_base64 from_days from_microsecond
    from_millisecond from_second from_unixtime get_json_bigint get_json_double get_json_int get_json_string
    greatest grouping grouping_id hex hll_cardinality hll_empty hll_from_base64 hll_hash hll_to_base64 hour
    hour_ceil hour_floor hours_add hours_diff hours_sub if ifnull inet_aton inet_ntoa initcap inner_product
    instr int_to_uuid ipv4_cidr_to_range ipv4_num_to_string ipv4_string_to_num ipv4_string_to_num_or_default
    ipv4_string_to_num_or_null is_ipv4_string json_array json_contains json_exists_path json_extract
    json_extract_bigint json_extract_bool json_extract_double json_extract_int json_extract_isnull
    json_extract_largeint json_extract_string json_insert json_length json_object json_parse
    json_parse_error_to_invalid json_parse_error_to_null json_parse_error_to_value json_parse_notnull
    json_parse_nullable json_quote json_replace json_set json_type json_unquote json_valid jsonb_exists_path
    jsonb_extract jsonb_extract_bigint jsonb_extract_bool jsonb_extract_double jsonb_extract_int
    jsonb_extract_isnull jsonb_extract_largeint jsonb_extract_string jsonb_parse jsonb_type jsonb_valid
    l1_distance l2_distance last_day lcase least left length like ln localtime localtimestamp locate log
    log10 log2 lower lpad ltrim makedate map map_contains_key map_contains_value map_keys map_size
    map_values mask mask_first_n mask_last_n md5 md5sum microsecond microsecond_timestamp microseconds_add
    microseconds_diff microseconds_sub millisecond_timestamp milliseconds_add milliseconds_diff
    milliseconds_sub minute minute_ceil minute_floor minutes_add minutes_diff minutes_sub mod money_format
    month month_ceil month_floor monthname months_add add_months months_diff months_sub multi_match_any
    multi_search_all_positions murmur_hash3_32 murmur_hash3_64 named_struct negative non_nullable
    not_null_or_empty now null_or_empty nullable nullif nvl parse_url pi pmod positive pow power protocol
    quarter quote radians rand random regexp regexp_extract regexp_extract_all regexp_replace
    regexp_replace_one repeat replace reverse right round round_bankers rpad rtrim schema sec_to_time second
    second_ceil second_floor second_timestamp seconds_add seconds_diff seconds_sub sequence sha sha1 sha2
    shuffle sign sin size sleep space split_by_char split_by_string split_part sqrt
    starts_with str_to_date strcmp strleft strright struct struct_element sub_bitmap
    sub_replace substr substring substring_index tan tanh time_to_sec timediff timestamp timestampadd
    timestampdiff to_base64 to_bitmap to_bitmap_with_check to_date to_datev2 to_days to_ipv4
    to_ipv4_or_default to_ipv4_or_null to_monday tokenize trim truncate ucase unhex unix_timestamp upper url_decode
    user utc_timestamp uuid uuid_numeric uuid_to_int version week week_ceil week_floor weekday weekofyear
    weeks_add weeks_diff weeks_sub width_bucket xor year year_ceil year_floor years_add years_diff years_sub
    yearweek
    any any_value approx_count_distinct array_agg avg avg_weighted bitmap_agg bitmap_intersect bitmap_union
    bitmap_union_count bitmap_union_int bool_and bool_or booland_agg boolor_agg boolxor_agg collect_list
    collect_set corr count count_by_enum covar covar_pop covar_samp group_array group_array_intersect
    group_array_union group_bit_and group_bit_or group_bit_xor group_bitmap_xor group_concat
    group_uniq_array histogram hll_raw_agg hll_union hll_union_agg intersect_count kurt kurt_pop kurtosis
    map_agg max max_by median min min_by multi_distinct_count multi_distinct_group_concat multi_distinct_sum
    ndv orthogonal_bitmap_intersect orthogonal_bitmap_intersect_count orthogonal_bitmap_union_count
    percentile percentile_approx percentile_array percentile_cont regr_intercept regr_slope regr_sxx
    regr_sxy regr_syy retention sem skew skew_pop skewness std stddev stddev_pop stddev_samp sum sum0 topn
    var_pop var_samp variance variance_pop variance_samp
    dense_rank first_value lag last_value lead ntile rank row_number
    """.split()  # noqa: SIM905 - one name list, easier to read and review as words
)

# Doris's table-valued functions dorisbk answers (``FROM numbers("number" = "10")``; the metadata ones,
# ``jobs("type" = "backup")`` and ``tasks(...)``, by sql.info_schema), and ``snapshot`` (a backed-up table).
TABLE_FUNCTIONS = frozenset({"numbers", "jobs", "tasks", "snapshot"})

# The node kinds of a Doris query that are not function calls (exp.Struct: the ``{'k': v}`` map literal;
# exp.ColumnDef: a field of a STRUCT type).
SYNTAX: tuple[type[exp.Expression], ...] = (
    exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery, exp.With, exp.CTE, exp.Values,
    exp.From, exp.Join, exp.Lateral, exp.Where, exp.Group, exp.Having, exp.Qualify, exp.Order, exp.Ordered,
    exp.Limit, exp.Offset, exp.Distinct, exp.Hint, exp.Window, exp.WindowSpec, exp.Filter,
    exp.WithinGroup, exp.IgnoreNulls, exp.RespectNulls, exp.Rollup, exp.Cube, exp.GroupingSets,
    exp.Table, exp.TableAlias, exp.Partition, exp.Alias, exp.Column, exp.Identifier, exp.Star, exp.Dot, exp.Tuple,
    exp.Literal, exp.Boolean, exp.Null, exp.Array, exp.Struct, exp.HexString, exp.Paren, exp.Var, exp.DataType,
    exp.DataTypeParam, exp.ColumnDef, exp.Interval, exp.Bracket, exp.Lambda, exp.PropertyEQ, exp.Slice,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.Neg, exp.DPipe,
    exp.EQ, exp.NEQ, exp.NullSafeEQ, exp.NullSafeNEQ, exp.GT, exp.GTE, exp.LT, exp.LTE,
    exp.And, exp.Or, exp.Xor, exp.Not, exp.Is, exp.In, exp.Between, exp.Like, exp.ILike, exp.Escape,
    exp.RegexpLike, exp.Match, exp.Exists, exp.Any, exp.All,
    exp.BitwiseAnd, exp.BitwiseOr, exp.BitwiseXor, exp.BitwiseNot, exp.BitwiseLeftShift,
    exp.BitwiseRightShift,
    exp.Cast, exp.TryCast, exp.Case, exp.If, exp.Extract, exp.Count, exp.Concat, exp.StrPosition,
    exp.CurrentDate, exp.CurrentTime, exp.CurrentTimestamp, exp.Trim, exp.Substring,
)  # fmt: skip

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@functools.cache
def _doris_function_kinds() -> frozenset[type[exp.Expression]]:
    """The sqlglot node kinds that Doris's function names parse to (``ifnull`` -> Coalesce, ...)."""
    kinds: set[type[exp.Expression]] = set()
    for name in DORIS_FUNCTIONS:
        for args in ("", "()", "(1)", "(1, 2)", "(1, 2, 3)"):
            try:
                select = sqlglot.parse_one(f"SELECT {name}{args}", read=DorisBK)
            except (sqlglot.errors.SqlglotError, AttributeError, TypeError, ValueError):
                continue  # not a form this name takes (sqlglot's builders raise several kinds)
            # with the nodes a builder wraps the arguments in (date_format -> TimeToStr(TsOrDsToTimestamp))
            kinds.update(type(n) for n in select.walk() if isinstance(n, exp.Func) and not isinstance(n, exp.Anonymous))
    return frozenset(kinds)


def _unknown_function(name: str) -> DorisError:
    return DorisError(f"Can not found function '{name}'")


def check(tree: exp.Expression) -> None:
    """Raise unless every node of ``tree`` is on the allowlist (hints are left unread: never run)."""
    for node in tree.walk(prune=lambda n: isinstance(n, exp.Hint)):
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            if name in TABLE_FUNCTIONS and isinstance(node.parent, exp.Table):
                continue
            if name not in DORIS_FUNCTIONS and name not in CALLS:
                raise _unknown_function(node.name)
        elif isinstance(node, exp.Func) and not isinstance(node, SYNTAX):
            if type(node) not in _doris_function_kinds():
                raise _unknown_function(node.sql_name().lower())
        elif not isinstance(node, SYNTAX):
            raise ParseError(f"Syntax error: {node.key.upper()} is not supported")
        if isinstance(node, exp.Table) and not isinstance(node.this, (exp.Identifier, exp.Anonymous)):
            raise ParseError("Syntax error: a table reference must be a name, numbers(...) or snapshot(...)")


def duckdb_sql(tree: exp.Expression) -> str:
    """The DuckDB SQL of a checked tree: no comments or hints, and every name that is not a plain
    word quoted, so that DuckDB reads each token as sqlglot did (``$$`` is a string to DuckDB)."""
    for hint in list(tree.find_all(exp.Hint)):
        hint.pop()
    for ident in tree.find_all(exp.Identifier):
        if not ident.quoted and not _PLAIN_NAME.match(ident.name):
            ident.set("quoted", True)
    try:
        return tree.sql(dialect="duckdb", comments=False)
    except sqlglot.errors.SqlglotError as exc:
        raise DorisError(f"Unsupported query: {str(exc).splitlines()[0]}") from None
