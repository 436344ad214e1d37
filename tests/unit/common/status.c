#include <criterion/criterion.h>
#include <string.h>

#include "zcpool/status.h"

Test(status, names_every_code) {
  for (int c = ZCP_OK; c <= ZCP_INCOMPLETE; c++) {
    cr_assert_str_neq(zcp_status_str((zcp_status_t)c), "unknown status", "code %d", c);
  }
  cr_assert_str_eq(zcp_status_str((zcp_status_t)999), "unknown status");
}

Test(status, set_formats_and_returns_code) {
  struct zcp_error e;
  zcp_status_t st = zcp_error_set(&e, ZCP_NOT_FOUND, "node %d", 3);
  cr_assert_eq(st, ZCP_NOT_FOUND);
  cr_assert_eq(e.code, ZCP_NOT_FOUND);
  cr_assert_str_eq(e.message, "node 3");
  cr_assert_eq(zcp_error_set(NULL, ZCP_BUSY, "x"), ZCP_BUSY);
}

Test(status, prefix_keeps_message_and_truncates) {
  struct zcp_error e;
  (void)zcp_error_set(&e, ZCP_CORRUPT_INPUT, "row 7: bad");
  (void)zcp_error_prefix(&e, ZCP_CORRUPT_INPUT, "column %s: ", "a");
  cr_assert_str_eq(e.message, "column a: row 7: bad");
  char big[2000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  (void)zcp_error_prefix(&e, ZCP_CORRUPT_INPUT, "%s", big);
  cr_assert_eq(strlen(e.message), ZCP_ERROR_MESSAGE_MAX - 1);
  zcp_error_clear(&e);
  cr_assert_eq(e.code, ZCP_OK);
  cr_assert_str_eq(e.message, "");
}
