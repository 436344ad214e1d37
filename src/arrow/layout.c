/* How many bytes each layout buffer of a type must hold for a given number of slots:
 * the one place that knows, shared by validation (is this buffer big enough?) and by
 * descriptors (how much of this buffer does the array use?). */
#include "arrow/internal.h"
#include "common/util.h"

int64_t zcp__bytes_for_bits(int64_t n, int64_t bits) {
  int64_t total;
  if (n < 0 || bits < 0 || !zcp__mul_i64(n, bits, &total)) return -1;
  return total / 8 + (total % 8 != 0);
}

int64_t zcp__layout_buffer_bytes(const struct zcp_format *f, int64_t index,
                                 int64_t slots) {
  if (slots < 0 || index < 0) return -1;
  enum zcp_type t = f->type;
  int64_t width = 4;
  switch (t) {
    case ZCP_TYPE_NA:
    case ZCP_TYPE_RUN_END_ENCODED:
      return -1; /* no buffers */
    case ZCP_TYPE_SPARSE_UNION:
    case ZCP_TYPE_DENSE_UNION:
      /* no validity: type ids (int8), then dense offsets (int32) */
      if (index == 0) return slots;
      if (index == 1 && t == ZCP_TYPE_DENSE_UNION) return zcp__bytes_for_bits(slots, 32);
      return -1;
    default:
      break;
  }
  if (index == 0) return zcp__bytes_for_bits(slots, 1); /* validity */
  switch (t) {
    case ZCP_TYPE_LARGE_BINARY:
    case ZCP_TYPE_LARGE_STRING:
    case ZCP_TYPE_LARGE_LIST:
      width = 8;
      /* fallthrough */
    case ZCP_TYPE_BINARY:
    case ZCP_TYPE_STRING:
    case ZCP_TYPE_LIST:
    case ZCP_TYPE_MAP: {
      if (index == 2 && t != ZCP_TYPE_LIST && t != ZCP_TYPE_LARGE_LIST &&
          t != ZCP_TYPE_MAP)
        return ZCP__BYTES_DATA_DEPENDENT;
      if (index != 1) return -1;
      int64_t n;
      if (!zcp__add_i64(slots, 1, &n)) return -1;
      return zcp__bytes_for_bits(n, width * 8);
    }
    case ZCP_TYPE_BINARY_VIEW:
    case ZCP_TYPE_STRING_VIEW:
      return index == 1 ? zcp__bytes_for_bits(slots, 128) : -1;
    case ZCP_TYPE_LARGE_LIST_VIEW:
      width = 8;
      /* fallthrough */
    case ZCP_TYPE_LIST_VIEW:
      return index <= 2 ? zcp__bytes_for_bits(slots, width * 8) : -1;
    case ZCP_TYPE_FIXED_SIZE_LIST:
    case ZCP_TYPE_STRUCT:
      return -1;
    default: {
      int64_t bits = zcp_format_bit_width(f);
      return index == 1 && bits >= 0 ? zcp__bytes_for_bits(slots, bits) : -1;
    }
  }
}
