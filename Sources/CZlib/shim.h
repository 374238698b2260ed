#ifndef SIFT_CZLIB_SHIM_H
#define SIFT_CZLIB_SHIM_H
#include <zlib.h>

/// inflateInit2 is a macro, which Swift cannot call: start inflating gzip members (not zlib or raw deflate).
static inline int sift_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 16 + MAX_WBITS);
}
#endif
