#ifndef CATPOOL_SUPPORT_H
#define CATPOOL_SUPPORT_H

#include <stdint.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/// Asks the CPU to start loading the cache line at `address` for writing, without waiting.
/// The detector's tables are larger than the caches; issuing these a few records ahead
/// overlaps the misses instead of paying them one after another.
static inline __attribute__((always_inline)) void catpool_prefetch(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// `catpool_match16` without SSE2, a byte at a time: what other processors run, compiled
/// on every one so the tests compare it with the SSE2 path (FieldSplitTests).
static inline __attribute__((always_inline)) uint32_t catpool_match16_portable(
    const void *address, uint8_t byte) {
    const uint8_t *bytes = (const uint8_t *)address;
    uint32_t mask = 0;
    for (int index = 0; index < 16; index++) {
        mask |= (uint32_t)(bytes[index] == byte) << index;
    }
    return mask;
}

/// Bit i set when byte i of the 16 at `address` equals `byte`: the delimiter search of the
/// CSV splitter, one compare and one mask for sixteen bytes (SSE2, in every x86-64).
static inline __attribute__((always_inline)) uint32_t catpool_match16(const void *address,
                                                                      uint8_t byte) {
#if defined(__SSE2__)
    __m128i bytes = _mm_loadu_si128((const __m128i *)address);
    return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8((char)byte)));
#else
    return catpool_match16_portable(address, byte);
#endif
}

/// The calling thread's kernel id (Linux), for per-thread scheduling priority.
static inline pid_t catpool_thread_id(void) {
    return (pid_t)syscall(SYS_gettid);
}

/// Makes blocks of `bytes` or more come from mmap, and go back to the system when freed.
/// glibc raises its threshold to the largest block freed (up to 32 MiB), so without this a
/// table that doubles leaves its old half in the heap, resident. A no-op off glibc.
static inline void catpool_map_blocks_from(int bytes) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, bytes);
#endif
}

#endif
