#include <zlib.h>

/* inflateInit2 is a macro that Swift cannot import; this wrapper passes the
   header's version and struct size exactly as the macro would. */
static inline int catpool_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
