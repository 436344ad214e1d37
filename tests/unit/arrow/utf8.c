/* zcp_utf8_valid: the well-formed sequences of Unicode table 3-7 and everything else. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "zcpool/arrow.h"

static bool valid(const char *s, size_t n) {
  /* Copy into an exact-size heap block so that ASan catches any read past the end. */
  uint8_t *p = malloc(n ? n : 1);
  memcpy(p, s, n);
  bool ok = zcp_utf8_valid(p, (int64_t)n);
  free(p);
  return ok;
}
#define V(lit) valid(lit, sizeof(lit) - 1)

Test(utf8, accepts_ascii_and_every_sequence_length) {
  cr_assert(zcp_utf8_valid(NULL, 0));
  cr_assert(V(""));
  cr_assert(V("hello, world: plain ascii of more than eight bytes"));
  cr_assert(V("\xC2\x80"));         /* U+0080 */
  cr_assert(V("\xDF\xBF"));         /* U+07FF */
  cr_assert(V("\xE0\xA0\x80"));     /* U+0800 */
  cr_assert(V("\xED\x9F\xBF"));     /* U+D7FF */
  cr_assert(V("\xEE\x80\x80"));     /* U+E000 */
  cr_assert(V("\xEF\xBF\xBF"));     /* U+FFFF */
  cr_assert(V("\xF0\x90\x80\x80")); /* U+10000 */
  cr_assert(V("\xF4\x8F\xBF\xBF")); /* U+10FFFF */
  cr_assert(
      V("gr\xC3\xBC\xC3\x9F"
        "e aus K\xC3\xB6ln \xF0\x9F\x98\x80 \xE2\x82\xAC"));
}

Test(utf8, rejects_overlongs) {
  cr_assert(!V("\xC0\x80"));
  cr_assert(!V("\xC1\xBF"));
  cr_assert(!V("\xE0\x80\x80"));
  cr_assert(!V("\xE0\x9F\xBF"));
  cr_assert(!V("\xF0\x80\x80\x80"));
  cr_assert(!V("\xF0\x8F\xBF\xBF"));
}

Test(utf8, rejects_surrogates_and_beyond_max) {
  cr_assert(!V("\xED\xA0\x80"));     /* U+D800 */
  cr_assert(!V("\xED\xBF\xBF"));     /* U+DFFF */
  cr_assert(!V("\xF4\x90\x80\x80")); /* U+110000 */
  cr_assert(!V("\xF5\x80\x80\x80"));
  cr_assert(!V("\xFF"));
  cr_assert(!V("\xFE"));
}

Test(utf8, rejects_truncated_and_stray_bytes) {
  cr_assert(!V("\xC3"));
  cr_assert(!V("abc\xE2\x82"));
  cr_assert(!V("\xF0\x9F\x98"));
  cr_assert(!V("\x80"));
  cr_assert(!V("a\xBF"));
  cr_assert(!V("\xC3\x28")); /* bad continuation */
  cr_assert(!V("\xE2\x28\xA1"));
  cr_assert(!V("\xF0\x9F\x28\x80"));
  cr_assert(!zcp_utf8_valid((const uint8_t *)"a", -1));
  cr_assert(!zcp_utf8_valid(NULL, 3));
}

Test(utf8, finds_errors_after_and_between_ascii_blocks) {
  char buf[64];
  for (int pos = 0; pos < 40; pos++) {
    memset(buf, 'a', sizeof buf);
    buf[pos] = (char)0xC0;
    cr_assert(!valid(buf, 43), "bad byte at %d", pos);
    memcpy(buf + pos, "\xE2\x82\xAC", 3);
    cr_assert(valid(buf, 43), "good sequence at %d", pos);
    cr_assert(!valid(buf, (size_t)pos + 2), "truncated at %d", pos);
  }
}
