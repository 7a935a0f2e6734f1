/* The floor under any reader of a .zst file: libzstd's streaming decode alone, in one thread,
 * as catpool's reader runs it (1 MiB read(2) buffers in, 1 MiB buffers out), writing nowhere.
 *
 *   cc -O2 -o zstd-decode-floor Benchmarks/zstd-decode-floor.c -lzstd
 *   ./zstd-decode-floor DAY.csv.zst        # prints the decoded byte count
 *
 * A file of one zstd frame can only be decoded front to back (each block refers to the
 * bytes before it), so no program reading it, however many cores it has, finishes sooner
 * than this one does. Pipelines/bench.sh times it beside `zstd -dc`, catpool and DuckDB. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zstd.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: zstd-decode-floor FILE.zst\n");
        return 64;
    }
    int input = open(argv[1], O_RDONLY);
    if (input < 0) {
        perror(argv[1]);
        return 66;
    }
    const size_t size = 1 << 20;
    char *in = malloc(size), *out = malloc(size);
    ZSTD_DCtx *context = ZSTD_createDCtx();
    if (!in || !out || !context) {
        fprintf(stderr, "zstd-decode-floor: out of memory\n");
        return 71;
    }
    unsigned long long decoded = 0;
    size_t pending = 0; /* nonzero while a frame is unfinished */
    ssize_t count;
    while ((count = read(input, in, size)) > 0) {
        ZSTD_inBuffer from = {in, (size_t)count, 0};
        while (from.pos < from.size) {
            ZSTD_outBuffer to = {out, size, 0};
            pending = ZSTD_decompressStream(context, &to, &from);
            if (ZSTD_isError(pending)) {
                fprintf(stderr, "%s: %s\n", argv[1], ZSTD_getErrorName(pending));
                return 65;
            }
            decoded += to.pos;
        }
    }
    if (count < 0) {
        perror(argv[1]);
        return 74;
    }
    if (pending != 0) {
        fprintf(stderr, "%s: truncated zstd input\n", argv[1]);
        return 65;
    }
    printf("%llu\n", decoded);
    ZSTD_freeDCtx(context);
    free(in);
    free(out);
    close(input);
    return 0;
}
