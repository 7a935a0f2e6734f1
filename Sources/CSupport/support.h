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

/// `catpool_digits16` a byte at a time: what other processors run, compiled on every one so
/// the tests compare it with the SSE2 path (PackedDigitsTests).
static inline uint64_t catpool_digits16_portable(const void *end, int count) {
    const uint8_t *digits = (const uint8_t *)end - count;
    uint64_t value = 0;
    for (int index = 0; index < count; index++) {
        uint8_t digit = (uint8_t)(digits[index] - '0');
        if (digit > 9) return UINT64_MAX;
        value = value * 10 + digit;
    }
    return value;
}

/// The value of the `count` (1 to 16) ASCII digits that end at `end`, or UINT64_MAX when one
/// of them is not a digit. The 16 bytes before `end` must be readable; those before the
/// digits are ignored. One 16-byte load and three multiply-adds (SSE2, in every x86-64), where
/// two 8-byte words and their tails took about 80 instructions a number: the parser reads
/// four numbers a line.
static inline __attribute__((always_inline)) uint64_t catpool_digits16(const void *end,
                                                                       int count) {
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    const __m128i positions =
        _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m128i bytes = _mm_loadu_si128((const __m128i *)((const uint8_t *)end - 16));
    // Byte values 0-9 for digits, 10-255 for anything else; zero before the digits.
    __m128i digits = _mm_sub_epi8(bytes, _mm_set1_epi8('0'));
    digits = _mm_and_si128(digits, _mm_cmpgt_epi8(positions, _mm_set1_epi8((char)(15 - count))));
    __m128i excess = _mm_subs_epu8(digits, _mm_set1_epi8(9));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(excess, zero)) != 0xFFFF) return UINT64_MAX;
    // Most significant digit first: 16 digits, then 8 pairs (10a + b), 4 quads (100a + b),
    // 2 halves (10000a + b), each step a multiply-add of neighbouring lanes.
    const __m128i tens = _mm_set1_epi32(0x0001000A);
    __m128i pairs = _mm_packs_epi32(_mm_madd_epi16(_mm_unpacklo_epi8(digits, zero), tens),
                                    _mm_madd_epi16(_mm_unpackhi_epi8(digits, zero), tens));
    __m128i quads = _mm_madd_epi16(pairs, _mm_set1_epi32(0x00010064));
    __m128i halves = _mm_madd_epi16(_mm_packs_epi32(quads, quads), _mm_set1_epi32(0x00012710));
    uint64_t high = (uint32_t)_mm_cvtsi128_si32(halves);
    uint64_t low = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(halves, 4));
    return high * 100000000 + low;
#else
    return catpool_digits16_portable(end, count);
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
