/* libzstd's streaming decode alone, in one thread, called as catpool's reader calls it
 * (256 KiB read(2) buffers, at most 16 KiB of compressed input a call, 1 MiB buffers out),
 * writing nowhere: the floor under catpool, and near it under any program using libzstd.
 *
 *   cc -O2 -o zstd-decode-floor Benchmarks/zstd-decode-floor.c -lzstd
 *   ./zstd-decode-floor DAY.csv.zst        # prints the decoded byte count
 *
 * A file of one zstd frame can only be decoded front to back (each block refers to the
 * bytes before it), so more cores do not help; only a faster decoder, or one that skips
 * verifying the frame's checksum, could finish a little sooner. Pipelines/bench.sh times it
 * beside `zstd -dc`, catpool and DuckDB. */
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
    const size_t readSize = 256 << 10, sliceSize = 16 << 10, outSize = 1 << 20;
    char *in = malloc(readSize), *out = malloc(outSize);
    ZSTD_DCtx *context = ZSTD_createDCtx();
    if (!in || !out || !context) {
        fprintf(stderr, "zstd-decode-floor: out of memory\n");
        return 71;
    }
    unsigned long long decoded = 0;
    size_t pending = 0; /* nonzero while a frame is unfinished */
    ssize_t count;
    while ((count = read(input, in, readSize)) > 0) {
        for (size_t start = 0; start < (size_t)count; start += sliceSize) {
            size_t end = start + sliceSize < (size_t)count ? start + sliceSize : (size_t)count;
            ZSTD_inBuffer from = {in + start, end - start, 0};
            /* Until the slice is used up and libzstd has nothing more to give for it. */
            for (;;) {
                ZSTD_outBuffer to = {out, outSize, 0};
                pending = ZSTD_decompressStream(context, &to, &from);
                if (ZSTD_isError(pending)) {
                    fprintf(stderr, "%s: %s\n", argv[1], ZSTD_getErrorName(pending));
                    return 65;
                }
                decoded += to.pos;
                if (from.pos == from.size && to.pos < to.size) break;
            }
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
