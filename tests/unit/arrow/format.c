/* Tests of src/arrow/format.c: every format string of the C Data Interface parses to the
 * right type and writes back identically; malformed ones are rejected with a message
 * that quotes them; per-type widths and buffer counts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "zcpool/arrow.h"

struct case_ {
  const char *format;
  enum zcp_type type;
};

/* Canonical spellings: each one must round-trip byte for byte. */
static const struct case_ canonical[] = {
    {"n", ZCP_TYPE_NA},
    {"b", ZCP_TYPE_BOOL},
    {"c", ZCP_TYPE_INT8},
    {"C", ZCP_TYPE_UINT8},
    {"s", ZCP_TYPE_INT16},
    {"S", ZCP_TYPE_UINT16},
    {"i", ZCP_TYPE_INT32},
    {"I", ZCP_TYPE_UINT32},
    {"l", ZCP_TYPE_INT64},
    {"L", ZCP_TYPE_UINT64},
    {"e", ZCP_TYPE_HALF_FLOAT},
    {"f", ZCP_TYPE_FLOAT},
    {"g", ZCP_TYPE_DOUBLE},
    {"z", ZCP_TYPE_BINARY},
    {"Z", ZCP_TYPE_LARGE_BINARY},
    {"u", ZCP_TYPE_STRING},
    {"U", ZCP_TYPE_LARGE_STRING},
    {"vz", ZCP_TYPE_BINARY_VIEW},
    {"vu", ZCP_TYPE_STRING_VIEW},
    {"w:0", ZCP_TYPE_FIXED_SIZE_BINARY},
    {"w:16", ZCP_TYPE_FIXED_SIZE_BINARY},
    {"d:9,2,32", ZCP_TYPE_DECIMAL32},
    {"d:1,-2,32", ZCP_TYPE_DECIMAL32},
    {"d:18,4,64", ZCP_TYPE_DECIMAL64},
    {"d:1,0,64", ZCP_TYPE_DECIMAL64},
    {"d:1,0", ZCP_TYPE_DECIMAL128},
    {"d:38,10", ZCP_TYPE_DECIMAL128},
    {"d:19,-3", ZCP_TYPE_DECIMAL128},
    {"d:76,20,256", ZCP_TYPE_DECIMAL256},
    {"d:1,0,256", ZCP_TYPE_DECIMAL256},
    {"tdD", ZCP_TYPE_DATE32},
    {"tdm", ZCP_TYPE_DATE64},
    {"tts", ZCP_TYPE_TIME32},
    {"ttm", ZCP_TYPE_TIME32},
    {"ttu", ZCP_TYPE_TIME64},
    {"ttn", ZCP_TYPE_TIME64},
    {"tss:", ZCP_TYPE_TIMESTAMP},
    {"tsm:UTC", ZCP_TYPE_TIMESTAMP},
    {"tsu:Europe/Paris", ZCP_TYPE_TIMESTAMP},
    {"tsn:+07:30", ZCP_TYPE_TIMESTAMP},
    {"tDs", ZCP_TYPE_DURATION},
    {"tDm", ZCP_TYPE_DURATION},
    {"tDu", ZCP_TYPE_DURATION},
    {"tDn", ZCP_TYPE_DURATION},
    {"tiM", ZCP_TYPE_INTERVAL_MONTHS},
    {"tiD", ZCP_TYPE_INTERVAL_DAY_TIME},
    {"tin", ZCP_TYPE_INTERVAL_MONTH_DAY_NANO},
    {"+l", ZCP_TYPE_LIST},
    {"+L", ZCP_TYPE_LARGE_LIST},
    {"+vl", ZCP_TYPE_LIST_VIEW},
    {"+vL", ZCP_TYPE_LARGE_LIST_VIEW},
    {"+w:0", ZCP_TYPE_FIXED_SIZE_LIST},
    {"+w:3", ZCP_TYPE_FIXED_SIZE_LIST},
    {"+w:2147483647", ZCP_TYPE_FIXED_SIZE_LIST},
    {"+s", ZCP_TYPE_STRUCT},
    {"+m", ZCP_TYPE_MAP},
    {"+ud:", ZCP_TYPE_DENSE_UNION},
    {"+ud:0,1,2", ZCP_TYPE_DENSE_UNION},
    {"+us:5", ZCP_TYPE_SPARSE_UNION},
    {"+us:127,0,64", ZCP_TYPE_SPARSE_UNION},
    {"+r", ZCP_TYPE_RUN_END_ENCODED},
};

Test(format, every_format_round_trips) {
  bool covered[ZCP_TYPE_COUNT_] = {false};
  for (size_t i = 0; i < sizeof canonical / sizeof canonical[0]; i++) {
    struct zcp_format f;
    struct zcp_error e = {0};
    zcp_status_t st = zcp_format_parse(canonical[i].format, &f, &e);
    cr_assert_eq(st, ZCP_OK, "%s: %s", canonical[i].format, e.message);
    cr_assert_eq(f.type, canonical[i].type, "%s parsed as %s", canonical[i].format,
                 zcp_type_name(f.type));
    char buf[64];
    st = zcp_format_write(&f, buf, sizeof buf, &e);
    cr_assert_eq(st, ZCP_OK, "%s: %s", canonical[i].format, e.message);
    cr_assert_str_eq(buf, canonical[i].format);
    covered[f.type] = true;
  }
  for (int t = 0; t < ZCP_TYPE_COUNT_; t++) {
    cr_assert(covered[t], "type %s has no format in the table", zcp_type_name(t));
  }
}

Test(format, parses_fields) {
  struct zcp_format f;
  cr_assert_eq(zcp_format_parse("d:38,10", &f, NULL), ZCP_OK);
  cr_assert_eq(f.precision, 38);
  cr_assert_eq(f.scale, 10);
  cr_assert_eq(zcp_format_parse("d:20,-4,256", &f, NULL), ZCP_OK);
  cr_assert_eq(f.type, ZCP_TYPE_DECIMAL256);
  cr_assert_eq(f.precision, 20);
  cr_assert_eq(f.scale, -4);

  cr_assert_eq(zcp_format_parse("w:12", &f, NULL), ZCP_OK);
  cr_assert_eq(f.fixed_size, 12);
  cr_assert_eq(zcp_format_bit_width(&f), 96);
  cr_assert_eq(zcp_format_parse("+w:7", &f, NULL), ZCP_OK);
  cr_assert_eq(f.fixed_size, 7);

  const char *ts = "tsu:America/New_York";
  cr_assert_eq(zcp_format_parse(ts, &f, NULL), ZCP_OK);
  cr_assert_eq(f.unit, ZCP_TIME_MICRO);
  cr_assert_eq(f.timezone, ts + 4, "time zone points into the format");
  cr_assert_eq(f.timezone_len, (int32_t)strlen("America/New_York"));
  cr_assert_eq(zcp_format_parse("tsn:", &f, NULL), ZCP_OK);
  cr_assert_eq(f.unit, ZCP_TIME_NANO);
  cr_assert_null(f.timezone);
  cr_assert_eq(f.timezone_len, 0);

  cr_assert_eq(zcp_format_parse("ttm", &f, NULL), ZCP_OK);
  cr_assert_eq(f.type, ZCP_TYPE_TIME32);
  cr_assert_eq(f.unit, ZCP_TIME_MILLI);
  cr_assert_eq(zcp_format_parse("tDs", &f, NULL), ZCP_OK);
  cr_assert_eq(f.unit, ZCP_TIME_SECOND);

  cr_assert_eq(zcp_format_parse("+us:4,2,9", &f, NULL), ZCP_OK);
  cr_assert_eq(f.n_type_ids, 3);
  cr_assert_eq(f.type_ids[0], 4);
  cr_assert_eq(f.type_ids[1], 2);
  cr_assert_eq(f.type_ids[2], 9);
  cr_assert_eq(zcp_format_parse("+ud:", &f, NULL), ZCP_OK);
  cr_assert_eq(f.n_type_ids, 0);
}

Test(format, accepts_decimal128_with_explicit_width) {
  struct zcp_format f;
  cr_assert_eq(zcp_format_parse("d:10,2,128", &f, NULL), ZCP_OK);
  cr_assert_eq(f.type, ZCP_TYPE_DECIMAL128);
  char buf[32];
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, NULL), ZCP_OK);
  cr_assert_str_eq(buf, "d:10,2");
}

Test(format, decimal32_and_decimal64_keep_width_precision_and_scale) {
  struct zcp_format f;
  struct zcp_error e = {0};
  cr_assert_eq(zcp_format_parse("d:7,3,32", &f, &e), ZCP_OK, "%s", e.message);
  cr_assert_eq(f.type, ZCP_TYPE_DECIMAL32);
  cr_assert_eq(f.precision, 7);
  cr_assert_eq(f.scale, 3);
  cr_assert_eq(zcp_format_bit_width(&f), 32);
  cr_assert_str_eq(zcp_type_name(f.type), "decimal32");
  cr_assert_eq(zcp_format_parse("d:18,-5,64", &f, &e), ZCP_OK, "%s", e.message);
  cr_assert_eq(f.type, ZCP_TYPE_DECIMAL64);
  cr_assert_eq(f.precision, 18);
  cr_assert_eq(f.scale, -5);
  cr_assert_eq(zcp_format_bit_width(&f), 64);
  cr_assert_str_eq(zcp_type_name(f.type), "decimal64");
  /* The widest precision of each width is accepted, one more is not. */
  const char *edge[][2] = {{"d:9,0,32", "d:10,0,32"}, {"d:18,0,64", "d:19,0,64"},
                           {"d:38,0,128", "d:39,0,128"}, {"d:76,0,256", "d:77,0,256"}};
  for (int k = 0; k < 4; k++) {
    cr_assert_eq(zcp_format_parse(edge[k][0], &f, &e), ZCP_OK, "%s: %s", edge[k][0], e.message);
    cr_assert_eq(zcp_format_parse(edge[k][1], &f, &e), ZCP_INVALID_ARGUMENT, "%s", edge[k][1]);
    cr_assert(strstr(e.message, "precision") != NULL, "%s", e.message);
  }
}

Test(format, union_with_all_128_type_ids) {
  char fmt[1024] = "+ud:";
  for (int i = 127; i >= 0; i--) {
    char part[8];
    snprintf(part, sizeof part, i == 127 ? "%d" : ",%d", i);
    strcat(fmt, part);
  }
  struct zcp_format f;
  struct zcp_error e = {0};
  cr_assert_eq(zcp_format_parse(fmt, &f, &e), ZCP_OK, "%s", e.message);
  cr_assert_eq(f.n_type_ids, 128);
  cr_assert_eq(f.type_ids[0], 127);
  cr_assert_eq(f.type_ids[127], 0);
  char out[1024];
  cr_assert_eq(zcp_format_write(&f, out, sizeof out, NULL), ZCP_OK);
  cr_assert_str_eq(out, fmt);
}

/* Malformed formats and a fragment the message must contain (besides the format). */
static const struct {
  const char *format;
  const char *why;
} rejected[] = {
    {"", "empty"},
    {"x", "unknown type"},
    {"ii", "unexpected characters"},
    {"n ", "unexpected characters"},
    {" i", "unknown type"},
    {"v", "unknown view"},
    {"vx", "unknown view"},
    {"w", "expected ':'"},
    {"w:", "expected a size"},
    {"w:-1", "outside"},
    {"w:+1", "expected a size"},
    {"w:2147483648", "outside 0..2147483647"},
    {"w:99999999999999999999", "expected a size"},
    {"w:4x", "unexpected characters"},
    {"d", "expected ':'"},
    {"d:", "precision"},
    {"d:10", "expected ','"},
    {"d:10,", "scale"},
    {"d:10,2,", "bit width"},
    {"d:10,2,32", "decimal32 precision 10 is outside 1..9"},
    {"d:0,2,32", "decimal32 precision 0"},
    {"d:19,2,64", "decimal64 precision 19 is outside 1..18"},
    {"d:10,2,512", "bit width 512 is not one of 32, 64, 128 and 256"},
    {"d:10,2,16", "bit width 16"},
    {"d:10,2,0", "bit width 0"},
    {"d:10,2,-32", "bit width -32"},
    {"d:9,2,32x", "unexpected characters"},
    {"d:0,0", "precision 0"},
    {"d:-1,0", "precision -1"},
    {"d:39,0", "precision 39"},
    {"d:39,0,128", "precision 39"},
    {"d:77,0,256", "precision 77"},
    {"d:10,3000000000", "scale"},
    {"d:10,2,256x", "unexpected characters"},
    {"d:10,2x", "unexpected characters"},
    {"t", "unknown temporal"},
    {"td", "unknown temporal"},
    {"tdx", "unknown temporal"},
    {"tdDx", "unexpected characters"},
    {"tt", "unknown temporal"},
    {"ttx", "unknown temporal"},
    {"ts", "unknown temporal"},
    {"tsx:", "unknown temporal"},
    {"tss", "expected ':'"},
    {"tsuUTC", "expected ':'"},
    {"tD", "unknown temporal"},
    {"tDx", "unknown temporal"},
    {"tDss", "unexpected characters"},
    {"ti", "unknown temporal"},
    {"tix", "unknown temporal"},
    {"tiMM", "unexpected characters"},
    {"+", "unknown nested"},
    {"+x", "unknown nested"},
    {"+v", "unknown nested"},
    {"+vx", "unknown nested"},
    {"+lx", "unexpected characters"},
    {"+s:", "unexpected characters"},
    {"+w", "expected ':'"},
    {"+w:", "expected a size"},
    {"+w:-3", "outside"},
    {"+w:2147483648", "outside"},
    {"+u", "unknown nested"},
    {"+ux:0", "unknown nested"},
    {"+ud", "expected ':'"},
    {"+us0", "expected ':'"},
    {"+ud:-1", "type id -1"},
    {"+ud:128", "type id 128"},
    {"+us:0,1,0", "type id 0 appears twice"},
    {"+us:0,", "expected a union type id"},
    {"+us:,0", "expected a union type id"},
    {"+us:0,,1", "expected a union type id"},
    {"+us:1;2", "unexpected characters"},
    {"+rr", "unexpected characters"},
};

Test(format, rejects_malformed_formats) {
  for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++) {
    struct zcp_format f;
    struct zcp_error e = {0};
    zcp_status_t st = zcp_format_parse(rejected[i].format, &f, &e);
    cr_assert_eq(st, ZCP_INVALID_ARGUMENT, "'%s' gave %s", rejected[i].format,
                 zcp_status_str(st));
    cr_assert_eq(e.code, ZCP_INVALID_ARGUMENT);
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\"", rejected[i].format);
    cr_assert(strstr(e.message, quoted) != NULL, "'%s': message does not quote it: %s",
              rejected[i].format, e.message);
    cr_assert(strstr(e.message, rejected[i].why) != NULL, "'%s': expected '%s' in: %s",
              rejected[i].format, rejected[i].why, e.message);
    cr_assert_eq(zcp_format_parse(rejected[i].format, &f, NULL), ZCP_INVALID_ARGUMENT,
                 "NULL error struct changes the outcome");
  }
}

Test(format, valid_formats_beyond_the_library_s_limits_are_unsupported_not_invalid) {
  struct zcp_format f;
  struct zcp_error e = {0};
  /* 8 * 268435456 bits no longer fit an int32 bit width */
  cr_assert_eq(zcp_format_parse("w:268435456", &f, &e), ZCP_UNSUPPORTED, "%s", e.message);
  cr_assert(strstr(e.message, "format string \"w:268435456\": size 268435456 is larger than "
                              "the 268435455 this library supports") != NULL,
            "%s", e.message);
  cr_assert_eq(zcp_format_parse("w:2147483647", &f, &e), ZCP_UNSUPPORTED);
  cr_assert_eq(zcp_format_parse("w:268435455", &f, &e), ZCP_OK, "%s", e.message);
  cr_assert_eq(zcp_format_parse("+w:2147483647", &f, &e), ZCP_OK, "%s", e.message);
}

Test(format, rejects_more_than_128_type_ids) {
  /* 129 ids must repeat one: the duplicate is what is caught. */
  char fmt[1024] = "+us:0";
  for (int i = 1; i <= 128; i++) {
    char part[8];
    snprintf(part, sizeof part, ",%d", i % 128);
    strcat(fmt, part);
  }
  struct zcp_format f;
  struct zcp_error e = {0};
  cr_assert_eq(zcp_format_parse(fmt, &f, &e), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "appears twice") != NULL, "%s", e.message);
}

Test(format, rejects_null_arguments) {
  struct zcp_format f;
  struct zcp_error e = {0};
  cr_assert_eq(zcp_format_parse(NULL, &f, &e), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "NULL") != NULL, "%s", e.message);
  cr_assert_eq(zcp_format_parse("i", NULL, &e), ZCP_INVALID_ARGUMENT);
}

Test(format, long_format_is_truncated_in_message) {
  char fmt[400];
  memset(fmt, 'q', sizeof fmt - 1);
  fmt[sizeof fmt - 1] = '\0';
  struct zcp_format f;
  struct zcp_error e = {0};
  cr_assert_eq(zcp_format_parse(fmt, &f, &e), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "...") != NULL, "%s", e.message);
  cr_assert_lt(strlen(e.message), 300);
}

Test(format, write_reports_needed_space) {
  struct zcp_format f;
  cr_assert_eq(zcp_format_parse("tsu:Europe/Paris", &f, NULL), ZCP_OK);
  char buf[8];
  struct zcp_error e = {0};
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_NO_SPACE);
  cr_assert(strstr(e.message, "17 bytes") != NULL, "%s", e.message);
  cr_assert_str_eq(buf, "", "a short buffer is left an empty string");
  cr_assert_eq(zcp_format_write(&f, NULL, 0, NULL), ZCP_NO_SPACE);
  char exact[17];
  cr_assert_eq(zcp_format_write(&f, exact, sizeof exact, NULL), ZCP_OK);
  cr_assert_str_eq(exact, "tsu:Europe/Paris");
  char one[2];
  cr_assert_eq(zcp_format_parse("i", &f, NULL), ZCP_OK);
  cr_assert_eq(zcp_format_write(&f, one, 1, NULL), ZCP_NO_SPACE);
  cr_assert_eq(zcp_format_write(&f, one, 2, NULL), ZCP_OK);
  cr_assert_str_eq(one, "i");
}

Test(format, write_rejects_impossible_formats) {
  struct zcp_format f;
  struct zcp_error e = {0};
  char buf[64];

  memset(&f, 0, sizeof f);
  f.type = ZCP_TYPE_COUNT_;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);
  f.type = (enum zcp_type) - 1;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);

  memset(&f, 0, sizeof f);
  f.type = ZCP_TYPE_DECIMAL32;
  f.precision = 10;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "decimal32 precision outside 1..9") != NULL, "%s", e.message);
  f.type = ZCP_TYPE_DECIMAL64;
  f.precision = 19;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "decimal64 precision outside 1..18") != NULL, "%s", e.message);
  f.precision = 18;
  f.scale = -3;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_OK, "%s", e.message);
  cr_assert_str_eq(buf, "d:18,-3,64");
  f.type = ZCP_TYPE_DECIMAL128;
  f.precision = 39;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "decimal128") != NULL, "%s", e.message);
  f.precision = 0;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);
  f.type = ZCP_TYPE_DECIMAL256;
  f.precision = 77;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);

  memset(&f, 0, sizeof f);
  f.type = ZCP_TYPE_TIME32;
  f.unit = ZCP_TIME_MICRO;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);
  f.type = ZCP_TYPE_TIME64;
  f.unit = ZCP_TIME_SECOND;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);
  f.type = ZCP_TYPE_DURATION;
  f.unit = (enum zcp_time_unit)7;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);

  memset(&f, 0, sizeof f);
  f.type = ZCP_TYPE_TIMESTAMP;
  f.timezone_len = 3;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);
  f.timezone = "A\0B";
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);
  f.timezone = "UTCxyz";
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_OK, "%s", e.message);
  cr_assert_str_eq(buf, "tss:UTC", "only timezone_len bytes are written");

  memset(&f, 0, sizeof f);
  f.type = ZCP_TYPE_FIXED_SIZE_BINARY;
  f.fixed_size = -1;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);
  f.type = ZCP_TYPE_FIXED_SIZE_LIST;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);

  memset(&f, 0, sizeof f);
  f.type = ZCP_TYPE_DENSE_UNION;
  f.n_type_ids = 2;
  f.type_ids[0] = 3;
  f.type_ids[1] = 3;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);
  f.type_ids[1] = -5;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);
  f.n_type_ids = 129;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);
  f.n_type_ids = -1;
  cr_assert_eq(zcp_format_write(&f, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_format_write(NULL, buf, sizeof buf, &e), ZCP_INVALID_ARGUMENT);
}

Test(format, names_every_type) {
  for (int t = 0; t < ZCP_TYPE_COUNT_; t++) {
    const char *name = zcp_type_name((enum zcp_type)t);
    cr_assert_not_null(name);
    cr_assert_str_neq(name, "unknown", "type %d", t);
    for (int u = 0; u < t; u++) {
      cr_assert_str_neq(name, zcp_type_name((enum zcp_type)u), "types %d and %d", t, u);
    }
  }
  cr_assert_str_eq(zcp_type_name(ZCP_TYPE_INT32), "int32");
  cr_assert_str_eq(zcp_type_name(ZCP_TYPE_TIMESTAMP), "timestamp");
  cr_assert_str_eq(zcp_type_name(ZCP_TYPE_LARGE_STRING), "large_utf8");
  cr_assert_str_eq(zcp_type_name(ZCP_TYPE_COUNT_), "unknown");
  cr_assert_str_eq(zcp_type_name((enum zcp_type) - 3), "unknown");
}

Test(format, bit_widths) {
  static const struct {
    enum zcp_type type;
    int32_t bits;
  } widths[] = {
      {ZCP_TYPE_NA, 0},
      {ZCP_TYPE_BOOL, 1},
      {ZCP_TYPE_INT8, 8},
      {ZCP_TYPE_UINT8, 8},
      {ZCP_TYPE_INT16, 16},
      {ZCP_TYPE_UINT16, 16},
      {ZCP_TYPE_HALF_FLOAT, 16},
      {ZCP_TYPE_INT32, 32},
      {ZCP_TYPE_UINT32, 32},
      {ZCP_TYPE_FLOAT, 32},
      {ZCP_TYPE_INT64, 64},
      {ZCP_TYPE_UINT64, 64},
      {ZCP_TYPE_DOUBLE, 64},
      {ZCP_TYPE_DECIMAL32, 32},
      {ZCP_TYPE_DECIMAL64, 64},
      {ZCP_TYPE_DECIMAL128, 128},
      {ZCP_TYPE_DECIMAL256, 256},
      {ZCP_TYPE_DATE32, 32},
      {ZCP_TYPE_DATE64, 64},
      {ZCP_TYPE_TIME32, 32},
      {ZCP_TYPE_TIME64, 64},
      {ZCP_TYPE_TIMESTAMP, 64},
      {ZCP_TYPE_DURATION, 64},
      {ZCP_TYPE_INTERVAL_MONTHS, 32},
      {ZCP_TYPE_INTERVAL_DAY_TIME, 64},
      {ZCP_TYPE_INTERVAL_MONTH_DAY_NANO, 128},
      {ZCP_TYPE_BINARY, 0},
      {ZCP_TYPE_STRING, 0},
      {ZCP_TYPE_LARGE_BINARY, 0},
      {ZCP_TYPE_LARGE_STRING, 0},
      {ZCP_TYPE_BINARY_VIEW, 0},
      {ZCP_TYPE_STRING_VIEW, 0},
      {ZCP_TYPE_FIXED_SIZE_BINARY, 0},
      {ZCP_TYPE_LIST, 0},
      {ZCP_TYPE_LARGE_LIST, 0},
      {ZCP_TYPE_LIST_VIEW, 0},
      {ZCP_TYPE_LARGE_LIST_VIEW, 0},
      {ZCP_TYPE_FIXED_SIZE_LIST, 0},
      {ZCP_TYPE_STRUCT, 0},
      {ZCP_TYPE_MAP, 0},
      {ZCP_TYPE_SPARSE_UNION, 0},
      {ZCP_TYPE_DENSE_UNION, 0},
      {ZCP_TYPE_RUN_END_ENCODED, 0},
  };
  cr_assert_eq(sizeof widths / sizeof widths[0], (size_t)ZCP_TYPE_COUNT_);
  for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
    cr_assert_eq(zcp_type_bit_width(widths[i].type), widths[i].bits, "%s",
                 zcp_type_name(widths[i].type));
  }
  struct zcp_format f;
  cr_assert_eq(zcp_format_parse("w:268435455", &f, NULL), ZCP_OK);
  cr_assert_eq(zcp_format_bit_width(&f), 268435455 * 8);
  cr_assert_eq(zcp_format_parse("tin", &f, NULL), ZCP_OK);
  cr_assert_eq(zcp_format_bit_width(&f), 128);
  cr_assert_eq(zcp_format_bit_width(NULL), 0);
}

Test(format, buffer_counts) {
  static const struct {
    enum zcp_type type;
    int32_t n;
  } counts[] = {
      {ZCP_TYPE_NA, 0},
      {ZCP_TYPE_BOOL, 2},
      {ZCP_TYPE_INT8, 2},
      {ZCP_TYPE_UINT64, 2},
      {ZCP_TYPE_HALF_FLOAT, 2},
      {ZCP_TYPE_DOUBLE, 2},
      {ZCP_TYPE_DECIMAL32, 2},
      {ZCP_TYPE_DECIMAL64, 2},
      {ZCP_TYPE_DECIMAL128, 2},
      {ZCP_TYPE_DECIMAL256, 2},
      {ZCP_TYPE_DATE32, 2},
      {ZCP_TYPE_DATE64, 2},
      {ZCP_TYPE_TIME32, 2},
      {ZCP_TYPE_TIME64, 2},
      {ZCP_TYPE_TIMESTAMP, 2},
      {ZCP_TYPE_DURATION, 2},
      {ZCP_TYPE_INTERVAL_MONTHS, 2},
      {ZCP_TYPE_INTERVAL_DAY_TIME, 2},
      {ZCP_TYPE_INTERVAL_MONTH_DAY_NANO, 2},
      {ZCP_TYPE_BINARY, 3},
      {ZCP_TYPE_STRING, 3},
      {ZCP_TYPE_LARGE_BINARY, 3},
      {ZCP_TYPE_LARGE_STRING, 3},
      {ZCP_TYPE_BINARY_VIEW, 3},
      {ZCP_TYPE_STRING_VIEW, 3},
      {ZCP_TYPE_FIXED_SIZE_BINARY, 2},
      {ZCP_TYPE_LIST, 2},
      {ZCP_TYPE_LARGE_LIST, 2},
      {ZCP_TYPE_LIST_VIEW, 3},
      {ZCP_TYPE_LARGE_LIST_VIEW, 3},
      {ZCP_TYPE_FIXED_SIZE_LIST, 1},
      {ZCP_TYPE_STRUCT, 1},
      {ZCP_TYPE_MAP, 2},
      {ZCP_TYPE_SPARSE_UNION, 1},
      {ZCP_TYPE_DENSE_UNION, 2},
      {ZCP_TYPE_RUN_END_ENCODED, 0},
  };
  for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
    cr_assert_eq(zcp_type_n_buffers(counts[i].type), counts[i].n, "%s",
                 zcp_type_name(counts[i].type));
  }
  for (int t = ZCP_TYPE_BOOL; t <= ZCP_TYPE_INTERVAL_MONTH_DAY_NANO; t++) {
    cr_assert_eq(zcp_type_n_buffers((enum zcp_type)t), 2, "%s",
                 zcp_type_name((enum zcp_type)t));
  }
}

Test(format, failed_parse_leaves_zeroed_output) {
  struct zcp_format f;
  memset(&f, 0x5a, sizeof f);
  cr_assert_eq(zcp_format_parse("+ud:1,2,2", &f, NULL), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(f.n_type_ids, 0);
  cr_assert_eq(f.type, ZCP_TYPE_NA);
  cr_assert_null(f.timezone);
}
