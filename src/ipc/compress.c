/* Body compression of the IPC format: each buffer on its own, LZ4 frame or ZSTD, with
 * its uncompressed length in front (-1 when it is stored raw because compressing did not
 * shrink it). Decompression must produce exactly the announced length: a frame that
 * stops short or runs long is corrupt input, never a partially filled buffer. */
#include <lz4frame.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "common/util.h"
#include "ipc/internal.h"

zcp_status_t zcp__ipc_compress(int codec, const uint8_t *src, int64_t n, uint8_t **out,
                               int64_t *out_size, struct zcp_error *err) {
  size_t bound = codec == ZCP_IPC_COMPRESSION_LZ4_FRAME
                     ? LZ4F_compressFrameBound((size_t)n, NULL)
                     : ZSTD_compressBound((size_t)n);
  if (bound < (size_t)n) bound = (size_t)n;
  uint8_t *dst = malloc(bound + 8);
  if (dst == NULL) {
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory to compress %lld bytes",
                         (long long)n);
  }
  size_t got;
  if (codec == ZCP_IPC_COMPRESSION_LZ4_FRAME) {
    got = LZ4F_compressFrame(dst + 8, bound, src, (size_t)n, NULL);
    if (LZ4F_isError(got)) got = SIZE_MAX;
  } else {
    got = ZSTD_compress(dst + 8, bound, src, (size_t)n, 1);
    if (ZSTD_isError(got)) got = SIZE_MAX;
  }
  if (got == SIZE_MAX || (int64_t)got >= n) {
    zcp__store_le64(dst, UINT64_MAX); /* -1: stored raw */
    if (n) memcpy(dst + 8, src, (size_t)n);
    got = (size_t)n;
  } else {
    zcp__store_le64(dst, (uint64_t)n);
  }
  *out = dst;
  *out_size = 8 + (int64_t)got;
  return ZCP_OK;
}

static zcp_status_t lz4_decompress(const uint8_t *src, int64_t n, uint8_t *dst,
                                   int64_t dst_size, struct zcp_error *err) {
  LZ4F_dctx *ctx;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) {
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for an LZ4 context");
  }
  int64_t in = 0, outp = 0;
  size_t hint = 1;
  while (hint != 0) {
    size_t src_size = (size_t)(n - in), dst_left = (size_t)(dst_size - outp);
    hint = LZ4F_decompress(ctx, dst + outp, &dst_left, src + in, &src_size, NULL);
    if (LZ4F_isError(hint)) {
      LZ4F_freeDecompressionContext(ctx);
      return zcp_error_set(err, ZCP_CORRUPT_INPUT, "LZ4 frame: %s",
                           LZ4F_getErrorName(hint));
    }
    in += (int64_t)src_size;
    outp += (int64_t)dst_left;
    if (hint != 0 && src_size == 0 && dst_left == 0) break; /* no progress: truncated */
  }
  LZ4F_freeDecompressionContext(ctx);
  if (hint != 0 || outp != dst_size) {
    return zcp_error_set(
        err, ZCP_CORRUPT_INPUT, "LZ4 frame decompresses to %lld bytes%s, expected %lld",
        (long long)outp, hint ? " and is truncated" : "", (long long)dst_size);
  }
  return ZCP_OK;
}

zcp_status_t zcp__ipc_decompress(int codec, const uint8_t *src, int64_t n, uint8_t *dst,
                                 int64_t dst_size, struct zcp_error *err) {
  if (codec == ZCP_IPC_COMPRESSION_LZ4_FRAME) {
    return lz4_decompress(src, n, dst, dst_size, err);
  }
  size_t got = ZSTD_decompress(dst, (size_t)dst_size, src, (size_t)n);
  if (ZSTD_isError(got)) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT, "ZSTD frame: %s",
                         ZSTD_getErrorName(got));
  }
  if ((int64_t)got != dst_size) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "ZSTD frame decompresses to %lld bytes, expected %lld",
                         (long long)got, (long long)dst_size);
  }
  return ZCP_OK;
}

zcp_status_t zcp__ipc_decompressed_size_check(int codec, const uint8_t *src, int64_t n,
                                              int64_t want, struct zcp_error *err) {
  /* The frame header may state the content size; when it does it must agree. When it
   * does not, the best ratio the codec can reach bounds what n bytes can expand to, so
   * that a forged length never turns into a huge allocation. */
  int64_t stated = -1, max_ratio;
  if (codec == ZCP_IPC_COMPRESSION_LZ4_FRAME) {
    LZ4F_dctx *ctx;
    LZ4F_frameInfo_t info;
    size_t used = (size_t)n;
    memset(&info, 0, sizeof info);
    if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) {
      return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for an LZ4 context");
    }
    size_t r = LZ4F_getFrameInfo(ctx, &info, src, &used);
    LZ4F_freeDecompressionContext(ctx);
    if (LZ4F_isError(r)) {
      return zcp_error_set(err, ZCP_CORRUPT_INPUT, "LZ4 frame header: %s",
                           LZ4F_getErrorName(r));
    }
    if (info.contentSize != 0) stated = (int64_t)info.contentSize;
    max_ratio = 256;
  } else {
    unsigned long long c = ZSTD_getFrameContentSize(src, (size_t)n);
    if (c == ZSTD_CONTENTSIZE_ERROR) {
      return zcp_error_set(err, ZCP_CORRUPT_INPUT, "ZSTD frame header is invalid");
    }
    if (c != ZSTD_CONTENTSIZE_UNKNOWN)
      stated = (int64_t)ZCP_MIN(c, (unsigned long long)INT64_MAX);
    max_ratio = 32768;
  }
  int64_t bound;
  if (stated >= 0 ? stated != want
                  : (!zcp__mul_i64(n + 64, max_ratio, &bound) || want > bound)) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "compressed buffer of %lld bytes cannot hold the %lld bytes it "
                         "announces",
                         (long long)n, (long long)want);
  }
  return ZCP_OK;
}
